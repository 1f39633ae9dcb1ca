//! The police station's desk (`/officer/desk`): an officer takes an application in person
//! for a resident without e-mail or a phone that photographs documents, prints the receipt
//! with the claim code and, once approved, the membership card; the desk notices list the
//! decisions to tell such residents by phone or at the desk.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use chrono::NaiveDate;

use crate::app::AppState;
use crate::db::models::Group;
use crate::domain::application::{Dni, Status};
use crate::domain::membership::{self, MembershipStatus};
use crate::domain::notice::NoticeKind;
use crate::domain::{ApplicationId, Email, MembershipId};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::services::desk::{self, DeskEntry, DeskRenewal, Receipt, RenewOutcome, TakeOutcome};
use crate::services::notices::{self, NoticeRow};
use crate::services::review::Reviewer;
use crate::tk;
use crate::web::auth::{parse_email, parse_name};
use crate::web::cookies;
use crate::web::extract::Officer;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};
use crate::web::resident::applications::{FILE_FIELDS, check_request_size, megabytes, take_application_fields};
use crate::web::resident::memberships::{CardPage, qr_response, take_renewal_fields, verification_link};
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(desk_form)
        .service(take)
        .service(notices_page)
        .service(told)
        .service(receipt)
        .service(new_code)
        .service(card)
        .service(card_qr)
        .service(renew_form)
        .service(renew);
}

fn reviewer(user: &Officer) -> Reviewer {
    Reviewer { user_id: user.user_id.clone(), ip: user.ip.clone() }
}

// ----- taking an application -----

#[derive(Template)]
#[template(path = "officer/desk.html")]
struct DeskPage {
    ctx: PageContext,
    /// The officer's active groups.
    groups: Vec<Group>,
    group: String,
    full_name: String,
    dni: String,
    street_address: String,
    phone: String,
    email: String,
    certificate_issued_on: String,
    paper_consent: bool,
    errors: FormErrors,
    max_mb: String,
    /// An account with this DNI or e-mail exists already; where the officer may see it.
    existing: Option<Option<String>>,
    /// The renewal the officer may take at the desk for that account instead.
    renewal: Option<String>,
}

impl DeskPage {
    fn blank(ctx: PageContext, groups: Vec<Group>, max_upload_bytes: usize) -> Self {
        Self {
            ctx,
            groups,
            group: String::new(),
            full_name: String::new(),
            dni: String::new(),
            street_address: String::new(),
            phone: String::new(),
            email: String::new(),
            certificate_issued_on: String::new(),
            paper_consent: false,
            errors: FormErrors::default(),
            max_mb: megabytes(max_upload_bytes),
            existing: None,
            renewal: None,
        }
    }

    /// The largest certificate age among the officer's groups, for the hint.
    fn max_age_days(&self) -> String {
        self.groups.iter().map(|g| g.certificate_max_age_days).max().unwrap_or(90).to_string()
    }
}

async fn active_groups(state: &AppState, user: &Officer) -> AppResult<Vec<Group>> {
    desk::groups(state, user.user_id.clone()).await
}

#[get("/officer/desk")]
async fn desk_form(state: Data<AppState>, ctx: PageContext, user: Officer) -> AppResult<HttpResponse> {
    let groups = active_groups(&state, &user).await?;
    ok(&DeskPage::blank(ctx, groups, state.settings.max_upload_bytes))
}

/// Takes the application: the same fields and checks as the online form (address, DNI,
/// phone, certificate date, the three documents), plus the person's name, an optional
/// e-mail address and the tick for the paper consent. Every problem at once, 422, nothing
/// stored. A group that is not one of the officer's active groups is not found.
#[post("/officer/desk")]
async fn take(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Officer,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let mut form = upload::read(&state.uploads, &req, multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let groups = active_groups(&state, &user).await?;
    let slug = form.text("group").to_string();
    let group = groups.iter().find(|g| g.slug == slug).cloned().ok_or(AppError::NotFound)?;
    let now = state.clock.now();

    let mut errors = FormErrors::default();
    let full_name = parse_name(form.text("full_name"), &mut errors);
    let email_raw = form.text("email").trim().to_string();
    let email: Option<Option<Email>> =
        if email_raw.is_empty() { Some(None) } else { parse_email(&email_raw, &mut errors).map(Some) };
    let fields = take_application_fields(&mut form, &group, state.settings.zone.today(now), &mut errors).await;
    let paper_consent = form.text("paper_consent") == "yes";
    if !paper_consent {
        errors.add("paper_consent", "desk.error.paper_consent");
    }

    let mut page = DeskPage {
        group: slug,
        full_name: form.text("full_name").to_string(),
        dni: form.text("dni").to_string(),
        street_address: form.text("street_address").to_string(),
        phone: form.text("phone").to_string(),
        email: email_raw,
        certificate_issued_on: form.text("certificate_issued_on").to_string(),
        paper_consent,
        ..DeskPage::blank(ctx, groups, state.settings.max_upload_bytes)
    };
    let (Some(full_name), Some(email), Some(fields), true) = (full_name, email, fields, errors.is_empty()) else {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let entry = DeskEntry { full_name, email, application: fields.into_application(&group, None) };
    match desk::take(&state, reviewer(&user), entry).await? {
        TakeOutcome::Taken { id, code } => {
            let mut res = see_other(&format!("/officer/desk/{id}/receipt"));
            res.add_cookie(&cookies::desk_code(&state.settings, format!("{id}:{}", code.expose())))
                .map_err(AppError::internal)?;
            Ok(res)
        }
        TakeOutcome::Existing { link, renewal } => {
            page.existing = Some(link);
            page.renewal = renewal.map(|m| format!("/officer/desk/renew/{m}"));
            render(StatusCode::CONFLICT, &page)
        }
    }
}

// ----- renewal at the desk -----

#[derive(Template)]
#[template(path = "officer/desk_renew.html")]
struct RenewPage {
    ctx: PageContext,
    r: DeskRenewal,
    street_address: String,
    certificate_issued_on: String,
    paper_consent: bool,
    errors: FormErrors,
    max_mb: String,
}

impl RenewPage {
    fn new(ctx: PageContext, r: DeskRenewal, max_upload_bytes: usize) -> Self {
        Self {
            ctx,
            street_address: r.previous.street_address.clone(),
            r,
            certificate_issued_on: String::new(),
            paper_consent: false,
            errors: FormErrors::default(),
            max_mb: megabytes(max_upload_bytes),
        }
    }

    fn dni(&self) -> String {
        Dni::formatted(&self.r.previous.dni)
    }
}

/// The renewal form for a member without e-mail, who cannot renew online: their membership
/// in one of the officer's groups, open for renewal, of an account made at the desk and not
/// claimed. With an application already open it links to it instead.
#[get("/officer/desk/renew/{id}")]
async fn renew_form(
    state: Data<AppState>,
    ctx: PageContext,
    user: Officer,
    id: Path<MembershipId>,
) -> AppResult<HttpResponse> {
    let r = desk::renewal(&state, id.into_inner(), user.user_id.clone()).await?;
    ok(&RenewPage::new(ctx, r, state.settings.max_upload_bytes))
}

/// Takes the renewal: the online renewal's fields and checks, plus the tick for the paper
/// consent; 303 to the receipt. The taking officer cannot approve it.
#[post("/officer/desk/renew/{id}")]
async fn renew(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Officer,
    id: Path<MembershipId>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let mut form = upload::read(&state.uploads, &req, multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let id = id.into_inner();
    let r = desk::renewal(&state, id.clone(), user.user_id.clone()).await?;
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let fields = take_renewal_fields(
        &mut form,
        &r.membership,
        &r.group,
        &r.previous,
        state.settings.zone.today(now),
        &mut errors,
    )
    .await?;
    let paper_consent = form.text("paper_consent") == "yes";
    if !paper_consent {
        errors.add("paper_consent", "desk.error.paper_consent");
    }
    let mut page = RenewPage {
        street_address: form.text("street_address").to_string(),
        certificate_issued_on: form.text("certificate_issued_on").to_string(),
        paper_consent,
        ..RenewPage::new(ctx, r, state.settings.max_upload_bytes)
    };
    let (Some(new), true) = (fields, errors.is_empty()) else {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    match desk::renew(&state, reviewer(&user), id, new).await? {
        RenewOutcome::Taken { id } => Ok(see_other(&format!("/officer/desk/{id}/receipt"))),
        RenewOutcome::AlreadyOpen { id } => {
            page.r.open = Some(id);
            render(StatusCode::CONFLICT, &page)
        }
    }
}

// ----- the receipt -----

#[derive(Template)]
#[template(path = "officer/desk_receipt.html")]
struct ReceiptPage {
    ctx: PageContext,
    r: Receipt,
    /// The claim code, on the first view after the application was taken only.
    code: Option<String>,
    /// Where the resident claims the account.
    claim_link: String,
}

impl ReceiptPage {
    fn dni(&self) -> String {
        Dni::formatted(&self.r.application.dni)
    }

    /// The application's number as the resident quotes it at the desk.
    fn number(&self) -> String {
        self.r.application.id.chars().take(8).collect::<String>().to_uppercase()
    }

    fn claimed(&self) -> bool {
        self.r.claim.as_ref().is_some_and(|c| c.used_at.is_some())
    }

    fn code_valid_until(&self) -> String {
        let until = self.r.claim.as_ref().map(|c| c.expires_at).unwrap_or(self.r.application.created_at);
        self.ctx.day_of(until)
    }

    fn submitted_on(&self) -> String {
        self.ctx.day_of(self.r.application.submitted_at)
    }

    fn approved(&self) -> bool {
        self.r.application.status == Status::Approved
    }
}

#[get("/officer/desk/{id}/receipt")]
async fn receipt(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Officer,
    id: Path<ApplicationId>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let r = desk::receipt(&state, id.clone(), user.user_id.clone()).await?;
    let name = cookies::names(&state.settings).desk_code;
    let carried = req.cookie(name).map(|c| c.value().to_string());
    let code = carried.as_deref().and_then(|v| v.split_once(':')).and_then(|(for_id, code)| {
        (for_id == id.as_str() && r.claim.as_ref().is_none_or(|c| c.used_at.is_none()))
            .then(|| crate::domain::claim_code::ClaimCode::parse(code))
            .flatten()
            .map(|c| c.display())
    });
    let claim_link = state.settings.link("/claim");
    let mut res = ok(&ReceiptPage { ctx, r, code, claim_link })?;
    if carried.is_some() {
        // Shown once: the database keeps only its hash.
        res.add_cookie(&cookies::removal(&state.settings, name)).map_err(AppError::internal)?;
    }
    Ok(res)
}

/// A new code for an account not yet claimed; the old one stops working.
#[post("/officer/desk/{id}/code")]
async fn new_code(state: Data<AppState>, user: Officer, id: Path<ApplicationId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let code = desk::new_code(&state, id.clone(), reviewer(&user)).await?;
    let mut res = see_other(&format!("/officer/desk/{id}/receipt"));
    res.add_cookie(&cookies::desk_code(&state.settings, format!("{id}:{}", code.expose())))
        .map_err(AppError::internal)?;
    Ok(res)
}

// ----- the card -----

#[get("/officer/desk/{id}/card")]
async fn card(
    state: Data<AppState>,
    ctx: PageContext,
    user: Officer,
    id: Path<ApplicationId>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (m, group, member) = desk::card(&state, id.clone(), user.user_id.clone()).await?;
    let verify_link = verification_link(&state, &m);
    ok(&CardPage {
        ctx,
        member_name: member.full_name,
        qr_src: format!("/officer/desk/{id}/card/qr.svg"),
        back: format!("/officer/desk/{id}/receipt"),
        for_member: false,
        renewal_open: false,
        verify_link,
        m,
        group,
    })
}

#[get("/officer/desk/{id}/card/qr.svg")]
async fn card_qr(state: Data<AppState>, user: Officer, id: Path<ApplicationId>) -> AppResult<HttpResponse> {
    let (m, _, _) = desk::card(&state, id.into_inner(), user.user_id.clone()).await?;
    qr_response(&verification_link(&state, &m))
}

// ----- notices -----

#[derive(Template)]
#[template(path = "officer/desk_notices.html")]
struct NoticesPage {
    ctx: PageContext,
    rows: Vec<NoticeRow>,
    today: NaiveDate,
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

impl NoticesPage {
    fn since(&self, row: &NoticeRow) -> String {
        self.ctx.day_of(row.notice.created_at)
    }

    fn max(&self) -> i64 {
        notices::MAX_NOTICES
    }

    /// Where the notice's name leads: the membership it is about, else the application.
    fn link(&self, row: &NoticeRow) -> String {
        match &row.membership {
            Some(m) => format!("/officer/memberships/{}", m.id),
            None => format!("/officer/applications/{}", row.notice.application_id),
        }
    }

    /// The renewal form, for a renewal notice of a member who cannot renew online.
    fn renewal_link(&self, row: &NoticeRow) -> Option<String> {
        let m = row.membership.as_ref()?;
        let open = membership::renewal_open(m.status, m.valid_until, self.today);
        (row.notice.kind == NoticeKind::RenewalDue && row.desk_account && open)
            .then(|| format!("/officer/desk/renew/{}", m.id))
    }

    /// What to tell the person, in words. A membership's notice reads the membership as it
    /// is now: the reason is shown only while the membership is still in the state the
    /// notice reports (a suspension lifted since has no reason to give), and a renewal
    /// notice counts the days left from today, or says it lapsed or was renewed.
    fn what(&self, row: &NoticeRow) -> String {
        let l = self.ctx.locale;
        let Some(m) = &row.membership else {
            return self.ctx.tp("desk.notices.kind.", row.notice.kind.as_str());
        };
        let reason = |status: MembershipStatus| match (&m.status_reason, m.status == status) {
            (Some(r), true) => r.clone(),
            _ => i18n::t(l, tk!("desk.notices.reason_changed")).to_string(),
        };
        let until = day(m.valid_until);
        let days = (m.valid_until - self.today).num_days();
        let number = m.number.as_str();
        match row.notice.kind {
            NoticeKind::Suspended => i18n::format(
                l,
                tk!("desk.notices.kind.suspended"),
                &[("number", number), ("reason", &reason(MembershipStatus::Suspended))],
            ),
            NoticeKind::Revoked => i18n::format(
                l,
                tk!("desk.notices.kind.revoked"),
                &[("number", number), ("reason", &reason(MembershipStatus::Revoked))],
            ),
            NoticeKind::Reinstated if m.status == MembershipStatus::Expired => {
                i18n::format(l, tk!("desk.notices.kind.reinstated_expired"), &[("number", number), ("date", &until)])
            }
            NoticeKind::Reinstated => i18n::format(l, tk!("desk.notices.kind.reinstated"), &[("number", number)]),
            NoticeKind::RenewalDue if days < 0 || m.status == MembershipStatus::Expired => {
                i18n::format(l, tk!("desk.notices.kind.renewal_lapsed"), &[("number", number), ("date", &until)])
            }
            NoticeKind::RenewalDue if days > membership::RENEWAL_WINDOW_DAYS => {
                i18n::format(l, tk!("desk.notices.kind.renewed"), &[("number", number), ("date", &until)])
            }
            NoticeKind::RenewalDue => i18n::format(
                l,
                tk!("desk.notices.kind.renewal_due"),
                &[("number", number), ("date", &until), ("days", &days.to_string())],
            ),
            other => self.ctx.tp("desk.notices.kind.", other.as_str()),
        }
    }
}

#[get("/officer/desk/notices")]
async fn notices_page(state: Data<AppState>, ctx: PageContext, user: Officer) -> AppResult<HttpResponse> {
    let rows = notices::list(&state, user.user_id.clone()).await?;
    let today = state.today();
    ok(&NoticesPage { ctx, rows, today })
}

#[post("/officer/desk/notices/{id}/told")]
async fn told(state: Data<AppState>, user: Officer, id: Path<String>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::NotFound);
    }
    notices::mark_told(&state, id, reviewer(&user)).await?;
    let mut res = see_other("/officer/desk/notices");
    res.add_cookie(&cookies::flash(&state.settings, "desk_notice_told")).map_err(AppError::internal)?;
    Ok(res)
}
