//! Pages for everyone: landing with the list of groups, privacy notice, language switch,
//! first-commissioner setup, health checks, and the public membership verification the
//! card's QR code leads to.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Form, Path};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::Group;
use crate::domain::Locale;
use crate::domain::token::SecretToken;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, CreateOutcome, NewStaff};
use crate::services::groups;
use crate::services::memberships::{self, PublicView};
use crate::web::context::RequestContext;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, safe_next, see_other};
use crate::web::{assets, auth, cookies};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(privacy)
        .service(healthz)
        .service(readyz)
        .service(language)
        .service(setup_form)
        .service(setup_submit)
        .service(verify)
        .route("/static/{version}/{name}", web::get().to(assets::serve));
}

#[derive(Template)]
#[template(path = "public/index.html")]
struct IndexPage {
    ctx: PageContext,
    /// Active groups only: a closed group takes no applications.
    groups: Vec<Group>,
}

#[get("/")]
async fn index(state: Data<AppState>, ctx: PageContext) -> AppResult<HttpResponse> {
    let groups = groups::list_active(&state).await?;
    ok(&IndexPage { ctx, groups })
}

#[derive(Template)]
#[template(path = "public/privacy.html")]
struct PrivacyPage {
    ctx: PageContext,
    retention_days: i64,
}

#[get("/privacy")]
async fn privacy(state: Data<AppState>, ctx: PageContext) -> AppResult<HttpResponse> {
    ok(&PrivacyPage { ctx, retention_days: state.settings.document_retention_days })
}

pub async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}

/// Liveness: the process answers.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers too.
#[get("/readyz")]
async fn readyz(state: Data<AppState>) -> HttpResponse {
    match state.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("database unavailable")
        }
    }
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
    next: Option<String>,
}

/// The language switch on every page: a cookie for visitors, the account's setting for
/// people signed in.
#[post("/language")]
async fn language(state: Data<AppState>, ctx: RequestContext, form: Form<LanguageForm>) -> AppResult<HttpResponse> {
    let locale: Locale = form.lang.parse().map_err(|_| AppError::BadRequest("unknown language"))?;
    if let Some(user) = &ctx.user {
        accounts::set_locale(&state, user.user_id.clone(), locale).await?;
    }
    let to = safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into());
    let mut res = see_other(&to);
    res.add_cookie(&cookies::lang(&state.settings, locale.as_str())).map_err(AppError::internal)?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "public/setup.html")]
struct SetupPage {
    ctx: PageContext,
    token: String,
    full_name: String,
    email: String,
    errors: FormErrors,
}

async fn setup_open(state: &AppState, token: &SecretToken) -> AppResult<bool> {
    accounts::setup_link_is_open(state, token.clone()).await
}

#[get("/setup/{token}")]
async fn setup_form(state: Data<AppState>, ctx: PageContext, token: Path<String>) -> AppResult<HttpResponse> {
    let t = SecretToken::from_untrusted(&token).ok_or(AppError::NotFound)?;
    if !setup_open(&state, &t).await? {
        return Err(AppError::NotFound);
    }
    ok(&SetupPage {
        ctx,
        token: token.into_inner(),
        full_name: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct SetupForm {
    full_name: String,
    email: String,
    password: String,
}

#[post("/setup/{token}")]
async fn setup_submit(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
    form: Form<SetupForm>,
) -> AppResult<HttpResponse> {
    let t = SecretToken::from_untrusted(&token).ok_or(AppError::NotFound)?;
    if !setup_open(&state, &t).await? {
        return Err(AppError::NotFound);
    }
    let mut errors = FormErrors::default();
    let name = auth::parse_name(&form.full_name, &mut errors);
    let email = auth::parse_email(&form.email, &mut errors);
    let password = auth::parse_new_password(&form.password, &[&form.email, &form.full_name], &mut errors);
    let rerender = |errors: FormErrors| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                ctx: ctx.clone(),
                token: token.to_string(),
                full_name: form.full_name.clone(),
                email: form.email.clone(),
                errors,
            },
        )
    };
    let (Some(full_name), Some(email), Some(password)) = (name, email, password) else { return rerender(errors) };
    let staff = NewStaff { full_name, email, password, locale: ctx.locale };
    match accounts::setup_commissioner(&state, t, staff, rctx.client_ip).await? {
        CreateOutcome::Created { .. } => {
            let mut res = see_other("/login");
            res.add_cookie(&cookies::flash(&state.settings, "setup_done")).map_err(AppError::internal)?;
            Ok(res)
        }
        CreateOutcome::EmailTaken => {
            errors.add("email", "form.email.taken");
            rerender(errors)
        }
        CreateOutcome::Closed => Err(AppError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "public/verify.html")]
struct VerifyPage {
    ctx: PageContext,
    view: Option<PublicView>,
}

/// `GET /verify/{token}` and `/verify/{token}.json`: status, group, masked name and last
/// valid day, nothing else. Unknown tokens answer 404 with the same shape after the same
/// query. Limited per client address.
#[get("/verify/{token}")]
async fn verify(
    state: Data<AppState>,
    ctx: PageContext,
    rctx: RequestContext,
    token: Path<String>,
) -> AppResult<HttpResponse> {
    let raw = token.into_inner();
    let (token, json) = match raw.strip_suffix(".json") {
        Some(t) => (t.to_string(), true),
        None => (raw, false),
    };
    let view = memberships::check(&state, token, rctx.client_ip.clone()).await?;
    let status = if view.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let mut res = if json {
        let body = match &view {
            Some(v) => serde_json::to_value(v).map_err(AppError::internal)?,
            None => serde_json::json!({ "status": "not_found", "group": null, "name": null, "valid_until": null }),
        };
        let mut res = HttpResponse::build(status).content_type("application/json").body(body.to_string());
        // A finished answer: the error-page middleware must not turn the 404 into HTML.
        res.extensions_mut().insert(crate::web::page::RenderedPage);
        res
    } else {
        render(status, &VerifyPage { ctx, view })?
    };
    res.headers_mut()
        .insert(header::HeaderName::from_static("x-robots-tag"), header::HeaderValue::from_static("noindex, nofollow"));
    Ok(res)
}
