//! The account pages of any signed-in user: profile and language, password, other
//! sessions, officers' notification choice, sign-out. The data rights (export, phone,
//! e-mail change, deletion) are in `rights.rs`; documents, for whoever may see them, in
//! `documents.rs`.

pub mod documents;
pub mod rights;

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Form};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::csrf;
use crate::domain::Locale;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, ChangePasswordOutcome};
use crate::web::auth::{parse_name, parse_password_field, user_agent, with_flash, with_new_session};
use crate::web::cookies;
use crate::web::extract::SignedIn;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(account_page)
        .service(profile_submit)
        .service(password_submit)
        .service(end_other_sessions)
        .service(notifications_submit)
        .service(logout);
    rights::configure(cfg);
    documents::configure(cfg);
}

// ----- the account page -----

#[derive(Template)]
#[template(path = "account/account.html")]
pub(crate) struct AccountPage {
    pub(crate) ctx: PageContext,
    pub(crate) full_name: String,
    pub(crate) email: String,
    pub(crate) locale: Locale,
    pub(crate) other_sessions: i64,
    pub(crate) notify_pref: String,
    pub(crate) profile_errors: FormErrors,
    pub(crate) password_errors: FormErrors,
    /// Residents: the phone on their newest application; `None` when they have none.
    pub(crate) phone: Option<String>,
    pub(crate) phone_errors: FormErrors,
    pub(crate) new_email: String,
    pub(crate) email_errors: FormErrors,
    pub(crate) delete_errors: FormErrors,
}

impl AccountPage {
    pub(crate) async fn load(state: &AppState, ctx: PageContext, user: &SignedIn) -> AppResult<Self> {
        let (sessions, notify_pref, phone) = accounts::account_overview(state, user.user_id.clone()).await?;
        Ok(Self {
            ctx,
            full_name: user.full_name.clone(),
            email: user.email.clone(),
            locale: user.locale,
            other_sessions: (sessions - 1).max(0),
            notify_pref,
            profile_errors: FormErrors::default(),
            password_errors: FormErrors::default(),
            phone: phone.map(Option::unwrap_or_default),
            phone_errors: FormErrors::default(),
            new_email: String::new(),
            email_errors: FormErrors::default(),
            delete_errors: FormErrors::default(),
        })
    }
}

#[get("/account")]
async fn account_page(state: Data<AppState>, ctx: PageContext, user: SignedIn) -> AppResult<HttpResponse> {
    ok(&AccountPage::load(&state, ctx, &user).await?)
}

#[derive(Deserialize)]
struct ProfileForm {
    full_name: String,
    locale: String,
}

#[post("/account/profile")]
async fn profile_submit(
    state: Data<AppState>,
    ctx: PageContext,
    user: SignedIn,
    form: Form<ProfileForm>,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let name = parse_name(&form.full_name, &mut errors);
    let locale = form.locale.parse::<Locale>().ok();
    if locale.is_none() {
        errors.add("locale", "form.locale.invalid");
    }
    let (Some(name), Some(locale)) = (name, locale) else {
        let mut page = AccountPage::load(&state, ctx, &user).await?;
        page.full_name = form.full_name.clone();
        page.profile_errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    accounts::update_profile(&state, user.user_id.clone(), user.role, name, locale, user.ip.clone()).await?;
    with_flash(&state, see_other("/account"), "profile_saved")
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

#[post("/account/password")]
async fn password_submit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: SignedIn,
    form: Form<PasswordForm>,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let new = parse_password_field("new_password", &form.new_password, &[&user.email, &user.full_name], &mut errors);
    let outcome = match new {
        Some(new) => Some(
            accounts::change_password(
                &state,
                user.user_id.clone(),
                &form.current_password,
                &new,
                user.ip.clone(),
                user_agent(&req),
            )
            .await?,
        ),
        None => None,
    };
    match outcome {
        Some(ChangePasswordOutcome::Changed { token }) => {
            let res = with_flash(&state, see_other("/account"), "password_changed")?;
            with_new_session(&state, res, &token)
        }
        other => {
            if matches!(other, Some(ChangePasswordOutcome::WrongCurrent)) {
                errors.add("current_password", "form.password.wrong_current");
            }
            let mut page = AccountPage::load(&state, ctx, &user).await?;
            page.password_errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[post("/account/sessions/end-others")]
async fn end_other_sessions(state: Data<AppState>, user: SignedIn) -> AppResult<HttpResponse> {
    accounts::end_other_sessions(&state, user.user_id.clone(), user.role, user.session_id.clone(), user.ip.clone())
        .await?;
    with_flash(&state, see_other("/account"), "sessions_ended")
}

#[derive(Deserialize)]
struct NotificationsForm {
    notify: String,
}

/// Officers choose how they hear of new applications: at once, a daily digest, or not.
#[post("/account/notifications")]
async fn notifications_submit(
    state: Data<AppState>,
    user: SignedIn,
    form: Form<NotificationsForm>,
) -> AppResult<HttpResponse> {
    if user.role != crate::domain::Role::Officer {
        return Err(AppError::Forbidden);
    }
    let pref = accounts::NOTIFY_PREFS
        .iter()
        .find(|p| **p == form.notify)
        .ok_or(AppError::BadRequest("unknown notification choice"))?;
    accounts::set_notify_pref(&state, user.user_id.clone(), user.role, pref, user.ip.clone()).await?;
    with_flash(&state, see_other("/account"), "notifications_saved")
}

// ----- sign-out -----

#[post("/logout")]
async fn logout(state: Data<AppState>, user: SignedIn) -> AppResult<HttpResponse> {
    accounts::logout(&state, user.session_id.clone(), user.user_id.clone(), user.role, user.ip.clone()).await?;
    let names = cookies::names(&state.settings);
    let mut res = see_other("/");
    res.add_cookie(&cookies::removal(&state.settings, names.session)).map_err(AppError::internal)?;
    res.add_cookie(&cookies::csrf(&state.settings, csrf::new_cookie_value())).map_err(AppError::internal)?;
    with_flash(&state, res, "signed_out")
}
