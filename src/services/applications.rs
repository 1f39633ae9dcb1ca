//! Applications from the resident's side: submit with documents, follow, withdraw, answer
//! a request for more information. Each change is one transaction with its documents,
//! timeline event, audit entry and mail.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::db::DbConn;
use crate::db::models::{Application, ApplicationEvent, Document, Group, Membership, User};
use crate::db::queries::applications::{StatusChange, change_status};
use crate::db::queries::scope::reaches_group;
use crate::db::schema::{application_events, applications, groups, officer_assignments, users};
use crate::documents::keys::KeyRing;
use crate::documents::{self, Upload};
use crate::domain::application::{self as rules, Action, Dni, DocumentKind, Status};
use crate::domain::{ApplicationId, DocumentId, GroupId, MembershipId, UserId};
use crate::domain::{Locale, Role};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{self, ApplicationReceived, MailKind};

/// What a resident submits, already validated.
#[derive(Debug)]
pub struct NewApplication {
    pub group_id: GroupId,
    pub street_address: String,
    pub dni: Dni,
    pub phone: Option<String>,
    pub certificate_issued_on: NaiveDate,
    pub uploads: Vec<Upload>,
    /// For a renewal: the membership it renews.
    pub renewal_of: Option<MembershipId>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SubmitOutcome {
    Submitted {
        id: ApplicationId,
    },
    /// The resident already has an open application to this group.
    AlreadyOpen {
        id: ApplicationId,
    },
    /// The group is gone or inactive.
    GroupUnavailable,
    /// The resident is already a current member of this group.
    AlreadyMember,
    /// The membership to renew is not the resident's or not open for renewal.
    RenewalClosed,
}

pub fn open_application(
    conn: &mut DbConn,
    resident_id: &UserId,
    group_id: &GroupId,
) -> QueryResult<Option<ApplicationId>> {
    let open: Vec<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();
    applications::table
        .select(applications::id)
        .filter(applications::resident_id.eq(resident_id))
        .filter(applications::group_id.eq(group_id))
        .filter(applications::status.eq_any(open))
        .first(conn)
        .optional()
}

/// A timeline entry.
pub struct Event<'a> {
    pub kind: &'a str,
    pub actor_id: Option<&'a UserId>,
    /// Shown with the entry: a request, a reply, a reason.
    pub message: Option<&'a str>,
    /// Staff only; never on the resident's timeline.
    pub internal: bool,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    pub fn new(kind: &'a str, actor_id: Option<&'a UserId>) -> Self {
        Self { kind, actor_id, message: None, internal: false, details: json!({}) }
    }
}

/// Writes a timeline entry. Call inside the transaction of the change it records.
pub fn add_event(
    conn: &mut DbConn,
    application_id: &ApplicationId,
    now: NaiveDateTime,
    e: Event<'_>,
) -> QueryResult<()> {
    diesel::insert_into(application_events::table)
        .values(ApplicationEvent {
            id: uuid::Uuid::new_v4().to_string(),
            application_id: application_id.clone(),
            at: now,
            actor_id: e.actor_id.cloned(),
            kind: e.kind.to_string(),
            message: e.message.map(str::to_string),
            internal: e.internal,
            details: e.details.to_string(),
        })
        .execute(conn)?;
    Ok(())
}

pub async fn submit(
    state: &AppState,
    resident_id: UserId,
    ip: Option<String>,
    mut new: NewApplication,
) -> AppResult<SubmitOutcome> {
    let settings = state.settings.clone();
    let keys = state.keys.clone();
    // The files are hashed and encrypted before the transaction, not under its write lock.
    let NewApplication { uploads, .. } = &mut new;
    let mut sealed = documents::seal_all(&keys, std::mem::take(uploads)).await.map_err(AppError::Internal)?;
    let now = state.clock.now();
    let outcome = state
        .db(move |conn| {
            let result = Tx::run(conn, now, |tx| -> AppResult<SubmitOutcome> {
                let Some(group) = crate::db::queries::groups::find_by_id(tx.conn, &new.group_id)?.filter(|g| g.active)
                else {
                    return Ok(SubmitOutcome::GroupUnavailable);
                };
                if let Some(id) = open_application(tx.conn, &resident_id, &group.id)? {
                    return Ok(SubmitOutcome::AlreadyOpen { id });
                }
                match &new.renewal_of {
                    Some(mid) => {
                        let today = settings.zone.today(now);
                        let renewable = crate::services::memberships::find_for_member(tx.conn, mid, &resident_id)?
                            .is_some_and(|(m, g)| {
                                g.id == group.id
                                    && crate::domain::membership::renewal_open(m.status, m.valid_until, today)
                            });
                        if !renewable {
                            return Ok(SubmitOutcome::RenewalClosed);
                        }
                    }
                    None if crate::services::memberships::is_current_member(tx.conn, &resident_id, &group.id)? => {
                        return Ok(SubmitOutcome::AlreadyMember);
                    }
                    None => {}
                }
                let resident: User = users::table.find(&resident_id).first(tx.conn)?;
                let id = ApplicationId::generate();
                let doc_ids = insert_submitted(tx, &keys, &id, &resident_id, &new, &mut sealed, None)?;
                add_event(tx.conn, &id, now, Event::new("submitted", Some(&resident_id)))?;
                tx.audit(
                    &Actor::user(&resident_id, Role::Resident, ip.as_deref()),
                    "application.submitted",
                    Some(Subject { kind: "application", id: &id }),
                    json!({ "group_id": group.id, "documents": doc_ids, "renewal_of": new.renewal_of }),
                )?;
                let locale: Locale = resident.locale;
                let mail = ApplicationReceived {
                    name: &resident.full_name,
                    group: &group.name,
                    link: &settings.link(&format!("/applications/{id}")),
                }
                .render(locale, &settings.org_name)?;
                tx.mail(&resident.email, &mail)?;
                notify_officers(tx, &settings, &group, &id)?;
                Ok(SubmitOutcome::Submitted { id })
            });
            match result {
                // A parallel submission won the race for the open slot.
                Err(e) if e.is_unique_violation() => {
                    let id = open_application(conn, &resident_id, &new.group_id)?.ok_or(AppError::Conflict)?;
                    Ok(SubmitOutcome::AlreadyOpen { id })
                }
                other => other,
            }
        })
        .await?;
    if matches!(outcome, SubmitOutcome::Submitted { .. }) {
        // The documents are read by the background job, after the commit.
        state.analysis_wake.notify_one();
    }
    Ok(outcome)
}

/// Inserts a submitted application and its documents (sealed before the transaction), the
/// online form's and the desk's alike; the documents' ids. `taken_by` is the officer who
/// took it at the desk.
pub(crate) fn insert_submitted(
    tx: &mut Tx,
    keys: &crate::documents::keys::KeyRing,
    id: &ApplicationId,
    resident_id: &UserId,
    new: &NewApplication,
    sealed: &mut [documents::SealedUpload],
    taken_by: Option<&UserId>,
) -> AppResult<Vec<DocumentId>> {
    let now = tx.now;
    diesel::insert_into(applications::table)
        .values(Application {
            id: id.clone(),
            resident_id: resident_id.clone(),
            group_id: new.group_id.clone(),
            status: Status::Submitted,
            street_address: new.street_address.clone(),
            dni: new.dni.as_str().to_string(),
            phone: new.phone.clone(),
            certificate_issued_on: new.certificate_issued_on,
            requested_kinds: String::new(),
            version: 1,
            claimed_by: None,
            claimed_at: None,
            first_approver: None,
            consented_at: now,
            submitted_at: now,
            decided_at: None,
            created_at: now,
            updated_at: now,
            renewal_of: new.renewal_of.clone(),
            decided_by: None,
            taken_by: taken_by.cloned(),
            dni_verdict: None,
            in_pair: false,
        })
        .execute(tx.conn)?;
    let mut doc_ids = Vec::new();
    for upload in sealed {
        doc_ids.push(documents::insert(tx.conn, keys, id, upload, now).map_err(AppError::Internal)?);
    }
    Ok(doc_ids)
}

/// Tells the group's officers who asked for immediate notice that an application arrived.
/// The mail names the group only; the details are behind sign-in.
pub(crate) fn notify_officers(
    tx: &mut Tx,
    settings: &crate::app::config::Settings,
    group: &Group,
    application_id: &ApplicationId,
) -> AppResult<()> {
    let officers: Vec<User> = users::table
        .inner_join(officer_assignments::table.on(officer_assignments::officer_id.eq(users::id)))
        .filter(officer_assignments::group_id.eq(&group.id))
        .filter(users::active.eq(true))
        .filter(users::email_confirmed_at.is_not_null())
        .filter(users::notify_pref.eq("immediate"))
        .select(User::as_select())
        .load(tx.conn)?;
    for officer in officers {
        let locale: Locale = officer.locale;
        let mail = kinds::NewApplication {
            name: &officer.full_name,
            group: &group.name,
            link: &settings.link(&format!("/officer/applications/{application_id}")),
        }
        .render(locale, &settings.org_name)?;
        tx.mail(&officer.email, &mail)?;
    }
    Ok(())
}

/// An application as its applicant sees it.
pub struct ResidentView {
    pub application: Application,
    pub group: Group,
    pub documents: Vec<Document>,
    pub events: Vec<ApplicationEvent>,
    /// What was read in each document, by id.
    pub readings: std::collections::HashMap<DocumentId, crate::services::analysis::DocumentReading>,
}

/// The resident's own application; anyone else's looks like no application at all.
pub fn find_for_resident(
    conn: &mut DbConn,
    id: &ApplicationId,
    resident_id: &UserId,
) -> QueryResult<Option<ResidentView>> {
    let found: Option<(Application, Group)> = applications::table
        .inner_join(groups::table)
        .filter(applications::id.eq(id))
        .filter(applications::resident_id.eq(resident_id))
        .select((Application::as_select(), Group::as_select()))
        .first(conn)
        .optional()?;
    let Some((application, group)) = found else { return Ok(None) };
    let documents = documents::current_for_application(conn, id)?;
    let events = application_events::table
        .filter(application_events::application_id.eq(id))
        .filter(application_events::internal.eq(false))
        .order(application_events::at.asc())
        .limit(500)
        .load(conn)?;
    let ids: Vec<DocumentId> = documents.iter().map(|d| d.id.clone()).collect();
    let readings = crate::services::analysis::readings(conn, &ids)?;
    Ok(Some(ResidentView { application, group, documents, events, readings }))
}

/// A resident's applications, newest first, with their groups.
pub fn list_for_resident(conn: &mut DbConn, resident_id: &UserId) -> QueryResult<Vec<(Application, Group)>> {
    applications::table
        .inner_join(groups::table)
        .filter(applications::resident_id.eq(resident_id))
        .order((applications::created_at.desc(), applications::id.desc()))
        .select((Application::as_select(), Group::as_select()))
        .limit(100)
        .load(conn)
}

/// What a resident's home page lists.
pub struct ResidentHome {
    pub memberships: Vec<(Membership, Group)>,
    pub applications: Vec<(Application, Group)>,
    /// Active groups, each with whether the resident has an open application to it.
    pub groups: Vec<(Group, bool)>,
}

pub async fn resident_home(state: &AppState, resident_id: UserId) -> AppResult<ResidentHome> {
    state
        .db(move |c| {
            let memberships = crate::services::memberships::list_for_user(c, &resident_id)?;
            let applications = list_for_resident(c, &resident_id)?;
            let groups = crate::db::queries::groups::list_active(c)?
                .into_iter()
                .map(|g| {
                    let open = applications.iter().any(|(a, ag)| ag.id == g.id && a.status.is_open());
                    (g, open)
                })
                .collect();
            Ok(ResidentHome { memberships, applications, groups })
        })
        .await
}

/// Applies an applicant's action under optimistic locking: the update only happens if the
/// application is still at `version`.
fn applicant_transition(app: &Application, version: i32, action: Action) -> AppResult<Status> {
    let status: Status = app.status;
    if app.version != version {
        return Err(AppError::Conflict);
    }
    rules::transition(status, rules::Actor::Applicant, action).map_err(|_| AppError::Conflict)
}

/// The resident's own application; anyone else's is not found.
fn own_application(conn: &mut DbConn, id: &ApplicationId, resident_id: &UserId) -> AppResult<Application> {
    applications::table
        .filter(applications::id.eq(id))
        .filter(applications::resident_id.eq(resident_id))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub async fn withdraw(
    state: &AppState,
    id: ApplicationId,
    resident_id: UserId,
    version: i32,
    ip: Option<String>,
) -> AppResult<()> {
    state
        .write(move |tx| {
            let now = tx.now;
            let app = own_application(tx.conn, &id, &resident_id)?;
            let next = applicant_transition(&app, version, Action::Withdraw)?;
            if !change_status(tx.conn, &id, version, StatusChange::to(next).unclaimed().decided(now), now)? {
                return Err(AppError::Conflict);
            }
            add_event(tx.conn, &id, now, Event::new("withdrawn", Some(&resident_id)))?;
            tx.audit(
                &Actor::user(&resident_id, Role::Resident, ip.as_deref()),
                "application.withdrawn",
                Some(Subject { kind: "application", id: &id }),
                json!({ "from": app.status }),
            )?;
            Ok(())
        })
        .await
}

/// The answer to a request for more information.
#[derive(Debug)]
pub struct Resubmission {
    pub message: Option<String>,
    pub uploads: Vec<Upload>,
}

pub async fn resubmit(
    state: &AppState,
    id: ApplicationId,
    resident_id: UserId,
    version: i32,
    ip: Option<String>,
    answer: Resubmission,
) -> AppResult<()> {
    let keys = state.keys.clone();
    let kinds: Vec<DocumentKind> = answer.uploads.iter().map(|u| u.kind).collect();
    // The files are hashed and encrypted before the transaction, not under its write lock.
    let mut sealed = documents::seal_all(&keys, answer.uploads).await.map_err(AppError::Internal)?;
    let message = answer.message;
    state
        .write(move |tx| {
            let now = tx.now;
            let app = own_application(tx.conn, &id, &resident_id)?;
            let next = applicant_transition(&app, version, Action::Resubmit)?;
            documents::mark_replaced(tx.conn, &id, &kinds, now)?;
            let mut doc_ids = Vec::new();
            for upload in &mut sealed {
                doc_ids.push(documents::insert(tx.conn, &keys, &id, upload, now).map_err(AppError::Internal)?);
            }
            if !change_status(
                tx.conn,
                &id,
                version,
                StatusChange { requested_kinds: Some(String::new()), ..StatusChange::to(next).unclaimed() },
                now,
            )? {
                return Err(AppError::Conflict);
            }
            add_event(
                tx.conn,
                &id,
                now,
                Event {
                    message: message.as_deref(),
                    details: json!({ "kinds": kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>() }),
                    ..Event::new("resubmitted", Some(&resident_id))
                },
            )?;
            tx.audit(
                &Actor::user(&resident_id, Role::Resident, ip.as_deref()),
                "application.resubmitted",
                Some(Subject { kind: "application", id: &id }),
                json!({ "documents": doc_ids }),
            )?;
            Ok(())
        })
        .await?;
    state.analysis_wake.notify_one();
    Ok(())
}

/// Replaces the identity document of an application still waiting in the queue (no
/// officer has taken it), when its barcode could not be read or its number differs: the
/// resident is offered this at once, without waiting for a request. The old file is kept
/// as replaced, like a resubmission's; the application keeps its place in the queue.
pub async fn replace_identity(
    state: &AppState,
    id: ApplicationId,
    resident_id: UserId,
    version: i32,
    ip: Option<String>,
    upload: Upload,
) -> AppResult<()> {
    if upload.kind != DocumentKind::IdentityDocument {
        return Err(AppError::BadRequest("kind"));
    }
    let keys = state.keys.clone();
    let mut sealed = documents::seal_all(&keys, vec![upload]).await.map_err(AppError::Internal)?;
    state
        .write(move |tx| {
            let now = tx.now;
            let app = own_application(tx.conn, &id, &resident_id)?;
            if app.version != version || app.status != Status::Submitted {
                return Err(AppError::Conflict);
            }
            let bumped = diesel::update(
                applications::table
                    .filter(applications::id.eq(&id))
                    .filter(applications::version.eq(version))
                    .filter(applications::status.eq(Status::Submitted)),
            )
            .set((applications::version.eq(version + 1), applications::updated_at.eq(now)))
            .execute(tx.conn)?;
            if bumped != 1 {
                return Err(AppError::Conflict);
            }
            documents::mark_replaced(tx.conn, &id, &[DocumentKind::IdentityDocument], now)?;
            let mut doc_ids = Vec::new();
            for upload in &mut sealed {
                doc_ids.push(documents::insert(tx.conn, &keys, &id, upload, now).map_err(AppError::Internal)?);
            }
            add_event(tx.conn, &id, now, Event::new("identity_replaced", Some(&resident_id)))?;
            tx.audit(
                &Actor::user(&resident_id, Role::Resident, ip.as_deref()),
                "application.identity_replaced",
                Some(Subject { kind: "application", id: &id }),
                json!({ "documents": doc_ids }),
            )?;
            Ok(())
        })
        .await?;
    state.analysis_wake.notify_one();
    Ok(())
}

/// Who is asking for a document.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: UserId,
    pub role: Role,
    pub ip: Option<String>,
}

/// Whether `viewer` may see this application's files: its applicant, an officer assigned to
/// its group, or a commissioner.
pub fn may_view(conn: &mut DbConn, viewer: &Viewer, app: &Application) -> QueryResult<bool> {
    match viewer.role {
        Role::Resident => Ok(app.resident_id == viewer.user_id),
        role => reaches_group(conn, role, &viewer.user_id, &app.group_id),
    }
}

/// A document's bytes for someone allowed to see them, with an audit entry for the view.
/// Anyone else gets `NotFound`, exactly as for a document that does not exist.
pub async fn view_document(
    state: &AppState,
    application_id: ApplicationId,
    document_id: DocumentId,
    viewer: Option<Viewer>,
) -> AppResult<(Document, Vec<u8>)> {
    view_audited(state, application_id, document_id, viewer, None, documents::read).await
}

/// A page drawn from a document (PNG), for whoever may see the document, with the same
/// audit entry as the document's view (naming the page). Anyone else, and a page that does
/// not exist, gets `NotFound`.
pub async fn view_document_page(
    state: &AppState,
    application_id: ApplicationId,
    document_id: DocumentId,
    page: i32,
    viewer: Option<Viewer>,
) -> AppResult<(Document, Vec<u8>)> {
    view_audited(state, application_id, document_id, viewer, Some(page), move |c, keys, doc| {
        documents::read_rendition(c, keys, doc, page)
    })
    .await
}

/// What `read` takes from a document `viewer` may see, then the view's audit entry. The
/// file is read and decrypted outside any write transaction (a 10 MB file must not hold
/// SQLite's write lock); the entry is written once the bytes are in hand, in a short one.
async fn view_audited(
    state: &AppState,
    application_id: ApplicationId,
    document_id: DocumentId,
    viewer: Option<Viewer>,
    page: Option<i32>,
    read: impl FnOnce(&mut DbConn, &KeyRing, &Document) -> anyhow::Result<Option<Vec<u8>>> + Send + 'static,
) -> AppResult<(Document, Vec<u8>)> {
    let Some(viewer) = viewer else { return Err(AppError::NotFound) };
    let keys = state.keys.clone();
    let who = viewer.clone();
    let (doc, app, bytes) = state
        .db(move |c| {
            use crate::db::schema::documents as docs;
            let found: Option<(Document, Application)> = docs::table
                .inner_join(applications::table)
                .filter(docs::id.eq(&document_id))
                .filter(docs::application_id.eq(&application_id))
                .select((Document::as_select(), Application::as_select()))
                .first(c)
                .optional()?;
            let Some((doc, app)) = found else { return Err(AppError::NotFound) };
            if !may_view(c, &who, &app)? {
                return Err(AppError::NotFound);
            }
            let bytes = read(c, &keys, &doc).map_err(AppError::Internal)?.ok_or(AppError::NotFound)?;
            Ok((doc, app, bytes))
        })
        .await?;
    let mut details = json!({ "application_id": app.id, "kind": doc.kind });
    if let Some(page) = page {
        details["page"] = json!(page);
    }
    let doc_id = doc.id.clone();
    state
        .write(move |tx| {
            tx.audit(
                &Actor::user(&viewer.user_id, viewer.role, viewer.ip.as_deref()),
                "document.viewed",
                Some(Subject { kind: "document", id: &doc_id }),
                details,
            )
        })
        .await?;
    Ok((doc, bytes))
}

/// The resident's open application to a group, if any.
pub async fn open_application_of(
    state: &AppState,
    resident_id: UserId,
    group_id: GroupId,
) -> AppResult<Option<ApplicationId>> {
    state.db(move |c| Ok(open_application(c, &resident_id, &group_id)?)).await
}

/// The resident's own application with its documents and timeline; anyone else's is not
/// found.
pub async fn resident_view(state: &AppState, id: ApplicationId, resident_id: UserId) -> AppResult<ResidentView> {
    state.db(move |c| find_for_resident(c, &id, &resident_id)?.ok_or(AppError::NotFound)).await
}
