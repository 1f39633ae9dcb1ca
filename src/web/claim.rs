//! Claiming an account made at the police station's desk (`/claim`): the resident types the
//! DNI and the code printed on the receipt; with both right, a second form sets an e-mail
//! address (confirmed by mail, as at registration) and a password. Wrong attempts are
//! throttled like sign-in, and an unknown DNI, a wrong, used or expired code all get the
//! same answer.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Form};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::desk::{self, ClaimCheck, ClaimOutcome};
use crate::web::auth::{parse_email, parse_new_password, wait_text};
use crate::web::context::RequestContext;
use crate::web::cookies;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(claim_form).service(check).service(account);
}

#[derive(Template)]
#[template(path = "auth/claim.html")]
struct ClaimPage {
    ctx: PageContext,
    dni: String,
    /// Carried to the second form, which checks it again.
    code: String,
    /// DNI and code were right: the form for the address and password.
    second: bool,
    email: String,
    error: Option<String>,
    errors: FormErrors,
}

impl ClaimPage {
    fn first(ctx: PageContext, dni: &str) -> Self {
        Self {
            ctx,
            dni: dni.trim().to_string(),
            code: String::new(),
            second: false,
            email: String::new(),
            error: None,
            errors: FormErrors::default(),
        }
    }
}

#[derive(Deserialize)]
struct CheckForm {
    dni: String,
    code: String,
}

#[derive(Deserialize)]
struct AccountForm {
    dni: String,
    code: String,
    email: String,
    password: String,
}

#[get("/claim")]
async fn claim_form(ctx: PageContext) -> AppResult<HttpResponse> {
    ok(&ClaimPage::first(ctx, ""))
}

/// The one answer to a wrong DNI or code, and the one to too many of them.
fn refused(
    state: &AppState,
    ctx: PageContext,
    dni: &str,
    throttled_until: Option<chrono::NaiveDateTime>,
) -> AppResult<HttpResponse> {
    let mut page = ClaimPage::first(ctx, dni);
    match throttled_until {
        None => {
            page.error = Some(page.ctx.t("claim.invalid").to_string());
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Some(retry_at) => {
            let secs = (retry_at - state.clock.now()).num_seconds().max(1);
            page.error = Some(page.ctx.tf("claim.throttled", "wait", &wait_text(page.ctx.locale, secs)));
            let mut res = render(StatusCode::TOO_MANY_REQUESTS, &page)?;
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(res)
        }
    }
}

#[post("/claim")]
async fn check(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    form: Form<CheckForm>,
) -> AppResult<HttpResponse> {
    match desk::check_claim(&state, &form.dni, &form.code, rctx.client_ip.clone()).await? {
        ClaimCheck::Valid { .. } => {
            let page =
                ClaimPage { code: form.code.trim().to_string(), second: true, ..ClaimPage::first(ctx, &form.dni) };
            ok(&page)
        }
        ClaimCheck::Invalid => refused(&state, ctx, &form.dni, None),
        ClaimCheck::Throttled { retry_at } => refused(&state, ctx, &form.dni, Some(retry_at)),
    }
}

#[post("/claim/account")]
async fn account(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    form: Form<AccountForm>,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let email = parse_email(&form.email, &mut errors);
    let password = parse_new_password(&form.password, &[form.email.trim(), form.dni.trim()], &mut errors);
    let second = |ctx: PageContext, errors: FormErrors| ClaimPage {
        code: form.code.trim().to_string(),
        second: true,
        email: form.email.trim().to_string(),
        errors,
        ..ClaimPage::first(ctx, &form.dni)
    };
    let (Some(email), Some(password)) = (email, password) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &second(ctx, errors));
    };
    match desk::claim(&state, &form.dni, &form.code, email, password, rctx.client_ip.clone()).await? {
        ClaimOutcome::Claimed => {
            let mut res = see_other("/login");
            res.add_cookie(&cookies::flash(&state.settings, "account_claimed")).map_err(AppError::internal)?;
            Ok(res)
        }
        ClaimOutcome::EmailTaken => {
            errors.add("email", "claim.error.email_taken");
            render(StatusCode::UNPROCESSABLE_ENTITY, &second(ctx, errors))
        }
        ClaimOutcome::Invalid => refused(&state, ctx, &form.dni, None),
        ClaimOutcome::Throttled { retry_at } => refused(&state, ctx, &form.dni, Some(retry_at)),
    }
}
