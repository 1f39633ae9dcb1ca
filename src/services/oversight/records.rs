//! Read-only records for commissioners: any application with its timeline and audit
//! entries, everything that happened to one person's data, and the membership search.
//! Opening an application or a person shows personal data (DNI, address), so each opening
//! is an audit entry, as an officer's opening of an application is.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{Actor, Subject};
use crate::db::DbConn;
use crate::db::models::{Application, Document, Group, Membership, User};
use crate::db::schema::{applications, documents, groups, memberships, users};
use crate::domain::Locale;
use crate::domain::application::Dni;
use crate::domain::membership::MembershipStatus;
use crate::domain::{ApplicationId, MembershipId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::oversight::log::{self, AuditFilter, AuditPage, Related};
use crate::services::review::{self, Cursor, Review};

/// Memberships per page of the search.
pub const PAGE_SIZE: i64 = 50;

/// An application as a commissioner sees it.
pub struct ApplicationRecord {
    pub review: Review,
    /// Every document, replaced ones too, oldest first.
    pub documents: Vec<Document>,
    pub membership: Option<Membership>,
    pub first_approver: Option<String>,
    pub log: AuditPage,
}

/// Records the opening and loads the application; an unknown id is `NotFound` and
/// records nothing.
pub async fn open_application(
    state: &AppState,
    viewer: Actor,
    locale: Locale,
    id: ApplicationId,
    before: Option<i64>,
) -> AppResult<ApplicationRecord> {
    state
        .write(move |tx| {
            let review = review::load_review(tx.conn, &id, None)?.ok_or(AppError::NotFound)?;
            tx.audit(&viewer, "application.viewed", Some(Subject { kind: "application", id: &id }), json!({}))?;
            let documents: Vec<Document> = documents::table
                .filter(documents::application_id.eq(&id))
                .order((documents::uploaded_at.asc(), documents::id.asc()))
                .limit(200)
                .load(tx.conn)?;
            let membership: Option<Membership> =
                memberships::table.filter(memberships::application_id.eq(&id)).first(tx.conn).optional()?;
            let first_approver = match &review.application.first_approver {
                Some(uid) => users::table.find(uid).select(users::full_name).first(tx.conn).optional()?,
                None => None,
            };
            let related = Related {
                application_ids: vec![id.to_string()],
                document_ids: documents.iter().map(|d| d.id.to_string()).collect(),
                membership_ids: membership.iter().map(|m| m.id.to_string()).collect(),
                ..Related::default()
            };
            let filter = AuditFilter { related: Some(related), ..AuditFilter::default() };
            let log = log::search(tx.conn, locale, &filter, before, log::PAGE_SIZE)?;
            Ok(ApplicationRecord { review, documents, membership, first_approver, log })
        })
        .await
}

/// Everything that happened to one person's data.
pub struct PersonRecord {
    pub user: User,
    pub applications: Vec<(Application, Group)>,
    pub memberships: Vec<(Membership, Group)>,
    /// The officers who took any of the person's applications at the desk, by id.
    pub desk_takers: Vec<(UserId, String)>,
    /// Entries about the account, its applications, their documents and its memberships.
    pub log: AuditPage,
}

pub async fn open_person(
    state: &AppState,
    viewer: Actor,
    locale: Locale,
    user_id: UserId,
    before: Option<i64>,
) -> AppResult<PersonRecord> {
    state
        .write(move |tx| {
            let user: User = users::table.find(&user_id).first(tx.conn).optional()?.ok_or(AppError::NotFound)?;
            tx.audit(&viewer, "person.viewed", Some(Subject::user(&user.id)), json!({}))?;
            let applications = crate::services::applications::list_for_resident(tx.conn, &user.id)?;
            let memberships = crate::services::memberships::list_for_user(tx.conn, &user.id)?;
            let taker_ids: Vec<UserId> = applications.iter().filter_map(|(a, _)| a.taken_by.clone()).collect();
            let desk_takers: Vec<(UserId, String)> = if taker_ids.is_empty() {
                Vec::new()
            } else {
                users::table.filter(users::id.eq_any(taker_ids)).select((users::id, users::full_name)).load(tx.conn)?
            };
            let application_ids: Vec<String> = applications::table
                .filter(applications::resident_id.eq(&user.id))
                .select(applications::id)
                .limit(1000)
                .load(tx.conn)?;
            let document_ids: Vec<String> = documents::table
                .filter(documents::application_id.eq_any(&application_ids))
                .select(documents::id)
                .limit(5000)
                .load(tx.conn)?;
            let membership_ids: Vec<String> = memberships::table
                .filter(memberships::user_id.eq(&user.id))
                .select(memberships::id)
                .limit(1000)
                .load(tx.conn)?;
            let related =
                Related { user_ids: vec![user.id.to_string()], application_ids, document_ids, membership_ids };
            let filter = AuditFilter { related: Some(related), ..AuditFilter::default() };
            let log = log::search(tx.conn, locale, &filter, before, log::PAGE_SIZE)?;
            Ok(PersonRecord { user, applications, memberships, desk_takers, log })
        })
        .await
}

/// What the membership search box holds: a DNI, a membership number or part of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberSearch {
    /// 7 or 8 digits, with or without dots.
    Dni(String),
    /// "CENTRO-000012", in any case.
    Number(String),
    /// Any part of the name, case-insensitive for unaccented letters.
    Name(String),
}

impl MemberSearch {
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            return None;
        }
        if let Some(dni) = Dni::parse(&s) {
            return Some(Self::Dni(dni.as_str().to_string()));
        }
        let (prefix, digits) = s.rsplit_once('-').unwrap_or(("", ""));
        if !prefix.is_empty() && digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) && !s.contains(' ') {
            return Some(Self::Number(s.to_uppercase()));
        }
        Some(Self::Name(s.chars().take(100).collect()))
    }

    /// How the export's audit entry names the search: the kind, and the number itself
    /// (not personal); a name or DNI stays out of the log.
    pub fn audit_value(&self) -> serde_json::Value {
        match self {
            Self::Dni(_) => json!({ "kind": "dni" }),
            Self::Number(n) => json!({ "kind": "number", "number": n }),
            Self::Name(_) => json!({ "kind": "name" }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MembershipFilter {
    pub search: Option<MemberSearch>,
    pub group_id: Option<String>,
    pub status: Option<MembershipStatus>,
}

impl MembershipFilter {
    pub fn audit_value(&self) -> serde_json::Value {
        json!({
            "search": self.search.as_ref().map(MemberSearch::audit_value),
            "group_id": self.group_id,
            "status": self.status.map(MembershipStatus::as_str),
        })
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct MembershipRow {
    pub id: MembershipId,
    pub number: String,
    pub status: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub created_at: NaiveDateTime,
    pub user_id: UserId,
    pub full_name: String,
    pub group_name: String,
    pub dni: String,
    pub application_id: String,
}

pub struct MembershipPage {
    pub rows: Vec<MembershipRow>,
    pub next: Option<Cursor<MembershipId>>,
}

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Memberships matching the filter, newest first, keyset on (created_at, id).
pub fn search_memberships(
    conn: &mut DbConn,
    filter: &MembershipFilter,
    after: Option<&Cursor<MembershipId>>,
    limit: i64,
) -> QueryResult<MembershipPage> {
    let mut q = memberships::table
        .inner_join(users::table)
        .inner_join(groups::table)
        .inner_join(applications::table.on(applications::id.eq(memberships::application_id)))
        .select((
            memberships::id,
            memberships::number,
            memberships::status,
            memberships::valid_from,
            memberships::valid_until,
            memberships::created_at,
            users::id,
            users::full_name,
            groups::name,
            applications::dni,
            memberships::application_id,
        ))
        .order((memberships::created_at.desc(), memberships::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    match &filter.search {
        Some(MemberSearch::Dni(d)) => q = q.filter(applications::dni.eq(d.clone())),
        Some(MemberSearch::Number(n)) => q = q.filter(memberships::number.eq(n.clone())),
        Some(MemberSearch::Name(n)) => {
            let escaped: String = n
                .to_lowercase()
                .chars()
                .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
                .collect();
            q = q.filter(lower(users::full_name).like(format!("%{escaped}%")).escape('\\'));
        }
        None => {}
    }
    if let Some(g) = &filter.group_id {
        q = q.filter(memberships::group_id.eq(g.clone()));
    }
    if let Some(s) = filter.status {
        q = q.filter(memberships::status.eq(s));
    }
    if let Some(c) = after {
        q = q.filter(
            memberships::created_at.lt(c.at).or(memberships::created_at.eq(c.at).and(memberships::id.lt(c.id.clone()))),
        );
    }
    let mut rows: Vec<MembershipRow> = q.load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| Cursor { at: r.created_at, id: r.id.clone() })
    } else {
        None
    };
    Ok(MembershipPage { rows, next })
}

/// Groups for the filter lists.
pub fn all_groups(conn: &mut DbConn) -> QueryResult<Vec<Group>> {
    groups::table.order((groups::name.asc(), groups::id.asc())).limit(500).load(conn)
}

/// The commissioners' membership search: every group (for the filter) and one page.
pub async fn membership_search(
    state: &AppState,
    filter: MembershipFilter,
    after: Option<Cursor<MembershipId>>,
) -> AppResult<(Vec<Group>, MembershipPage)> {
    state.db(move |c| Ok((all_groups(c)?, search_memberships(c, &filter, after.as_ref(), PAGE_SIZE)?))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_tells_dni_number_and_name_apart() {
        assert_eq!(MemberSearch::parse(" 30.123.456 "), Some(MemberSearch::Dni("30123456".into())));
        assert_eq!(MemberSearch::parse("7123456"), Some(MemberSearch::Dni("7123456".into())));
        assert_eq!(MemberSearch::parse("centro-000012"), Some(MemberSearch::Number("CENTRO-000012".into())));
        assert_eq!(MemberSearch::parse("CHACRA-II-000001"), Some(MemberSearch::Number("CHACRA-II-000001".into())));
        assert_eq!(MemberSearch::parse("  Juan   Pérez "), Some(MemberSearch::Name("Juan Pérez".into())));
        assert_eq!(MemberSearch::parse("123"), Some(MemberSearch::Name("123".into())));
        assert_eq!(MemberSearch::parse("   "), None);
    }

    #[test]
    fn names_and_dnis_stay_out_of_the_audit_entry() {
        let f = MembershipFilter { search: MemberSearch::parse("Juan Pérez"), ..Default::default() };
        assert!(!f.audit_value().to_string().contains("Juan"));
        let f = MembershipFilter { search: MemberSearch::parse("30.123.456"), ..Default::default() };
        assert!(!f.audit_value().to_string().contains("30123456"));
        let f = MembershipFilter { search: MemberSearch::parse("centro-000012"), ..Default::default() };
        assert!(f.audit_value().to_string().contains("CENTRO-000012"));
    }
}
