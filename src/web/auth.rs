//! Getting into an account, as `templates/auth/`: registration, e-mail confirmation,
//! sign-in, password reset and the invitation link new staff open. Also what the other
//! pages share with these: the name, e-mail and password fields, the response that starts a
//! session, the redirect with a flash message and the message page.

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
use crate::services::accounts::{self, LoginOutcome, Registration, TokenOutcome};
use crate::services::staff;
use crate::web::context::RequestContext;
use crate::web::cookies;
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
        .service(forgot_form)
        .service(forgot_submit)
        .service(forgot_sent)
        .service(reset_form)
        .service(reset_submit)
        .service(invite_form)
        .service(invite_accept);
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

pub(crate) fn parse_password_field(
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

pub(crate) fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A response that starts a session: the session cookie, and a fresh CSRF cookie so no
/// token seen before sign-in stays valid after it.
pub(crate) fn with_new_session(
    state: &AppState,
    mut res: HttpResponse,
    token: &SecretToken,
) -> AppResult<HttpResponse> {
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

// ----- sign-in -----

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
pub(crate) fn wait_text(locale: Locale, seconds: i64) -> String {
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

// ----- staff invitation -----

#[derive(Template)]
#[template(path = "auth/invite.html")]
struct InvitePage {
    ctx: PageContext,
    token: String,
    name: String,
    errors: FormErrors,
}

fn invalid_invite(ctx: PageContext) -> AppResult<HttpResponse> {
    render(
        StatusCode::NOT_FOUND,
        &MessagePage { ctx, title_key: "token.invalid.title", message_key: "invite.invalid", link: None },
    )
}

#[get("/invite/{token}")]
async fn invite_form(state: Data<AppState>, ctx: PageContext, token: Path<String>) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_invite(ctx) };
    let Some(user) = accounts::token_user(&state, &t, TokenPurpose::Invite).await? else { return invalid_invite(ctx) };
    ok(&InvitePage { ctx, token: token.into_inner(), name: user.full_name, errors: FormErrors::default() })
}

#[derive(Deserialize)]
struct InviteForm {
    password: String,
}

#[post("/invite/{token}")]
async fn invite_accept(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
    form: Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let Some(t) = SecretToken::from_untrusted(&token) else { return invalid_invite(ctx) };
    let Some(user) = accounts::token_user(&state, &t, TokenPurpose::Invite).await? else { return invalid_invite(ctx) };
    let mut errors = FormErrors::default();
    let Some(password) = parse_new_password(&form.password, &[&user.email, &user.full_name], &mut errors) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &InvitePage { ctx, token: token.into_inner(), name: user.full_name, errors },
        );
    };
    match staff::accept_invite(&state, t, &password, rctx.client_ip).await? {
        TokenOutcome::Done => with_flash(&state, see_other("/login"), "invite_accepted"),
        TokenOutcome::Invalid => invalid_invite(ctx),
    }
}
