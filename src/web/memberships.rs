//! Memberships: the member's card and renewal, the public verification page, and the
//! staff's actions and removal list.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::{Application, Group, Membership, User};
use crate::domain::Role;
use crate::domain::application::{self as rules, Dni, DocumentKind};
use crate::domain::membership::{self, MembershipStatus};
use crate::error::{AppError, AppResult};
use crate::services::applications::{self, NewApplication, SubmitOutcome};
use crate::services::memberships::{self as service, PublicView, Removal, Staff, StatusChange};
use crate::web::context::RequestContext;
use crate::web::cookies;
use crate::web::extract::{Commissioner, Resident, StaffUser};
use crate::web::forms::{FormErrors, Pairs};
use crate::web::page::{PageContext, ok, render, see_other};
use crate::web::resident::applications::{
    FILE_FIELDS, check_request_size, megabytes, parse_certificate_date, take_upload,
};
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(card)
        .service(qr)
        .service(renew_form)
        .service(renew_submit)
        .service(verify)
        .service(staff_list)
        .service(staff_view)
        .service(officer_change)
        .service(commissioner_change)
        .service(officer_removals)
        .service(commissioner_removals)
        .service(officer_removed)
        .service(commissioner_removed);
}

fn flash(state: &AppState, to: &str, key: &str) -> AppResult<HttpResponse> {
    let mut res = see_other(to);
    res.add_cookie(&cookies::flash(&state.settings, key)).map_err(AppError::internal)?;
    Ok(res)
}

fn verification_link(state: &AppState, m: &Membership) -> String {
    state.settings.link(&format!("/verify/{}", m.verification_token))
}

// ----- the member -----

#[derive(Template)]
#[template(path = "resident/membership.html")]
struct CardPage {
    ctx: PageContext,
    m: Membership,
    group: Group,
    verify_link: String,
    renewal_open: bool,
}

async fn own(state: &AppState, id: String, user_id: String) -> AppResult<(Membership, Group)> {
    service::own(state, id, user_id).await
}

#[get("/memberships/{id}")]
async fn card(state: Data<AppState>, ctx: PageContext, user: Resident, id: Path<String>) -> AppResult<HttpResponse> {
    let (m, group) = own(&state, id.into_inner(), user.user_id.clone()).await?;
    let today = rules::local_today(state.clock.now());
    let status = m.status;
    let renewal_open = membership::renewal_open(status, m.valid_until, today);
    let verify_link = verification_link(&state, &m);
    ok(&CardPage { ctx, m, group, verify_link, renewal_open })
}

/// The QR code of the card: the public verification link, drawn on the server as SVG.
#[get("/memberships/{id}/qr.svg")]
async fn qr(state: Data<AppState>, user: Resident, id: Path<String>) -> AppResult<HttpResponse> {
    let (m, _) = own(&state, id.into_inner(), user.user_id.clone()).await?;
    let code = qrcode::QrCode::new(verification_link(&state, &m).as_bytes()).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(svg))
}

#[derive(Template)]
#[template(path = "resident/renew.html")]
struct RenewPage {
    ctx: PageContext,
    m: Membership,
    group: Group,
    street_address: String,
    certificate_issued_on: String,
    consent: bool,
    errors: FormErrors,
    max_mb: String,
}

/// The renewal form, from 30 days before expiry.
async fn renewable(state: &AppState, id: String, user_id: String) -> AppResult<(Membership, Group, Application)> {
    let today = rules::local_today(state.clock.now());
    state
        .db(move |c| {
            let (m, g) = service::find_for_member(c, &id, &user_id)?.ok_or(AppError::NotFound)?;
            let status: MembershipStatus = m.status;
            if !membership::renewal_open(status, m.valid_until, today) {
                return Err(AppError::NotFound);
            }
            let previous =
                crate::services::review::find_for_officer(c, &m.application_id, None)?.ok_or(AppError::NotFound)?.0;
            Ok((m, g, previous))
        })
        .await
}

#[get("/memberships/{id}/renew")]
async fn renew_form(
    state: Data<AppState>,
    ctx: PageContext,
    user: Resident,
    id: Path<String>,
) -> AppResult<HttpResponse> {
    let (m, group, previous) = renewable(&state, id.into_inner(), user.user_id.clone()).await?;
    ok(&RenewPage {
        ctx,
        m,
        group,
        street_address: previous.street_address,
        certificate_issued_on: String::new(),
        consent: false,
        errors: FormErrors::default(),
        max_mb: megabytes(state.settings.max_upload_bytes),
    })
}

/// A renewal is a short application: a new certificate, and a new proof of address only
/// when the address changed. Officers review it like any other.
#[post("/memberships/{id}/renew")]
async fn renew_submit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Resident,
    id: Path<String>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let form = upload::read(multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let (m, group, previous) = renewable(&state, id.into_inner(), user.user_id.clone()).await?;
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let address = rules::parse_address(form.text("street_address"));
    if address.is_none() {
        errors.add("street_address", "apply.error.address");
    }
    let issued_on =
        parse_certificate_date(form.text("certificate_issued_on"), now, group.certificate_max_age_days, &mut errors);
    let moved = address.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case(&previous.street_address));
    let mut uploads = vec![take_upload(&form, DocumentKind::CriminalRecord, &mut errors)];
    if moved || form.file("residency_proof").is_some() {
        uploads.push(take_upload(&form, DocumentKind::ResidencyProof, &mut errors));
    }
    let consent = form.text("consent") == "yes";
    if !consent {
        errors.add("consent", "apply.error.consent");
    }
    let page = |errors: FormErrors| RenewPage {
        ctx: ctx.clone(),
        m: m.clone(),
        group: group.clone(),
        street_address: form.text("street_address").to_string(),
        certificate_issued_on: form.text("certificate_issued_on").to_string(),
        consent,
        errors,
        max_mb: megabytes(state.settings.max_upload_bytes),
    };
    let (Some(street_address), Some(issued_on), true) = (address, issued_on, errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page(errors));
    };
    let dni =
        Dni::parse(&previous.dni).ok_or_else(|| AppError::internal(anyhow::anyhow!("stored DNI does not parse")))?;
    let new = NewApplication {
        group_id: group.id.clone(),
        street_address,
        dni,
        phone: previous.phone.clone(),
        certificate_issued_on: issued_on,
        uploads: uploads.into_iter().flatten().collect(),
        renewal_of: Some(m.id.clone()),
    };
    match applications::submit(&state, user.user_id.clone(), user.ip.clone(), new).await? {
        SubmitOutcome::Submitted { id } => flash(&state, &format!("/applications/{id}"), "renewal_submitted"),
        SubmitOutcome::AlreadyOpen { .. } => {
            let mut errors = FormErrors::default();
            errors.add("group", "apply.error.already_open");
            render(StatusCode::CONFLICT, &page(errors))
        }
        _ => Err(AppError::NotFound),
    }
}

// ----- public verification -----

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
    let view = service::check(&state, token, rctx.client_ip.clone()).await?;
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

// ----- staff -----

fn staff_of(user: &StaffUser) -> Staff {
    Staff { user_id: user.user_id.clone(), role: user.role, ip: user.ip.clone() }
}

/// Where a staff member's pages live: officers under /officer, commissioners under
/// /commissioner.
fn base(role: Role) -> &'static str {
    if role == Role::Commissioner { "/commissioner" } else { "/officer" }
}

#[derive(Template)]
#[template(path = "officer/memberships.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<(Membership, String, String)>,
    q: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[get("/officer/memberships")]
async fn staff_list(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    query: Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let staff = staff_of(&user);
    let q = query.q.clone().unwrap_or_default();
    let (q2, after) = (q.clone(), query.after.clone());
    let rows = service::staff_list(state.get_ref(), staff, q2, after).await?;
    let next = (rows.len() == 50).then(|| rows.last().map(|(m, _, _)| m.number.clone())).flatten();
    ok(&ListPage { ctx, rows, q, next })
}

#[derive(Template)]
#[template(path = "officer/membership.html")]
struct StaffPage {
    ctx: PageContext,
    m: Membership,
    group: Group,
    member: User,
    base: &'static str,
    errors: FormErrors,
}

async fn staff_page(
    state: &AppState,
    ctx: PageContext,
    user: &StaffUser,
    id: String,
    errors: FormErrors,
) -> AppResult<StaffPage> {
    let staff = staff_of(user);
    let (m, group, member) = service::staff_view(state, id, staff).await?;
    Ok(StaffPage { ctx, m, group, member, base: base(user.role), errors })
}

#[get("/officer/memberships/{id}")]
async fn staff_view(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    id: Path<String>,
) -> AppResult<HttpResponse> {
    ok(&staff_page(&state, ctx, &user, id.into_inner(), FormErrors::default()).await?)
}

async fn change(
    state: &AppState,
    ctx: PageContext,
    user: StaffUser,
    id: String,
    action: &str,
    form: &Pairs,
) -> AppResult<HttpResponse> {
    let change = StatusChange::parse(action).ok_or(AppError::NotFound)?;
    let reason = form.get("reason").trim().to_string();
    if change.needs_reason() && (reason.is_empty() || reason.chars().count() > 500) {
        let mut errors = FormErrors::default();
        errors.add("reason", "membership.error.reason");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &staff_page(state, ctx, &user, id, errors).await?);
    }
    let reason = (!reason.is_empty()).then_some(reason);
    service::change_status(state, staff_of(&user), id.clone(), change, reason).await?;
    flash(state, &format!("/officer/memberships/{id}"), &format!("membership_{action}"))
}

#[post("/officer/memberships/{id}/{action}")]
async fn officer_change(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    path: Path<(String, String)>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    change(&state, ctx, user, id, &action, &form).await
}

#[post("/commissioner/memberships/{id}/{action}")]
async fn commissioner_change(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    path: Path<(String, String)>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    change(&state, ctx, StaffUser(user.0), id, &action, &form).await
}

#[derive(Template)]
#[template(path = "officer/removals.html")]
struct RemovalsPage {
    ctx: PageContext,
    rows: Vec<Removal>,
    base: &'static str,
}

async fn removals_page(state: &AppState, ctx: PageContext, user: StaffUser) -> AppResult<HttpResponse> {
    let staff = staff_of(&user);
    let rows = service::removal_list(state, staff).await?;
    ok(&RemovalsPage { ctx, rows, base: base(user.role) })
}

#[get("/officer/removals")]
async fn officer_removals(
    state: Data<AppState>,
    ctx: PageContext,
    user: crate::web::extract::Officer,
) -> AppResult<HttpResponse> {
    removals_page(&state, ctx, StaffUser(user.0)).await
}

#[get("/commissioner/removals")]
async fn commissioner_removals(state: Data<AppState>, ctx: PageContext, user: Commissioner) -> AppResult<HttpResponse> {
    removals_page(&state, ctx, StaffUser(user.0)).await
}

#[post("/officer/removals/{id}/done")]
async fn officer_removed(
    state: Data<AppState>,
    user: crate::web::extract::Officer,
    id: Path<String>,
) -> AppResult<HttpResponse> {
    let user = StaffUser(user.0);
    service::mark_removed(&state, staff_of(&user), id.into_inner()).await?;
    flash(&state, "/officer/removals", "membership_removed")
}

#[post("/commissioner/removals/{id}/done")]
async fn commissioner_removed(state: Data<AppState>, user: Commissioner, id: Path<String>) -> AppResult<HttpResponse> {
    let user = StaffUser(user.0);
    service::mark_removed(&state, staff_of(&user), id.into_inner()).await?;
    flash(&state, "/commissioner/removals", "membership_removed")
}
