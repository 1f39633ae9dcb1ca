//! Sign-up, sign-in, password reset and the account page; the data rights are in `rights.rs`.

pub mod rights;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Data, Form, Path, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::csrf;
use crate::domain::account::{EmailProblem, NameProblem};
use crate::domain::token::{SecretToken, TokenPurpose};
use crate::domain::{Email, Locale, Password, PasswordProblem, PersonName};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, ChangePasswordOutcome, LoginOutcome, Registration, TokenOutcome};
use crate::web::context::RequestContext;
use crate::web::cookies;
use crate::web::extract::SignedIn;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, safe_next, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register_form)
        .service(register_submit)
        .service(register_sent)
        .service(confirm_form)
        .service(confirm_submit)
        .service(login_form)
        .service(login_submit)
        .service(logout)
        .service(forgot_form)
        .service(forgot_submit)
        .service(forgot_sent)
        .service(reset_form)
        .service(reset_submit)
        .service(account_page)
        .service(profile_submit)
        .service(password_submit)
        .service(end_other_sessions)
        .service(notifications_submit);
    rights::configure(cfg);
}

pub(crate) fn parse_name(raw: &str, errors: &mut FormErrors) -> Option<PersonName> {
    PersonName::parse(raw)
        .map_err(|p| {
            errors.add(
                "full_name",
                match p {
                    NameProblem::TooShort => "form.name.too_short",
                    NameProblem::TooLong => "form.name.too_long",
                    NameProblem::Invalid => "form.name.invalid",
                },
            )
        })
        .ok()
}

pub(crate) fn parse_email(raw: &str, errors: &mut FormErrors) -> Option<Email> {
    Email::parse(raw)
        .map_err(|p| {
            errors.add(
                "email",
                match p {
                    EmailProblem::Empty => "form.email.empty",
                    EmailProblem::TooLong | EmailProblem::Invalid => "form.email.invalid",
                },
            )
        })
        .ok()
}

pub(crate) fn parse_new_password(raw: &str, personal: &[&str], errors: &mut FormErrors) -> Option<Password> {
    parse_password_field("password", raw, personal, errors)
}

fn parse_password_field(
    field: &'static str,
    raw: &str,
    personal: &[&str],
    errors: &mut FormErrors,
) -> Option<Password> {
    Password::parse(raw, personal)
        .map_err(|p| {
            errors.add(
                field,
                match p {
                    PasswordProblem::TooShort => "form.password.too_short",
                    PasswordProblem::TooLong => "form.password.too_long",
                    PasswordProblem::TooCommon => "form.password.too_common",
                },
            )
        })
        .ok()
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A response that starts a session: the session cookie, and a fresh CSRF cookie so no
/// token seen before sign-in stays valid after it.
fn with_new_session(state: &AppState, mut res: HttpResponse, token: &SecretToken) -> AppResult<HttpResponse> {
    res.add_cookie(&cookies::session(&state.settings, token.expose())).map_err(AppError::internal)?;
    res.add_cookie(&cookies::csrf(&state.settings, csrf::new_cookie_value())).map_err(AppError::internal)?;
    Ok(res)
}

pub(crate) fn with_flash(state: &AppState, mut res: HttpResponse, key: &str) -> AppResult<HttpResponse> {
    res.add_cookie(&cookies::flash(&state.settings, key)).map_err(AppError::internal)?;
    Ok(res)
}

// ----- registration -----

#[derive(Template)]
#[template(path = "auth/register.html")]
struct RegisterPage {
    ctx: PageContext,
    full_name: String,
    email: String,
    errors: FormErrors,
}

#[get("/register")]
async fn register_form(ctx: PageContext) -> AppResult<HttpResponse> {
    if ctx.signed_in() {
        return Ok(see_other(ctx.home()));
    }
    ok(&RegisterPage { ctx, full_name: String::new(), email: String::new(), errors: FormErrors::default() })
}

#[derive(Deserialize)]
struct RegisterForm {
    full_name: String,
    email: String,
    password: String,
}

#[post("/register")]
async fn register_submit(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    form: Form<RegisterForm>,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let full_name = parse_name(&form.full_name, &mut errors);
    let email = parse_email(&form.email, &mut errors);
    let password = parse_new_password(&form.password, &[&form.email, &form.full_name], &mut errors);
    let (Some(full_name), Some(email), Some(password)) = (full_name, email, password) else {
        let page = RegisterPage { ctx, full_name: form.full_name.clone(), email: form.email.clone(), errors };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    accounts::register(&state, Registration { full_name, email, password }, ctx.locale, rctx.client_ip).await?;
    Ok(see_other("/register/sent"))
}

#[derive(Template)]
#[template(path = "auth/message.html")]
pub(crate) struct MessagePage {
    pub(crate) ctx: PageContext,
    pub(crate) title_key: &'static str,
    pub(crate) message_key: &'static str,
    pub(crate) link: Option<(&'static str, &'static str)>,
}

#[get("/register/sent")]
async fn register_sent(ctx: PageContext) -> AppResult<HttpResponse> {
    ok(&MessagePage { ctx, title_key: "register.sent.title", message_key: "register.sent.message", link: None })
}

// ----- email confirmation -----

#[derive(Template)]
#[template(path = "auth/confirm.html")]
struct ConfirmPage {
    ctx: PageContext,
    token: String,
}

pub(crate) fn invalid_link(ctx: PageContext) -> AppResult<HttpResponse> {
    let page = MessagePage {
        ctx,
        title_key: "token.invalid.title",
        message_key: "token.invalid.message",
        link: Some(("/login", "nav.login")),
    };
    render(StatusCode::NOT_FOUND, &page)
}

/// Shows a button rather than confirming on GET: mail scanners open links, and a
/// prefetch must not use up the token.
#[get("/email/confirm/{token}")]
async fn confirm_form(state: Data<AppState>, ctx: PageContext, token: Path<String>) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    if !accounts::link_is_live(&state, t, TokenPurpose::ConfirmEmail).await? {
        return invalid_link(ctx);
    }
    ok(&ConfirmPage { ctx, token: token.into_inner() })
}

#[post("/email/confirm/{token}")]
async fn confirm_submit(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    match accounts::confirm_email(&state, t, rctx.client_ip).await? {
        TokenOutcome::Done => with_flash(&state, see_other("/login"), "email_confirmed"),
        TokenOutcome::Invalid => invalid_link(ctx),
    }
}

// ----- sign-in and out -----

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageContext,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/login")]
async fn login_form(ctx: PageContext, q: Query<NextQuery>) -> AppResult<HttpResponse> {
    if ctx.signed_in() {
        return Ok(see_other(ctx.home()));
    }
    let next = safe_next(q.next.as_deref()).unwrap_or_default();
    ok(&LoginPage { ctx, email: String::new(), next, error: None })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// "3 min", "40 s": how long until `retry_at`.
fn wait_text(locale: Locale, seconds: i64) -> String {
    let _ = locale;
    if seconds >= 60 { format!("{} min", (seconds + 59) / 60) } else { format!("{} s", seconds.max(1)) }
}

#[post("/login")]
async fn login_submit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    rctx: RequestContext,
    form: Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let outcome =
        accounts::login(&state, &form.email, &form.password, rctx.client_ip.clone(), user_agent(&req)).await?;
    let next = safe_next(form.next.as_deref()).unwrap_or_default();
    let page = |ctx: PageContext, error: String| LoginPage {
        ctx,
        email: form.email.trim().to_string(),
        next: next.clone(),
        error: Some(error),
    };
    match outcome {
        LoginOutcome::SignedIn { token, role } => {
            let to = if next.is_empty() { role.home().to_string() } else { next.clone() };
            with_new_session(&state, see_other(&to), &token)
        }
        LoginOutcome::Invalid => {
            render(StatusCode::UNAUTHORIZED, &page(ctx.clone(), ctx.t("login.invalid").to_string()))
        }
        LoginOutcome::Unconfirmed => {
            render(StatusCode::FORBIDDEN, &page(ctx.clone(), ctx.t("login.unconfirmed").to_string()))
        }
        LoginOutcome::Inactive => {
            render(StatusCode::FORBIDDEN, &page(ctx.clone(), ctx.t("login.inactive").to_string()))
        }
        LoginOutcome::Throttled { retry_at } => {
            let secs = (retry_at - state.clock.now()).num_seconds().max(1);
            let msg = ctx.tf("login.throttled", "wait", &wait_text(ctx.locale, secs));
            let mut res = render(StatusCode::TOO_MANY_REQUESTS, &page(ctx, msg))?;
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(res)
        }
    }
}

#[post("/logout")]
async fn logout(state: Data<AppState>, user: SignedIn) -> AppResult<HttpResponse> {
    accounts::logout(&state, user.session_id.clone(), user.user_id.clone(), user.role, user.ip.clone()).await?;
    let names = cookies::names(&state.settings);
    let mut res = see_other("/");
    res.add_cookie(&cookies::removal(&state.settings, names.session)).map_err(AppError::internal)?;
    res.add_cookie(&cookies::csrf(&state.settings, csrf::new_cookie_value())).map_err(AppError::internal)?;
    with_flash(&state, res, "signed_out")
}

// ----- password reset -----

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    ctx: PageContext,
}

#[get("/password/forgot")]
async fn forgot_form(ctx: PageContext) -> AppResult<HttpResponse> {
    ok(&ForgotPage { ctx })
}

#[derive(Deserialize)]
struct ForgotForm {
    email: String,
}

#[post("/password/forgot")]
async fn forgot_submit(state: Data<AppState>, rctx: RequestContext, form: Form<ForgotForm>) -> AppResult<HttpResponse> {
    accounts::request_password_reset(&state, &form.email, rctx.client_ip).await?;
    Ok(see_other("/password/forgot/sent"))
}

#[get("/password/forgot/sent")]
async fn forgot_sent(ctx: PageContext) -> AppResult<HttpResponse> {
    ok(&MessagePage {
        ctx,
        title_key: "forgot.sent.title",
        message_key: "forgot.sent.message",
        link: Some(("/login", "nav.login")),
    })
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    ctx: PageContext,
    token: String,
    errors: FormErrors,
}

#[get("/password/reset/{token}")]
async fn reset_form(state: Data<AppState>, ctx: PageContext, token: Path<String>) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    if accounts::token_user(&state, &t, TokenPurpose::ResetPassword).await?.is_none() {
        return invalid_link(ctx);
    }
    ok(&ResetPage { ctx, token: token.into_inner(), errors: FormErrors::default() })
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

#[post("/password/reset/{token}")]
async fn reset_submit(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
    form: Form<ResetForm>,
) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_link(ctx) };
    let Some(user) = accounts::token_user(&state, &t, TokenPurpose::ResetPassword).await? else {
        return invalid_link(ctx);
    };
    let mut errors = FormErrors::default();
    let Some(password) = parse_new_password(&form.password, &[&user.email, &user.full_name], &mut errors) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &ResetPage { ctx, token: token.into_inner(), errors });
    };
    match accounts::reset_password(&state, t, &password, rctx.client_ip).await? {
        TokenOutcome::Done => {
            // Every session ended, this browser's too.
            let names = cookies::names(&state.settings);
            let mut res = see_other("/login");
            res.add_cookie(&cookies::removal(&state.settings, names.session)).map_err(AppError::internal)?;
            with_flash(&state, res, "password_reset")
        }
        TokenOutcome::Invalid => invalid_link(ctx),
    }
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
        let now = state.clock.now();
        let uid = user.user_id.clone();
        let (sessions, notify_pref, phone) = state
            .db(move |c| {
                Ok((
                    accounts::active_sessions(c, &uid, now)?,
                    accounts::notify_pref(c, &uid)?,
                    crate::services::privacy::current_phone(c, &uid)?,
                ))
            })
            .await?;
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
