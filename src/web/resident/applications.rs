//! The resident's home page (`/me`) and applications: applying, following an application,
//! withdrawing it, answering a request for information. The upload checks here serve the
//! renewal too.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::{Application, ApplicationEvent, Document, Group, Membership};
use crate::documents::Upload;
use crate::documents::sniff::{self, ContentProblem, MediaType};
use crate::domain::application::{self as rules, CertificateDateProblem, Dni, DocumentKind, Status};
use crate::domain::day::DayError;
use crate::domain::{ApplicationId, Day, UserId};
use crate::error::{AppError, AppResult};
use crate::services::analysis::{DocumentReading, Verdict};
use crate::services::applications::{self, NewApplication, Resubmission, SubmitOutcome};
use crate::services::groups;
use crate::web::cookies;
use crate::web::extract::Resident;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render, see_other};
use crate::web::upload::{self, MultipartForm, UploadedFile};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(new_form)
        .service(submit)
        .service(show)
        .service(withdraw)
        .service(resubmit)
        .service(replace_identity);
}

pub(crate) const FILE_FIELDS: [&str; 3] = ["residency_proof", "criminal_record", "identity_document"];

// ----- home -----

#[derive(Template)]
#[template(path = "resident/me.html")]
struct HomePage {
    ctx: PageContext,
    memberships: Vec<(Membership, Group)>,
    applications: Vec<(Application, Group)>,
    groups: Vec<(Group, bool)>,
}

#[get("/me")]
async fn home(state: Data<AppState>, ctx: PageContext, user: Resident) -> AppResult<HttpResponse> {
    let home = applications::resident_home(&state, user.user_id.clone()).await?;
    ok(&HomePage { ctx, memberships: home.memberships, applications: home.applications, groups: home.groups })
}

// ----- applying -----

#[derive(Template)]
#[template(path = "resident/apply.html")]
struct ApplyPage {
    ctx: PageContext,
    group: Group,
    street_address: String,
    dni: String,
    phone: String,
    certificate_issued_on: String,
    consent: bool,
    errors: FormErrors,
    max_mb: String,
    /// The largest file the server takes, for the script's early size check.
    max_bytes: usize,
    existing: Option<ApplicationId>,
}

impl ApplyPage {
    fn blank(ctx: PageContext, group: Group, max_upload_bytes: usize) -> Self {
        Self {
            ctx,
            group,
            street_address: String::new(),
            dni: String::new(),
            phone: String::new(),
            certificate_issued_on: String::new(),
            consent: false,
            errors: FormErrors::default(),
            max_mb: megabytes(max_upload_bytes),
            max_bytes: max_upload_bytes,
            existing: None,
        }
    }
}

pub(crate) fn megabytes(bytes: usize) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb.fract() == 0.0 { format!("{mb:.0}") } else { format!("{mb:.1}") }
}

#[derive(Deserialize)]
struct NewQuery {
    group: Option<String>,
}

async fn active_group(state: &AppState, slug: String) -> AppResult<Group> {
    groups::find_active(state, slug).await
}

#[get("/applications/new")]
async fn new_form(
    state: Data<AppState>,
    ctx: PageContext,
    user: Resident,
    q: Query<NewQuery>,
) -> AppResult<HttpResponse> {
    let Some(slug) = q.group.clone() else { return Ok(see_other("/me")) };
    let group = active_group(&state, slug).await?;
    let (uid, gid) = (user.user_id.clone(), group.id.clone());
    let existing = applications::open_application_of(&state, uid, gid).await?;
    let mut page = ApplyPage::blank(ctx, group, state.settings.max_upload_bytes);
    page.existing = existing;
    ok(&page)
}

/// The largest body a form with files may have: three files and their form.
pub fn max_form_bytes(max_file: usize) -> usize {
    FILE_FIELDS.len() * max_file + 256 * 1024
}

/// Rejects a body larger than three files and their form could be, before reading it.
pub(crate) fn check_request_size(req: &HttpRequest, max_file: usize) -> AppResult<()> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > max_form_bytes(max_file) => Err(AppError::PayloadTooLarge),
        _ => Ok(()),
    }
}

/// The certificate's issue date: a `YYYY-MM-DD` date, not in the future, not older than the
/// group allows. A day outside the range any request may name is too old or in the future
/// as well.
pub(crate) fn parse_certificate_date(
    raw: &str,
    today: NaiveDate,
    max_age_days: i32,
    errors: &mut FormErrors,
) -> Option<NaiveDate> {
    let checked = match Day::parse(raw) {
        Ok(day) => rules::check_certificate_date(day, today, max_age_days).map(|()| day.date()),
        Err(DayError::Malformed) => {
            errors.add("certificate_issued_on", "apply.error.date_format");
            return None;
        }
        Err(DayError::TooEarly) => Err(CertificateDateProblem::TooOld),
        Err(DayError::TooLate) => Err(CertificateDateProblem::InTheFuture),
    };
    match checked {
        Ok(d) => Some(d),
        Err(CertificateDateProblem::InTheFuture) => {
            errors.add("certificate_issued_on", "apply.error.date_future");
            None
        }
        Err(CertificateDateProblem::TooOld) => {
            errors.add("certificate_issued_on", "apply.error.date_too_old");
            None
        }
    }
}

/// Checks the uploaded files of `kinds`, one entry per kind: present, non-empty, and really
/// a PDF, JPEG or PNG (read as that type on the blocking pool, the form's files together:
/// see `documents::sniff`). `None` where the field got an error.
pub(crate) async fn take_uploads(
    form: &mut MultipartForm,
    kinds: &[DocumentKind],
    errors: &mut FormErrors,
) -> Vec<Option<Upload>> {
    let mut names = Vec::with_capacity(kinds.len());
    let mut bytes = Vec::with_capacity(kinds.len());
    for kind in kinds {
        names.push(take_file(form, *kind, errors).map(|(key, file)| {
            bytes.push(file.bytes);
            (key, file.filename)
        }));
    }
    let mut checked = sniff::check_all_off_thread(bytes).await.into_iter();
    let mut uploads = Vec::with_capacity(kinds.len());
    for (kind, name) in kinds.iter().zip(names) {
        let Some((key, filename)) = name else {
            uploads.push(None);
            continue;
        };
        let Some((verdict, bytes)) = checked.next() else {
            uploads.push(None);
            continue;
        };
        let media = match verdict {
            Ok(media) => media,
            Err(ContentProblem::NotAccepted) => {
                errors.add(key, "apply.error.bad_type");
                uploads.push(None);
                continue;
            }
            Err(ContentProblem::ProtectedPdf) => {
                errors.add(key, "apply.error.protected_pdf");
                uploads.push(None);
                continue;
            }
        };
        let display_name = sniff::display_name(filename.as_deref(), media);
        uploads.push(Some(Upload { kind: *kind, media, display_name, bytes }));
    }
    uploads
}

/// The file sent for `kind`, with its field's name for errors; `None` (and the error) when
/// it is missing or empty.
fn take_file(
    form: &mut MultipartForm,
    kind: DocumentKind,
    errors: &mut FormErrors,
) -> Option<(&'static str, UploadedFile)> {
    let key: &'static str = match kind {
        DocumentKind::ResidencyProof => "residency_proof",
        DocumentKind::CriminalRecord => "criminal_record",
        DocumentKind::IdentityDocument => "identity_document",
    };
    let field = kind.as_str();
    if form.empty_file(field) {
        errors.add(key, "apply.error.empty_file");
        return None;
    }
    let Some(file) = form.take_file(field) else {
        errors.add(key, "apply.error.missing_file");
        return None;
    };
    Some((key, file))
}

/// What the online form and the desk ask alike, checked alike.
pub(crate) struct ApplicationFields {
    pub street_address: String,
    pub dni: Dni,
    pub phone: Option<String>,
    pub certificate_issued_on: NaiveDate,
    pub uploads: Vec<Upload>,
}

impl ApplicationFields {
    pub(crate) fn into_application(
        self,
        group: &Group,
        renewal_of: Option<crate::domain::MembershipId>,
    ) -> NewApplication {
        NewApplication {
            group_id: group.id.clone(),
            street_address: self.street_address,
            dni: self.dni,
            phone: self.phone,
            certificate_issued_on: self.certificate_issued_on,
            uploads: self.uploads,
            renewal_of,
        }
    }
}

/// Reads the fields an application has whoever enters it (the resident online, an officer
/// at the desk): street address, DNI, phone (optional), the certificate's issue date for
/// `group`, and the three documents, each checked by content. Every problem goes into
/// `errors` at once; `None` when there was any.
pub(crate) async fn take_application_fields(
    form: &mut MultipartForm,
    group: &Group,
    today: NaiveDate,
    errors: &mut FormErrors,
) -> Option<ApplicationFields> {
    let street_address = rules::parse_address(form.text("street_address"));
    if street_address.is_none() {
        errors.add("street_address", "apply.error.address");
    }
    let dni = Dni::parse(form.text("dni"));
    if dni.is_none() {
        errors.add("dni", "apply.error.dni");
    }
    let phone = rules::parse_phone(form.text("phone"));
    if phone.is_err() {
        errors.add("phone", "apply.error.phone");
    }
    let issued_on =
        parse_certificate_date(form.text("certificate_issued_on"), today, group.certificate_max_age_days, errors);
    let uploads = take_uploads(form, &DocumentKind::ALL, errors).await;
    let (Some(street_address), Some(dni), Ok(phone), Some(certificate_issued_on)) =
        (street_address, dni, phone, issued_on)
    else {
        return None;
    };
    let uploads: Vec<Upload> = uploads.into_iter().flatten().collect();
    (uploads.len() == DocumentKind::ALL.len()).then_some(ApplicationFields {
        street_address,
        dni,
        phone,
        certificate_issued_on,
        uploads,
    })
}

#[post("/applications")]
async fn submit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Resident,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let mut form = upload::read(&state.uploads, &req, multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let group = active_group(&state, form.text("group").to_string()).await?;
    let now = state.clock.now();

    let mut errors = FormErrors::default();
    let fields = take_application_fields(&mut form, &group, state.settings.zone.today(now), &mut errors).await;
    let consent = form.text("consent") == "yes";
    if !consent {
        errors.add("consent", "apply.error.consent");
    }

    let mut page = ApplyPage {
        street_address: form.text("street_address").to_string(),
        dni: form.text("dni").to_string(),
        phone: form.text("phone").to_string(),
        certificate_issued_on: form.text("certificate_issued_on").to_string(),
        consent,
        ..ApplyPage::blank(ctx, group.clone(), state.settings.max_upload_bytes)
    };
    let (Some(fields), true) = (fields, errors.is_empty()) else {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let new = fields.into_application(&group, None);
    match applications::submit(&state, user.user_id.clone(), user.ip.clone(), new).await? {
        SubmitOutcome::Submitted { id } => {
            let mut res = see_other(&format!("/applications/{id}"));
            res.add_cookie(&cookies::flash(&state.settings, "application_submitted")).map_err(AppError::internal)?;
            Ok(res)
        }
        SubmitOutcome::AlreadyOpen { id } => {
            page.existing = Some(id);
            page.errors.add("group", "apply.error.already_open");
            render(StatusCode::CONFLICT, &page)
        }
        SubmitOutcome::AlreadyMember => {
            page.errors.add("group", "apply.error.already_member");
            render(StatusCode::CONFLICT, &page)
        }
        SubmitOutcome::GroupUnavailable | SubmitOutcome::RenewalClosed => Err(AppError::NotFound),
    }
}

// ----- following an application -----

#[derive(Template)]
#[template(path = "resident/application.html")]
struct ApplicationPage {
    ctx: PageContext,
    app: Application,
    group: Group,
    status: Status,
    documents: Vec<Document>,
    events: Vec<ApplicationEvent>,
    requested: Vec<DocumentKind>,
    info_request: Option<String>,
    errors: FormErrors,
    max_mb: String,
    /// The largest file the server takes, for the script's early size check.
    max_bytes: usize,
    /// When a decided application's files are (or were) deleted, `dd/mm/yyyy`.
    files_deleted_on: Option<String>,
    /// What was read in each document.
    readings: std::collections::HashMap<crate::domain::DocumentId, DocumentReading>,
}

impl ApplicationPage {
    fn dni(&self) -> String {
        Dni::formatted(&self.app.dni)
    }

    fn media_label(&self, doc: &Document) -> &'static str {
        match MediaType::parse(&doc.media_type) {
            Some(MediaType::Pdf) => "PDF",
            Some(MediaType::Jpeg) => "JPEG",
            Some(MediaType::Png) => "PNG",
            None => "",
        }
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind.parse::<DocumentKind>().map(|k| k.label_key()).unwrap_or("document.kind.unknown")
    }

    /// Whether any listed file is still held (not yet deleted by the retention purge).
    fn files_held(&self) -> bool {
        self.documents.iter().any(|d| d.purged_at.is_none())
    }

    fn kb(&self, doc: &Document) -> String {
        format!("{}", (doc.size_bytes + 1023) / 1024)
    }

    fn reading(&self, doc: &Document) -> Option<&DocumentReading> {
        self.readings.get(&doc.id)
    }

    fn page_numbers(&self, doc: &Document) -> Vec<i32> {
        self.reading(doc).map(|r| (1..=r.pages).collect()).unwrap_or_default()
    }

    fn page_alt(&self, doc: &Document, n: &i32) -> String {
        let kind = self.ctx.t(self.kind_label(&doc.kind)).to_string();
        self.ctx.tf2(crate::tk!("analysis.page_alt"), ("page", &n.to_string()), ("document", &kind))
    }

    /// What to tell the resident at once about their DNI's barcode, while the application
    /// is open: it could not be read, or the number read is not the one typed.
    fn dni_problem(&self) -> Option<&'static str> {
        if !self.status.is_open() {
            return None;
        }
        let doc = self.documents.iter().find(|d| d.kind == DocumentKind::IdentityDocument.as_str())?;
        let reading = self.reading(doc)?;
        match reading.verdict? {
            Verdict::Unread => Some(crate::tk!("analysis.resident.unread")),
            Verdict::Mismatch if reading.number_matches == Some(false) => {
                Some(crate::tk!("analysis.resident.number_mismatch"))
            }
            _ => None,
        }
    }
}

async fn load_page(
    state: &AppState,
    ctx: PageContext,
    id: ApplicationId,
    resident_id: UserId,
) -> AppResult<ApplicationPage> {
    let view = applications::resident_view(state, id, resident_id).await?;
    let status: Status = view.application.status;
    // The day the purge becomes due, where the resident lives (the daily job removes the
    // files within a day after).
    let files_deleted_on = view
        .application
        .decided_at
        .map(|d| ctx.day_of(crate::domain::retention::documents_purge_at(d, state.settings.document_retention_days)));
    let info_request = view.events.iter().rev().find(|e| e.kind == "info_requested").and_then(|e| e.message.clone());
    Ok(ApplicationPage {
        ctx,
        requested: DocumentKind::split(&view.application.requested_kinds),
        app: view.application,
        group: view.group,
        status,
        documents: view.documents,
        events: view.events,
        info_request: if status == Status::NeedsInfo { info_request } else { None },
        errors: FormErrors::default(),
        max_mb: megabytes(state.settings.max_upload_bytes),
        max_bytes: state.settings.max_upload_bytes,
        files_deleted_on,
        readings: view.readings,
    })
}

#[get("/applications/{id}")]
async fn show(
    state: Data<AppState>,
    ctx: PageContext,
    user: Resident,
    id: Path<ApplicationId>,
) -> AppResult<HttpResponse> {
    ok(&load_page(&state, ctx, id.into_inner(), user.user_id.clone()).await?)
}

#[derive(Deserialize)]
struct VersionForm {
    version: i32,
}

#[post("/applications/{id}/withdraw")]
async fn withdraw(
    state: Data<AppState>,
    user: Resident,
    id: Path<ApplicationId>,
    form: web::Form<VersionForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    applications::withdraw(&state, id.clone(), user.user_id.clone(), form.version, user.ip.clone()).await?;
    let mut res = see_other(&format!("/applications/{id}"));
    res.add_cookie(&cookies::flash(&state.settings, "application_withdrawn")).map_err(AppError::internal)?;
    Ok(res)
}

#[post("/applications/{id}/resubmit")]
async fn resubmit(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Resident,
    id: Path<ApplicationId>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let id = id.into_inner();
    let mut form = upload::read(&state.uploads, &req, multipart, &FILE_FIELDS, state.settings.max_upload_bytes).await?;
    let mut page = load_page(&state, ctx, id.clone(), user.user_id.clone()).await?;
    if page.status != Status::NeedsInfo {
        return Err(AppError::Conflict);
    }
    let version: i32 = form.text("version").trim().parse().map_err(|_| AppError::BadRequest("version"))?;
    let mut errors = FormErrors::default();
    let message = form.text("message").trim().to_string();
    if message.chars().count() > 2000 {
        errors.add("message", "resubmit.error.message_too_long");
    }
    let uploads = take_uploads(&mut form, &page.requested, &mut errors).await;
    if !errors.is_empty() {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let answer = Resubmission {
        message: (!message.is_empty()).then_some(message),
        uploads: uploads.into_iter().flatten().collect(),
    };
    applications::resubmit(&state, id.clone(), user.user_id.clone(), version, user.ip.clone(), answer).await?;
    let mut res = see_other(&format!("/applications/{id}"));
    res.add_cookie(&cookies::flash(&state.settings, "application_resubmitted")).map_err(AppError::internal)?;
    Ok(res)
}

/// A new file for the identity document while the application waits in the queue (offered
/// when its barcode could not be read or its number differs).
#[post("/applications/{id}/identity")]
async fn replace_identity(
    state: Data<AppState>,
    req: HttpRequest,
    ctx: PageContext,
    user: Resident,
    id: Path<ApplicationId>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    check_request_size(&req, state.settings.max_upload_bytes)?;
    let id = id.into_inner();
    let mut form =
        upload::read(&state.uploads, &req, multipart, &["identity_document"], state.settings.max_upload_bytes).await?;
    let mut page = load_page(&state, ctx, id.clone(), user.user_id.clone()).await?;
    if page.status != Status::Submitted {
        return Err(AppError::Conflict);
    }
    let version: i32 = form.text("version").trim().parse().map_err(|_| AppError::BadRequest("version"))?;
    let mut errors = FormErrors::default();
    let upload = take_uploads(&mut form, &[DocumentKind::IdentityDocument], &mut errors).await.pop().flatten();
    let Some(upload) = upload.filter(|_| errors.is_empty()) else {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    applications::replace_identity(&state, id.clone(), user.user_id.clone(), version, user.ip.clone(), upload).await?;
    let mut res = see_other(&format!("/applications/{id}"));
    res.add_cookie(&cookies::flash(&state.settings, "identity_replaced")).map_err(AppError::internal)?;
    Ok(res)
}
