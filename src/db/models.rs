//! Row, insert and change structs, one set per table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;
use crate::domain::application::Status;
use crate::domain::membership::MembershipStatus;
use crate::domain::notice::NoticeKind;
use crate::domain::{ApplicationId, DocumentId, GroupId, Locale, MembershipId, Role, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub locale: Locale,
    pub email_confirmed_at: Option<NaiveDateTime>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub notify_pref: String,
    pub last_digest_at: Option<NaiveDateTime>,
    /// Set when the person deleted their account; the personal fields are overwritten then.
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub full_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub locale: &'a str,
    pub email_confirmed_at: Option<NaiveDateTime>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub idle_timeout_secs: i32,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub idle_timeout_secs: i32,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct Token {
    pub id: String,
    pub purpose: String,
    pub user_id: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    /// `change_email` tokens: the address the link confirms.
    pub new_email: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tokens)]
pub struct NewToken<'a> {
    pub id: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle)]
#[diesel(treat_none_as_null = true)]
pub struct Throttle {
    pub key: String,
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub blocked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub details: String,
    pub ip: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMail {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub sent_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewOutboxMail<'a> {
    pub id: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: GroupId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub area: String,
    pub invite_link: String,
    pub validity_days: i32,
    pub certificate_max_age_days: i32,
    pub two_approvals: bool,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub member_seq: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub struct Application {
    pub id: ApplicationId,
    pub resident_id: UserId,
    pub group_id: GroupId,
    pub status: Status,
    pub street_address: String,
    pub dni: String,
    pub phone: Option<String>,
    pub certificate_issued_on: chrono::NaiveDate,
    pub requested_kinds: String,
    pub version: i32,
    pub claimed_by: Option<UserId>,
    pub claimed_at: Option<NaiveDateTime>,
    pub first_approver: Option<UserId>,
    pub consented_at: NaiveDateTime,
    pub submitted_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The membership this application renews, if it is a renewal.
    pub renewal_of: Option<MembershipId>,
    /// The officer whose decision closed it (approval or rejection); `None` otherwise.
    pub decided_by: Option<UserId>,
    /// The officer who took it at the police station's desk; `None` for online ones.
    pub taken_by: Option<UserId>,
    /// The current identity document's verdict once read, kept by triggers from
    /// `document_analyses` (see `db::marks`).
    pub dni_verdict: Option<String>,
    /// On either side of a recorded duplicate pair, kept by triggers from `duplicate_pairs`
    /// (see `db::marks`).
    pub in_pair: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct Document {
    pub id: DocumentId,
    pub application_id: ApplicationId,
    pub kind: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub original_name: String,
    pub key_id: String,
    pub uploaded_at: NaiveDateTime,
    pub replaced_at: Option<NaiveDateTime>,
    pub purged_at: Option<NaiveDateTime>,
}

/// What was read in a document (see `documents::analysis` and `services::analysis`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = document_analyses)]
pub struct DocumentAnalysis {
    pub document_id: DocumentId,
    pub application_id: ApplicationId,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub pages: i32,
    pub total_pages: i32,
    pub not_rendered: Option<String>,
    pub dni_verdict: Option<String>,
    pub dni_number: Option<String>,
    pub dni_surname: Option<String>,
    pub dni_names: Option<String>,
    pub dni_number_matches: Option<bool>,
    pub dni_words_missing: Option<String>,
    pub codes: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = document_blobs)]
pub struct DocumentBlob {
    pub document_id: String,
    pub nonce: Vec<u8>,
}

/// A piece of a document's ciphertext (`documents::CHUNK_BYTES` long but the last).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = document_chunks)]
pub struct DocumentChunk {
    pub document_id: String,
    pub seq: i32,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_events)]
pub struct ApplicationEvent {
    pub id: String,
    pub application_id: ApplicationId,
    pub at: NaiveDateTime,
    pub actor_id: Option<UserId>,
    pub kind: String,
    pub message: Option<String>,
    pub internal: bool,
    pub details: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: MembershipId,
    pub user_id: UserId,
    pub group_id: GroupId,
    pub application_id: ApplicationId,
    pub number: String,
    pub status: MembershipStatus,
    pub valid_from: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub verification_token: String,
    pub status_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub reminded_30_at: Option<NaiveDateTime>,
    pub reminded_7_at: Option<NaiveDateTime>,
    pub removed_from_chat_at: Option<NaiveDateTime>,
    pub removed_from_chat_by: Option<String>,
}

/// The one-time claim code of an account created at the desk (argon2id of the code).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = desk_claims)]
pub struct DeskClaim {
    pub user_id: UserId,
    pub application_id: ApplicationId,
    pub code_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A decision to tell a resident without a confirmed e-mail address by phone or at the desk.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = desk_notices)]
pub struct DeskNotice {
    pub id: String,
    pub application_id: ApplicationId,
    pub group_id: GroupId,
    pub kind: NoticeKind,
    pub created_at: NaiveDateTime,
    pub told_at: Option<NaiveDateTime>,
    pub told_by: Option<UserId>,
    /// The membership a notice about a membership change or renewal is about.
    pub membership_id: Option<MembershipId>,
}
