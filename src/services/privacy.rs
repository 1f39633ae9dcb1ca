//! The data subject's rights under Law 25.326, from the account page: access (a download of
//! everything Vecinal holds about the person), rectification (phone; e-mail with
//! confirmation at the new address) and deletion (the account is pseudonymised, files
//! deleted, open applications withdrawn, memberships ended). Each is one transaction with
//! its audit entries.
//!
//! Export and deletion are for residents; staff data is handled by headquarters, since
//! staff accounts carry the record of their work on other people's applications.

use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::auth::{session, throttle};
use crate::db::DbConn;
use crate::db::models::{Application, ApplicationEvent, AuditEntry, Document, Group, Membership, User};
use crate::db::queries::applications::{StatusChange, change_status};
use crate::db::schema::{
    application_events, applications, audit_log, documents, groups, login_throttle, mail_outbox, memberships, tokens,
    users,
};
use crate::documents as files;
use crate::domain::application::Status;
use crate::domain::membership::MembershipStatus;
use crate::domain::token::{SecretToken, TokenPurpose};
use crate::domain::{ApplicationId, UserId};
use crate::domain::{Email, Role};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{EmailChange, EmailChangeNotice, MailKind};
use crate::services::accounts::{find_by_email, find_by_id, live_token, locale_of, role_of, use_token};
use crate::services::applications::{Event, add_event};

/// The reason recorded on applications withdrawn and memberships ended by a deletion.
pub const ACCOUNT_DELETED: &str = "account_deleted";

/// The address a deleted account's e-mail is overwritten with: unique, and unroutable
/// (`.invalid` is reserved, RFC 2606), so the old address is free for a new account.
pub fn deleted_email(user_id: &UserId) -> String {
    format!("deleted-{user_id}@invalid")
}

fn current_membership_statuses() -> [&'static str; 2] {
    [MembershipStatus::Active.as_str(), MembershipStatus::Suspended.as_str()]
}

fn resident(conn: &mut DbConn, user_id: &UserId) -> AppResult<User> {
    let user = find_by_id(conn, user_id)?.filter(|u| u.deleted_at.is_none()).ok_or(AppError::NotFound)?;
    if role_of(&user) != Role::Resident {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

// ----- access -----

/// The export file: a name and its JSON bytes.
pub struct Export {
    pub file_name: String,
    pub json: Vec<u8>,
}

fn audit_entry_json(e: &AuditEntry, user_id: &UserId) -> Value {
    let mine = e.actor_id.as_deref() == Some(user_id);
    json!({
        "seq": e.seq,
        "at": e.at,
        // Who acted on your account, by role only: staff ids and other people's client
        // addresses are not your data.
        "actor": if mine { "you".to_string() } else { e.actor_role.clone().unwrap_or_else(|| "anonymous".into()) },
        "action": e.action,
        "subject_type": e.subject_type,
        "subject_id": e.subject_id,
        "details": serde_json::from_str::<Value>(&e.details).unwrap_or(Value::String(e.details.clone())),
        "ip": if mine { e.ip.clone() } else { None },
    })
}

fn event_json(e: &ApplicationEvent, user_id: &UserId) -> Value {
    json!({
        "at": e.at,
        "kind": e.kind,
        "by": match e.actor_id.as_deref() {
            Some(a) if a == user_id.as_str() => "you",
            Some(_) => "staff",
            None => "system",
        },
        "message": e.message,
        "details": serde_json::from_str::<Value>(&e.details).unwrap_or(Value::String(e.details.clone())),
    })
}

/// Everything Vecinal holds about a resident, as one JSON document: the account, each
/// application with its timeline (staff-internal notes left out) and its documents (the
/// files still held included, base64-encoded), memberships, and the audit entries about
/// the account or made by it. Nothing about anyone else. Audited as `account.exported`.
pub async fn export(state: &AppState, user_id: UserId, ip: Option<String>) -> AppResult<Export> {
    let keys = state.keys.clone();
    let org = state.settings.org_name.clone();
    let retention_days = state.settings.document_retention_days;
    state
        .write(move |tx| {
            let now = tx.now;
            let user = resident(tx.conn, &user_id)?;
            let apps: Vec<(Application, Group)> = applications::table
                .inner_join(groups::table)
                .filter(applications::resident_id.eq(&user.id))
                .order(applications::created_at.asc())
                .select((Application::as_select(), Group::as_select()))
                .load(tx.conn)?;
            let mut files = 0;
            let mut apps_json = Vec::new();
            for app in &apps {
                apps_json.push(application_json(tx.conn, &keys, app, &user, retention_days, &mut files)?);
            }
            let ms_json = memberships_json(tx.conn, &user)?;
            let entries: Vec<AuditEntry> = audit_log::table
                .filter(
                    audit_log::actor_id
                        .eq(&user.id)
                        .or(audit_log::subject_type.eq("user").and(audit_log::subject_id.eq(&user.id))),
                )
                .order(audit_log::seq.asc())
                .load(tx.conn)?;
            let doc = json!({
                "format": "vecinal-export/1",
                "generated_at": now,
                "organisation": org,
                "notes": [
                    "Times are UTC.",
                    "Documents still held are included as base64 (content_base64); deleted ones keep their metadata only.",
                    "Staff-internal notes and data about other people are not included.",
                ],
                "account": {
                    "id": user.id,
                    "email": user.email,
                    "full_name": user.full_name,
                    "role": user.role,
                    "locale": user.locale,
                    "email_confirmed_at": user.email_confirmed_at,
                    "active": user.active,
                    "created_at": user.created_at,
                    "updated_at": user.updated_at,
                },
                "applications": apps_json,
                "memberships": ms_json,
                "audit_log": entries.iter().map(|e| audit_entry_json(e, &user.id)).collect::<Vec<_>>(),
            });
            tx.audit(&Actor::user(&user.id, Role::Resident, ip.as_deref()),
                "account.exported",
                Some(Subject::user(&user.id)),
                json!({ "applications": apps.len(), "files": files, "audit_entries": entries.len() }),
            )?;
            let json = serde_json::to_vec_pretty(&doc).map_err(AppError::internal)?;
            Ok(Export { file_name: format!("vecinal-export-{}.json", now.format("%Y-%m-%d")), json })
        })
        .await
}

/// One application as its applicant may have it: the record, the timeline without staff
/// notes, and the documents still held (as base64) or their metadata once deleted.
fn application_json(
    conn: &mut DbConn,
    keys: &crate::documents::keys::KeyRing,
    (app, group): &(Application, Group),
    user: &User,
    retention_days: i64,
    files: &mut usize,
) -> AppResult<Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let events: Vec<ApplicationEvent> = application_events::table
        .filter(application_events::application_id.eq(&app.id))
        .filter(application_events::internal.eq(false))
        .order(application_events::at.asc())
        .load(conn)?;
    let docs: Vec<Document> = documents::table
        .filter(documents::application_id.eq(&app.id))
        .order(documents::uploaded_at.asc())
        .load(conn)?;
    let ids: Vec<crate::domain::DocumentId> = docs.iter().map(|d| d.id.clone()).collect();
    let readings = crate::services::analysis::readings(conn, &ids)?;
    let mut docs_json = Vec::new();
    for d in &docs {
        let content = files::read(conn, keys, d).map_err(AppError::Internal)?;
        *files += usize::from(content.is_some());
        docs_json.push(json!({
            "id": d.id,
            "kind": d.kind,
            "media_type": d.media_type,
            "size_bytes": d.size_bytes,
            "sha256": d.sha256,
            "original_name": d.original_name,
            "uploaded_at": d.uploaded_at,
            "replaced_at": d.replaced_at,
            "deleted_at": d.purged_at,
            "content_base64": content.map(|bytes| b64.encode(bytes)),
            "read": readings.get(&d.id).map(reading_json),
        }));
    }
    Ok(json!({
        "id": app.id,
        "group": { "id": group.id, "name": group.name, "slug": group.slug },
        "status": app.status,
        "street_address": app.street_address,
        "dni": app.dni,
        "phone": app.phone,
        "certificate_issued_on": app.certificate_issued_on,
        "consented_at": app.consented_at,
        "submitted_at": app.submitted_at,
        "decided_at": app.decided_at,
        "files_deleted_after": app.decided_at.map(|d| {
            crate::domain::retention::documents_purge_at(d, retention_days)
        }),
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "timeline": events.iter().map(|e| event_json(e, &user.id)).collect::<Vec<_>>(),
        "documents": docs_json,
    }))
}

/// What the document analysis read in one document: the values it keeps (cleared with the
/// file) and the verdict (kept). The pages drawn are pictures of the file, which the export
/// holds itself.
fn reading_json(r: &crate::services::analysis::DocumentReading) -> Value {
    json!({
        "state": if r.done { "done" } else { "pending" },
        "pages_drawn": r.pages,
        "pages_in_file": r.total_pages,
        "dni_verdict": r.verdict.map(|v| v.as_str()),
        "dni_number_read": r.number_read,
        "dni_name_read": r.name_read,
        "dni_number_matches": r.number_matches,
        "name_words_not_in_account": r.words_missing,
        "qr_codes": r.codes,
    })
}

fn memberships_json(conn: &mut DbConn, user: &User) -> QueryResult<Vec<Value>> {
    let ms: Vec<(Membership, Group)> = memberships::table
        .inner_join(groups::table)
        .filter(memberships::user_id.eq(&user.id))
        .order(memberships::created_at.asc())
        .select((Membership::as_select(), Group::as_select()))
        .load(conn)?;
    Ok(ms
        .iter()
        .map(|(m, g)| {
            json!({
                "id": m.id,
                "group": { "id": g.id, "name": g.name, "slug": g.slug },
                "application_id": m.application_id,
                "number": m.number,
                "status": m.status,
                "status_reason": m.status_reason,
                "valid_from": m.valid_from,
                "valid_until": m.valid_until,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
            })
        })
        .collect())
}

// ----- rectification: phone -----

/// The phone on the resident's newest application, which the account page offers to change.
pub fn current_phone(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Option<Option<String>>> {
    applications::table
        .filter(applications::resident_id.eq(user_id))
        .order((applications::created_at.desc(), applications::id.desc()))
        .select(applications::phone)
        .first(conn)
        .optional()
}

/// Sets the contact phone on all the resident's applications (it is only used to reach
/// them, so the current number is right for every one). Open applications get a timeline
/// entry so the reviewing officer sees the change. Returns how many applications changed.
pub async fn update_phone(
    state: &AppState,
    user_id: UserId,
    phone: Option<String>,
    ip: Option<String>,
) -> AppResult<usize> {
    state
        .write(move |tx| {
            let now = tx.now;
            let user = resident(tx.conn, &user_id)?;
            let apps: Vec<(ApplicationId, Status, Option<String>)> = applications::table
                .filter(applications::resident_id.eq(&user.id))
                .select((applications::id, applications::status, applications::phone))
                .load(tx.conn)?;
            let to_change: Vec<&(ApplicationId, Status, Option<String>)> =
                apps.iter().filter(|(_, _, p)| *p != phone).collect();
            let ids: Vec<&ApplicationId> = to_change.iter().map(|(id, _, _)| id).collect();
            let changed = diesel::update(applications::table.filter(applications::id.eq_any(&ids)))
                .set((applications::phone.eq(&phone), applications::updated_at.eq(now)))
                .execute(tx.conn)?;
            for (id, status, _) in to_change {
                if status.is_open() {
                    add_event(tx.conn, id, now, Event::new("phone_updated", Some(&user.id)))?;
                }
            }
            if changed > 0 {
                tx.audit(
                    &Actor::user(&user.id, Role::Resident, ip.as_deref()),
                    "account.phone_updated",
                    Some(Subject::user(&user.id)),
                    json!({ "applications": changed }),
                )?;
            }
            Ok(changed)
        })
        .await
}

// ----- rectification: e-mail -----

#[derive(Debug, PartialEq, Eq)]
pub enum EmailChangeRequest {
    /// Answered the same whether or not a link went out (see `request_email_change`).
    Sent,
    WrongPassword,
    SameAddress,
}

/// Starts an e-mail change: a link to the new address (the change happens only when it is
/// followed) and a notice to the current one. When the new address belongs to another
/// account, nothing is sent and the answer is the same, so the form tells nobody which
/// addresses have accounts (as registration does).
pub async fn request_email_change(
    state: &AppState,
    user_id: UserId,
    new_email: Email,
    password: &str,
    ip: Option<String>,
) -> AppResult<EmailChangeRequest> {
    let uid = user_id.clone();
    let user = state.db(move |c| find_by_id(c, &uid)?.ok_or(AppError::NotFound)).await?;
    if !crate::services::accounts::verify_current_password(state, &user, password, ip.clone()).await? {
        return Ok(EmailChangeRequest::WrongPassword);
    }
    if new_email.as_str() == user.email {
        return Ok(EmailChangeRequest::SameAddress);
    }
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            let role = role_of(&user);
            let taken = find_by_email(tx.conn, &new_email)?.is_some();
            let sent = !taken && throttle::take_mail_allowance(tx.conn, new_email.as_str(), now)?;
            if sent {
                // Only the newest link works.
                diesel::update(
                    tokens::table
                        .filter(tokens::user_id.eq(&user.id))
                        .filter(tokens::purpose.eq(TokenPurpose::ChangeEmail.as_str()))
                        .filter(tokens::used_at.is_null()),
                )
                .set(tokens::used_at.eq(now))
                .execute(tx.conn)?;
                let token = SecretToken::generate();
                diesel::insert_into(tokens::table)
                    .values((
                        tokens::id.eq(token.hash()),
                        tokens::purpose.eq(TokenPurpose::ChangeEmail.as_str()),
                        tokens::user_id.eq(&user.id),
                        tokens::created_at.eq(now),
                        tokens::expires_at.eq(now + TokenPurpose::ChangeEmail.lifetime()),
                        tokens::new_email.eq(new_email.as_str()),
                    ))
                    .execute(tx.conn)?;
                let locale = locale_of(&user);
                let confirm = EmailChange {
                    name: &user.full_name,
                    link: &settings.link(&format!("/account/email/confirm/{}", token.expose())),
                }
                .render(locale, &settings.org_name)?;
                tx.mail(new_email.as_str(), &confirm)?;
                let notice = EmailChangeNotice {
                    name: &user.full_name,
                    new_email: new_email.as_str(),
                    reset_link: &settings.link("/password/forgot"),
                }
                .render(locale, &settings.org_name)?;
                tx.mail(&user.email, &notice)?;
            }
            tx.audit(
                &Actor::user(&user.id, role, ip.as_deref()),
                "account.email_change_requested",
                Some(Subject::user(&user.id)),
                // Never the address itself: the log outlives personal data.
                json!({ "link_sent": sent }),
            )?;
            Ok(EmailChangeRequest::Sent)
        })
        .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    Changed,
    /// Unknown, used or expired link, or an account that is gone.
    Invalid,
    /// Another account took the address after the link was sent; nothing changed.
    Taken,
}

/// Whether a change-email link is live, for the page with the confirm button.
pub async fn email_change_is_live(state: &AppState, token: SecretToken) -> AppResult<bool> {
    let now = state.clock.now();
    state.db(move |c| Ok(live_token(c, &token, TokenPurpose::ChangeEmail, now)?.is_some())).await
}

/// Follows a change-email link: the account's address becomes the one the link was sent to.
/// Every other open change and password-reset link of the account dies (a reset link went
/// to the old mailbox).
pub async fn confirm_email_change(
    state: &AppState,
    token: SecretToken,
    ip: Option<String>,
) -> AppResult<EmailChangeOutcome> {
    let now = state.clock.now();
    state
        .db(move |conn| {
            let result = Tx::run(conn, now, |tx| -> AppResult<EmailChangeOutcome> {
                let Some(t) = live_token(tx.conn, &token, TokenPurpose::ChangeEmail, now)? else {
                    return Ok(EmailChangeOutcome::Invalid);
                };
                let (Some(user_id), Some(new_email)) = (t.user_id.clone(), t.new_email.clone()) else {
                    return Ok(EmailChangeOutcome::Invalid);
                };
                let Some(user) = find_by_id(tx.conn, &user_id)?.filter(|u| u.active && u.deleted_at.is_none()) else {
                    return Ok(EmailChangeOutcome::Invalid);
                };
                use_token(tx.conn, &t.id, now)?;
                let taken = users::table
                    .filter(users::email.eq(&new_email))
                    .filter(users::id.ne(&user.id))
                    .count()
                    .get_result::<i64>(tx.conn)?
                    > 0;
                if taken {
                    return Ok(EmailChangeOutcome::Taken);
                }
                diesel::update(users::table.find(&user.id))
                    .set((
                        users::email.eq(&new_email),
                        users::email_confirmed_at.eq(user.email_confirmed_at.or(Some(now))),
                        users::updated_at.eq(now),
                    ))
                    .execute(tx.conn)?;
                diesel::update(
                    tokens::table
                        .filter(tokens::user_id.eq(&user.id))
                        .filter(
                            tokens::purpose
                                .eq_any([TokenPurpose::ChangeEmail.as_str(), TokenPurpose::ResetPassword.as_str()]),
                        )
                        .filter(tokens::used_at.is_null()),
                )
                .set(tokens::used_at.eq(now))
                .execute(tx.conn)?;
                tx.audit(
                    &Actor::anonymous(ip.as_deref()),
                    "account.email_changed",
                    Some(Subject::user(&user.id)),
                    json!({}),
                )?;
                Ok(EmailChangeOutcome::Changed)
            });
            match result {
                // Registration took the address between the check and the update.
                Err(e) if e.is_unique_violation() => Ok(EmailChangeOutcome::Taken),
                other => other,
            }
        })
        .await
}

// ----- deletion -----

#[derive(Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    WrongPassword,
}

/// What a deletion did, for the audit entry.
#[derive(Debug, Default)]
struct Deleted {
    applications_withdrawn: usize,
    memberships_ended: usize,
    files_deleted: usize,
}

/// Deletes a resident's account after checking the password. Personal data is removed or
/// overwritten everywhere Vecinal holds it; what stays is the pseudonymous skeleton other
/// records need (the user id that applications, memberships and the audit log point to,
/// statuses, dates, document hashes, checklists):
///
/// - the account: name emptied, e-mail `deleted-<id>@invalid` (so the address can register
///   again as a new account), no password, inactive, `deleted_at` set;
/// - open applications are withdrawn (reason `account_deleted`), active and suspended
///   memberships end with status reason `account_deleted` (each with a timeline entry and
///   an audit entry, so officers see who left their groups);
/// - every application's address, DNI and phone are overwritten, the person's own
///   timeline messages emptied, and their name, e-mail, DNI, address and phone blanked out
///   of staff messages on their applications;
/// - every document file is deleted (the metadata keeps kind, size, hash, dates; the
///   original file name is emptied);
/// - sessions, tokens, throttle rows for the address and every mail to it are deleted.
///
/// The audit log is untouched: its entries name the account by id only.
pub async fn delete_account(
    state: &AppState,
    user_id: UserId,
    password: &str,
    ip: Option<String>,
) -> AppResult<DeleteOutcome> {
    let uid = user_id.clone();
    let user = state.db(move |c| resident(c, &uid)).await?;
    if !crate::services::accounts::verify_current_password(state, &user, password, ip.clone()).await? {
        return Ok(DeleteOutcome::WrongPassword);
    }
    state
        .write(move |tx| {
            let user = resident(tx.conn, &user.id)?;
            let actor = Actor::user(&user.id, Role::Resident, ip.as_deref());
            let done = erase(tx, &user, &actor)?;
            tx.audit(
                &actor,
                "account.deleted",
                Some(Subject::user(&user.id)),
                json!({
                    "applications_withdrawn": done.applications_withdrawn,
                    "memberships_ended": done.memberships_ended,
                    "files_deleted": done.files_deleted,
                }),
            )?;
            Ok(DeleteOutcome::Deleted)
        })
        .await
}

/// Deletes a resident's personal data inside the caller's transaction: open applications
/// are withdrawn, current memberships end, files go, the person's words and identifying
/// details are blanked, their sessions, links, throttles and mails go, and the account row
/// keeps only a pseudonym.
fn erase(tx: &mut Tx, user: &User, actor: &Actor) -> AppResult<Deleted> {
    let now = tx.now;
    let apps: Vec<Application> = applications::table.filter(applications::resident_id.eq(&user.id)).load(tx.conn)?;
    let applications_withdrawn = withdraw_open(tx, user, actor, &apps)?;
    let memberships_ended = end_memberships(tx, user, actor)?;
    let app_ids: Vec<ApplicationId> = apps.iter().map(|a| a.id.clone()).collect();
    let files_deleted = delete_documents(tx.conn, &app_ids, now)?;
    blank_personal_text(tx.conn, user, &apps, &app_ids, now)?;
    forget_contact(tx.conn, user)?;
    diesel::update(users::table.find(&user.id))
        .set((
            users::full_name.eq(""),
            users::email.eq(deleted_email(&user.id)),
            users::password_hash.eq(None::<String>),
            users::active.eq(false),
            users::deleted_at.eq(Some(now)),
            users::updated_at.eq(now),
        ))
        .execute(tx.conn)?;
    Ok(Deleted { applications_withdrawn, memberships_ended, files_deleted })
}

/// Withdraws the open applications, each under the version read: an officer's decision
/// committed in between makes the deletion a conflict (nothing changes; the person tries
/// again) rather than overwriting it.
fn withdraw_open(tx: &mut Tx, user: &User, actor: &Actor, apps: &[Application]) -> AppResult<usize> {
    let now = tx.now;
    let mut withdrawn = 0;
    for app in apps.iter().filter(|a| a.status.is_open()) {
        let change = StatusChange::to(Status::Withdrawn).unclaimed().decided(now);
        if !change_status(tx.conn, &app.id, app.version, change, now)? {
            return Err(AppError::Conflict);
        }
        add_event(
            tx.conn,
            &app.id,
            now,
            Event { details: json!({ "reason": ACCOUNT_DELETED }), ..Event::new("withdrawn", Some(&user.id)) },
        )?;
        tx.audit(
            actor,
            "application.withdrawn",
            Some(Subject { kind: "application", id: &app.id }),
            json!({ "from": app.status, "reason": ACCOUNT_DELETED }),
        )?;
        withdrawn += 1;
    }

    Ok(withdrawn)
}

fn end_memberships(tx: &mut Tx, user: &User, actor: &Actor) -> AppResult<usize> {
    let now = tx.now;
    let mut ended = 0;
    let current: Vec<Membership> = memberships::table
        .filter(memberships::user_id.eq(&user.id))
        .filter(memberships::status.eq_any(current_membership_statuses()))
        .load(tx.conn)?;
    for m in &current {
        let updated = diesel::update(memberships::table.find(&m.id).filter(memberships::status.eq(&m.status)))
            .set((
                memberships::status.eq(MembershipStatus::Ended),
                memberships::status_reason.eq(Some(ACCOUNT_DELETED)),
                memberships::updated_at.eq(now),
            ))
            .execute(tx.conn)?;
        if updated != 1 {
            return Err(AppError::Conflict);
        }
        add_event(
            tx.conn,
            &m.application_id,
            now,
            Event {
                details: json!({ "membership_id": m.id, "number": m.number, "reason": ACCOUNT_DELETED }),
                ..Event::new("membership_ended", Some(&user.id))
            },
        )?;
        tx.audit(
            actor,
            "membership.ended",
            Some(Subject { kind: "membership", id: &m.id }),
            json!({ "from": m.status, "reason": ACCOUNT_DELETED, "group_id": m.group_id, "number": m.number }),
        )?;
        ended += 1;
    }

    Ok(ended)
}

/// Deletes the applications' files and their names; returns how many files went.
fn delete_documents(conn: &mut DbConn, app_ids: &[ApplicationId], now: NaiveDateTime) -> AppResult<usize> {
    let doc_ids: Vec<String> =
        documents::table.filter(documents::application_id.eq_any(app_ids)).select(documents::id).load(conn)?;
    let deleted = files::delete_files(conn, &doc_ids, now)?;
    diesel::update(documents::table.filter(documents::id.eq_any(&doc_ids)))
        .set(documents::original_name.eq(""))
        .execute(conn)?;

    Ok(deleted)
}

/// The person's own words go entirely; in what staff wrote, the person's identifying
/// details are blanked out (the rest is the organisation's record of its decision). The
/// applications keep no address, DNI or phone.
fn blank_personal_text(
    conn: &mut DbConn,
    user: &User,
    apps: &[Application],
    app_ids: &[ApplicationId],
    now: NaiveDateTime,
) -> AppResult<()> {
    let mut personal: Vec<String> = vec![user.full_name.clone(), user.email.clone()];
    for a in apps {
        personal.push(a.street_address.clone());
        personal.push(a.dni.clone());
        personal.push(crate::domain::application::Dni::formatted(&a.dni));
        personal.extend(a.phone.clone());
    }
    diesel::update(
        application_events::table
            .filter(application_events::application_id.eq_any(app_ids))
            .filter(application_events::actor_id.eq(&user.id))
            .filter(application_events::message.is_not_null()),
    )
    .set(application_events::message.eq(None::<String>))
    .execute(conn)?;
    let staff_messages: Vec<(String, Option<String>)> = application_events::table
        .filter(application_events::application_id.eq_any(app_ids))
        .filter(application_events::message.is_not_null())
        .select((application_events::id, application_events::message))
        .load(conn)?;
    for (id, message) in staff_messages {
        let Some(message) = message else { continue };
        let cleaned = blank_out(&message, &personal);
        if cleaned != message {
            diesel::update(application_events::table.find(&id))
                .set(application_events::message.eq(Some(cleaned)))
                .execute(conn)?;
        }
    }

    diesel::update(applications::table.filter(applications::resident_id.eq(&user.id)))
        .set((
            applications::street_address.eq(""),
            applications::dni.eq(""),
            applications::phone.eq(None::<String>),
            applications::updated_at.eq(now),
        ))
        .execute(conn)?;

    Ok(())
}

/// Sessions, links, sign-in throttles and mails that name the person or their addresses.
fn forget_contact(conn: &mut DbConn, user: &User) -> AppResult<()> {
    session::end_all_for_user(conn, &user.id, None)?;
    // Addresses of e-mail changes still pending: their links and mails go too.
    let mut addresses: Vec<String> = tokens::table
        .filter(tokens::user_id.eq(&user.id))
        .filter(tokens::new_email.is_not_null())
        .select(tokens::new_email.assume_not_null())
        .load(conn)?;
    addresses.push(user.email.clone());
    diesel::delete(tokens::table.filter(tokens::user_id.eq(&user.id))).execute(conn)?;
    let throttle_keys: Vec<String> =
        addresses.iter().flat_map(|a| [format!("account:{a}"), format!("mail:{a}")]).collect();
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(&throttle_keys))).execute(conn)?;
    diesel::delete(mail_outbox::table.filter(mail_outbox::to_address.eq_any(&addresses))).execute(conn)?;
    // Mails already sent (or given up) that greet the person by name or quote their
    // address, such as those sent to an address the account had before an e-mail change.
    // Unsent mails to other people stay, whatever they contain.
    for needle in [&user.full_name, &user.email].into_iter().filter(|n| n.chars().count() >= 4) {
        let pattern = format!("%{}%", escape_like(needle));
        diesel::delete(
            mail_outbox::table
                .filter(mail_outbox::sent_at.is_not_null().or(mail_outbox::failed_at.is_not_null()))
                .filter(mail_outbox::text_body.like(&pattern).escape('\\')),
        )
        .execute(conn)?;
    }

    Ok(())
}

/// `s` with the LIKE wildcards escaped by `\`.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `text` with every occurrence of the given strings (four characters or more, so a short
/// name does not eat ordinary words) replaced by `[…]`, ignoring letter case.
pub fn blank_out(text: &str, personal: &[String]) -> String {
    let mut out = text.to_string();
    for p in personal.iter().map(|p| p.trim()).filter(|p| p.chars().count() >= 4) {
        out = replace_ignoring_case(&out, p, "[…]");
    }
    out
}

fn replace_ignoring_case(haystack: &str, needle: &str, with: &str) -> String {
    let needle: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = haystack.chars().collect();
    let lower: Vec<Vec<char>> = chars.iter().map(|c| c.to_lowercase().collect()).collect();
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < chars.len() {
        // Does the needle start at character i?
        let mut n = 0;
        let mut j = i;
        while n < needle.len() {
            let Some(l) = lower.get(j) else { break };
            if needle.get(n..n + l.len()) != Some(l.as_slice()) {
                break;
            }
            n += l.len();
            j += 1;
        }
        if n == needle.len() && j > i {
            out.push_str(with);
            i = j;
            continue 'outer;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_details_are_blanked_out_of_staff_messages() {
        let personal = vec![
            "Ana Pérez".to_string(),
            "ana@example.com".to_string(),
            "Calle Belgrano 1234".to_string(),
            "30123456".to_string(),
            "30.123.456".to_string(),
            "Al".to_string(),
        ];
        let text =
            "ANA PÉREZ vive en calle belgrano 1234 (DNI 30.123.456, escribió desde ana@example.com). Al final, ok.";
        let cleaned = blank_out(text, &personal);
        assert_eq!(cleaned, "[…] vive en […] (DNI […], escribió desde […]). Al final, ok.");
        assert_eq!(blank_out("nada que ver", &personal), "nada que ver");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("a_b%c\\d"), "a\\_b\\%c\\\\d");
    }

    #[test]
    fn the_deleted_address_is_unique_and_unroutable() {
        let id = UserId::from_stored("abc".into());
        assert_eq!(deleted_email(&id), "deleted-abc@invalid");
        assert_ne!(deleted_email(&UserId::generate()), deleted_email(&UserId::generate()));
    }
}
