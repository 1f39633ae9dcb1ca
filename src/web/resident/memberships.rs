//! The resident's memberships: the card with its QR code, and the renewal.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;

use super::applications::{FILE_FIELDS, check_request_size, megabytes, parse_certificate_date, take_uploads};
use crate::app::AppState;
use crate::db::models::{Application, Group, Membership};
use crate::domain::application::{self as rules, Dni, DocumentKind};
use crate::domain::membership::{self};
use crate::domain::{MembershipId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::applications::{self, NewApplication, SubmitOutcome};
use crate::services::memberships;
use crate::web::auth::with_flash;
use crate::web::extract::Resident;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(card).service(qr).service(renew_form).service(renew_submit);
}

pub(crate) fn verification_link(state: &AppState, m: &Membership) -> String {
    state.settings.link(&format!("/verify/{}", m.verification_token))
}

/// The membership card, for its member and, printed at the desk, for an officer to hand to
/// a member without e-mail (`web::officer::desk`).
#[derive(Template)]
#[template(path = "resident/membership.html")]
pub(crate) struct CardPage {
    pub ctx: PageContext,
    pub m: Membership,
    pub group: Group,
    pub member_name: String,
    pub verify_link: String,
    pub renewal_open: bool,
    /// Where the card's QR code is drawn.
    pub qr_src: String,
    /// The link back, above the card.
    pub back: String,
    /// The member's own view: the chat link and the renewal.
    pub for_member: bool,
}

async fn own(state: &AppState, id: MembershipId, user_id: UserId) -> AppResult<(Membership, Group)> {
    memberships::own(state, id, user_id).await
}

#[get("/memberships/{id}")]
async fn card(
    state: Data<AppState>,
    ctx: PageContext,
    user: Resident,
    id: Path<MembershipId>,
) -> AppResult<HttpResponse> {
    let (m, group) = own(&state, id.into_inner(), user.user_id.clone()).await?;
    let today = state.today();
    let status = m.status;
    let renewal_open = membership::renewal_open(status, m.valid_until, today);
    let verify_link = verification_link(&state, &m);
    ok(&CardPage {
        member_name: ctx.user_name().to_string(),
        qr_src: format!("/memberships/{}/qr.svg", m.id),
        back: "/me".into(),
        for_member: true,
        ctx,
        m,
        group,
        verify_link,
        renewal_open,
    })
}

/// The QR code of the card: the public verification link, drawn on the server as SVG.
#[get("/memberships/{id}/qr.svg")]
async fn qr(state: Data<AppState>, user: Resident, id: Path<MembershipId>) -> AppResult<HttpResponse> {
    let (m, _) = own(&state, id.into_inner(), user.user_id.clone()).await?;
    qr_response(&verification_link(&state, &m))
}

/// A QR code of `link`, drawn on the server as SVG, never cached.
pub(crate) fn qr_response(link: &str) -> AppResult<HttpResponse> {
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(AppError::internal)?;
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
    /// The largest file the server takes, for the script's early size check.
    max_bytes: usize,
}

/// The renewal form, from 30 days before expiry.
async fn renewable(state: &AppState, id: MembershipId, user_id: UserId) -> AppResult<(Membership, Group, Application)> {
    memberships::renewable(state, id, user_id).await
}

#[get("/memberships/{id}/renew")]
async fn renew_form(
    state: Data<AppState>,
    ctx: PageContext,
    user: Resident,
    id: Path<MembershipId>,
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
        max_bytes: state.settings.max_upload_bytes,
    })
}

/// The renewal's fields, read and checked alike online and at the desk: the address (a new
/// proof of address when it changed, or when one is sent anyway), a new certificate and its
/// date. DNI and phone are those of the application the membership came from. Mistakes go
/// to `errors`; the application only when there were none here.
pub(crate) async fn take_renewal_fields(
    form: &mut upload::MultipartForm,
    m: &Membership,
    group: &Group,
    previous: &Application,
    today: chrono::NaiveDate,
    errors: &mut FormErrors,
) -> AppResult<Option<NewApplication>> {
    let address = rules::parse_address(form.text("street_address"));
    if address.is_none() {
        errors.add("street_address", "apply.error.address");
    }
    let issued_on =
        parse_certificate_date(form.text("certificate_issued_on"), today, group.certificate_max_age_days, errors);
    let moved = address.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case(&previous.street_address));
    let mut kinds = vec![DocumentKind::CriminalRecord];
    if moved || form.file("residency_proof").is_some() {
        kinds.push(DocumentKind::ResidencyProof);
    }
    let uploads = take_uploads(form, &kinds, errors).await;
    let (Some(street_address), Some(issued_on), true) = (address, issued_on, errors.is_empty()) else {
        return Ok(None);
    };
    let dni =
        Dni::parse(&previous.dni).ok_or_else(|| AppError::internal(anyhow::anyhow!("stored DNI does not parse")))?;
    Ok(Some(NewApplication {
        group_id: group.id.clone(),
        street_address,
        dni,
        phone: previous.phone.clone(),
        certificate_issued_on: issued_on,
        uploads: uploads.into_iter().flatten().collect(),
        renewal_of: Some(m.id.clone()),
    }))
}

/// A renewal is a short application: a new certificate, and a new proof of address only
/// when the address changed. Officers review it like any other.
#[post("/memberships/{id}/renew")]
async fn renew_submit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Resident,
    id: Path<MembershipId>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let mut form = upload::read(&state.uploads, &req, multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let (m, group, previous) = renewable(&state, id.into_inner(), user.user_id.clone()).await?;
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let fields =
        take_renewal_fields(&mut form, &m, &group, &previous, state.settings.zone.today(now), &mut errors).await?;
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
        max_bytes: state.settings.max_upload_bytes,
    };
    let (Some(new), true) = (fields, errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page(errors));
    };
    match applications::submit(&state, user.user_id.clone(), user.ip.clone(), new).await? {
        SubmitOutcome::Submitted { id } => {
            with_flash(&state, see_other(&format!("/applications/{id}")), "renewal_submitted")
        }
        SubmitOutcome::AlreadyOpen { .. } => {
            let mut errors = FormErrors::default();
            errors.add("group", "apply.error.already_open");
            render(StatusCode::CONFLICT, &page(errors))
        }
        _ => Err(AppError::NotFound),
    }
}
