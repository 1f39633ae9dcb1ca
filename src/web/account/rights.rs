//! The data subject's rights on `/account`: download my data, change phone and e-mail (the
//! confirmation link works without a session), delete my account. A form mistake re-renders
//! the account page with 422 and changes nothing.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Form, Path};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use super::AccountPage;
use crate::app::AppState;
use crate::auth::csrf;
use crate::domain::account::EmailProblem;
use crate::domain::application as rules;
use crate::domain::token::SecretToken;
use crate::domain::{Email, Role};
use crate::error::{AppError, AppResult};
use crate::services::privacy::{self, DeleteOutcome, EmailChangeOutcome, EmailChangeRequest};
use crate::web::auth::{MessagePage, invalid_link, with_flash};
use crate::web::context::RequestContext;
use crate::web::cookies;
use crate::web::extract::SignedIn;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(export)
        .service(phone_submit)
        .service(email_submit)
        .service(email_confirm_form)
        .service(email_confirm_submit)
        .service(delete_submit);
}

/// Staff ask headquarters: their accounts hold the record of their work on other people's
/// applications, which a self-service export or deletion must not hand out or erase.
fn staff_refusal(ctx: PageContext) -> AppResult<HttpResponse> {
    let page = MessagePage {
        ctx,
        title_key: "lifecycle.staff.title",
        message_key: "lifecycle.staff.message",
        link: Some(("/account", "lifecycle.staff.back")),
    };
    render(StatusCode::FORBIDDEN, &page)
}

async fn rerender(
    state: &AppState,
    ctx: PageContext,
    user: &SignedIn,
    fill: impl FnOnce(&mut AccountPage),
) -> AppResult<HttpResponse> {
    let mut page = AccountPage::load(state, ctx, user).await?;
    fill(&mut page);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

// ----- access -----

/// Everything about the resident as one JSON file (see `privacy::export`).
#[get("/account/export")]
async fn export(state: Data<AppState>, ctx: PageContext, user: SignedIn) -> AppResult<HttpResponse> {
    if user.role != Role::Resident {
        return staff_refusal(ctx);
    }
    let file = privacy::export(&state, user.user_id.clone(), user.ip.clone()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.file_name)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(file.json))
}

// ----- rectification -----

#[derive(Deserialize)]
struct PhoneForm {
    phone: String,
}

#[post("/account/phone")]
async fn phone_submit(
    state: Data<AppState>,
    ctx: PageContext,
    user: SignedIn,
    form: Form<PhoneForm>,
) -> AppResult<HttpResponse> {
    if user.role != Role::Resident {
        return Err(AppError::Forbidden);
    }
    let Ok(phone) = rules::parse_phone(&form.phone) else {
        let typed = form.phone.clone();
        return rerender(&state, ctx, &user, |p| {
            p.phone = Some(typed);
            p.phone_errors.add("phone", "apply.error.phone");
        })
        .await;
    };
    privacy::update_phone(&state, user.user_id.clone(), phone, user.ip.clone()).await?;
    with_flash(&state, see_other("/account"), "phone_saved")
}

#[derive(Deserialize)]
struct EmailForm {
    new_email: String,
    email_password: String,
}

#[post("/account/email")]
async fn email_submit(
    state: Data<AppState>,
    ctx: PageContext,
    user: SignedIn,
    form: Form<EmailForm>,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let email = Email::parse(&form.new_email)
        .map_err(|p| {
            errors.add(
                "new_email",
                match p {
                    EmailProblem::Empty => "form.email.empty",
                    EmailProblem::TooLong | EmailProblem::Invalid => "form.email.invalid",
                },
            )
        })
        .ok();
    let outcome = match email {
        Some(email) => Some(
            privacy::request_email_change(&state, user.user_id.clone(), email, &form.email_password, user.ip.clone())
                .await?,
        ),
        None => None,
    };
    match outcome {
        Some(EmailChangeRequest::Sent) => with_flash(&state, see_other("/account"), "email_change_sent"),
        other => {
            match other {
                Some(EmailChangeRequest::WrongPassword) => errors.add("email_password", "form.password.wrong_current"),
                Some(EmailChangeRequest::SameAddress) => errors.add("new_email", "lifecycle.email.same"),
                _ => {}
            }
            let typed = form.new_email.trim().to_string();
            rerender(&state, ctx, &user, |p| {
                p.new_email = typed;
                p.email_errors = errors;
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "account/email_confirm.html")]
struct EmailConfirmPage {
    ctx: PageContext,
    token: String,
}

/// A page with a button: mail scanners open links, and opening one must not change the
/// address.
#[get("/account/email/confirm/{token}")]
async fn email_confirm_form(state: Data<AppState>, ctx: PageContext, token: Path<String>) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    if !privacy::email_change_is_live(&state, t).await? {
        return invalid_link(ctx);
    }
    ok(&EmailConfirmPage { ctx, token: token.into_inner() })
}

#[post("/account/email/confirm/{token}")]
async fn email_confirm_submit(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    let (status, title_key, message_key) = match privacy::confirm_email_change(&state, t, rctx.client_ip).await? {
        EmailChangeOutcome::Changed => {
            (StatusCode::OK, "lifecycle.email.changed.title", "lifecycle.email.changed.message")
        }
        EmailChangeOutcome::Taken => {
            (StatusCode::CONFLICT, "lifecycle.email.taken.title", "lifecycle.email.taken.message")
        }
        EmailChangeOutcome::Invalid => return invalid_link(ctx),
    };
    let link = Some(if ctx.signed_in() { ("/account", "nav.account") } else { ("/login", "nav.login") });
    render(status, &MessagePage { ctx, title_key, message_key, link })
}

// ----- deletion -----

#[derive(Deserialize)]
struct DeleteForm {
    delete_password: String,
}

#[post("/account/delete")]
async fn delete_submit(
    state: Data<AppState>,
    ctx: PageContext,
    user: SignedIn,
    form: Form<DeleteForm>,
) -> AppResult<HttpResponse> {
    if user.role != Role::Resident {
        return staff_refusal(ctx);
    }
    match privacy::delete_account(&state, user.user_id.clone(), &form.delete_password, user.ip.clone()).await? {
        DeleteOutcome::Deleted => {
            // Every session ended, this browser's too.
            let names = cookies::names(&state.settings);
            let mut res = see_other("/");
            res.add_cookie(&cookies::removal(&state.settings, names.session)).map_err(AppError::internal)?;
            res.add_cookie(&cookies::csrf(&state.settings, csrf::new_cookie_value())).map_err(AppError::internal)?;
            with_flash(&state, res, "account_deleted")
        }
        DeleteOutcome::WrongPassword => {
            rerender(&state, ctx, &user, |p| p.delete_errors.add("delete_password", "form.password.wrong_current"))
                .await
        }
    }
}
