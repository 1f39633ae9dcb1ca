//! Browsing the audit log: search by actor, action, subject and dates, newest first, one
//! page at a time (keyset on `seq`), each entry told in plain words.
//!
//! Entries hold account ids only (see `audit.rs`); the names in the sentences are looked
//! up when a page is shown, one query per kind of thing on the page (accounts,
//! applications with their applicant, groups, memberships). An account that no longer
//! exists shows as its shortened id.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::app::AppState;
use crate::audit;
use crate::db::DbConn;
use crate::db::models::AuditEntry;
use crate::db::schema::{applications, audit_log, groups, memberships, users};
use crate::domain::{Locale, Role};
use crate::error::AppResult;
use crate::i18n::{self, Catalog};

pub const PAGE_SIZE: i64 = 50;

/// Every action the service records, as the search form lists them. Each has a sentence
/// under `oversight.say.<action>` in the catalogues (a test checks both).
pub const ACTIONS: &[&str] = &[
    "account.register",
    "account.register_existing",
    "account.email_confirmed",
    "account.login",
    "account.login_failed",
    "account.login_refused",
    "account.logout",
    "account.password_reset_requested",
    "account.password_reset",
    "account.password_changed",
    "account.profile_updated",
    "account.notifications_changed",
    "account.sessions_ended",
    "account.setup",
    "account.commissioner_created",
    "account.officer_created",
    "account.desk_created",
    "account.claimed",
    "account.claim_failed",
    "staff.invited",
    "staff.invite_accepted",
    "staff.groups_changed",
    "staff.activated",
    "staff.deactivated",
    "group.created",
    "group.updated",
    "group.deactivated",
    "group.activated",
    "group.officer_assigned",
    "application.submitted",
    "application.withdrawn",
    "application.resubmitted",
    "application.identity_replaced",
    "application.claimed",
    "application.released",
    "application.approved",
    "application.confirmed",
    "application.rejected",
    "application.info_requested",
    "application.viewed",
    "application.claims_lapsed",
    "desk.code_issued",
    "desk.notice_told",
    "document.viewed",
    "document.analysed",
    "person.viewed",
    "export.memberships",
    "export.decisions",
    "account.exported",
    "account.phone_updated",
    "account.email_change_requested",
    "account.email_changed",
    "account.deleted",
    "membership.suspended",
    "membership.reinstated",
    "membership.revoked",
    "membership.removed_from_chat",
    "membership.expired",
    "membership.reminded",
    "membership.ended",
    "retention.purged",
    "keys.rotation_started",
    "keys.rotation_finished",
    "database.backup_created",
    "database.stats_rebuilt",
    "database.time_zone_changed",
];

/// What an entry can be about.
pub const SUBJECT_TYPES: [&str; 5] = ["application", "membership", "user", "document", "group"];

/// Entries about any of these things (OR); the history pages use it.
#[derive(Debug, Clone, Default)]
pub struct Related {
    pub user_ids: Vec<String>,
    pub application_ids: Vec<String>,
    pub document_ids: Vec<String>,
    pub membership_ids: Vec<String>,
}

/// The search; every field that is set must match (AND).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// From this instant on.
    pub from: Option<NaiveDateTime>,
    /// Before this instant.
    pub until: Option<NaiveDateTime>,
    pub related: Option<Related>,
}

/// One entry as the page shows it.
#[derive(Debug, Clone)]
pub struct AuditLine {
    pub entry: AuditEntry,
    pub sentence: String,
    /// The entry's stored hash matches its content (altered rows show up on any page that
    /// lists them; the links between entries are checked by the full verification).
    pub hash_ok: bool,
    /// The application the entry concerns, for a link to its history.
    pub application_id: Option<String>,
    /// The person the entry concerns (or who acted), for a link to their history.
    pub person_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    /// `?before=` for the next (older) page.
    pub next_before: Option<i64>,
}

/// Newest first, entries with `seq < before`, at most `limit`.
pub fn search(
    conn: &mut DbConn,
    locale: Locale,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<AuditPage> {
    let mut q = audit_log::table.order(audit_log::seq.desc()).limit(limit + 1).into_boxed();
    if let Some(b) = before {
        q = q.filter(audit_log::seq.lt(b));
    }
    if let Some(a) = &filter.actor_id {
        q = q.filter(audit_log::actor_id.eq(a.clone()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_log::action.eq(a.clone()));
    }
    if let Some(t) = &filter.subject_type {
        q = q.filter(audit_log::subject_type.eq(t.clone()));
    }
    if let Some(s) = &filter.subject_id {
        q = q.filter(audit_log::subject_id.eq(s.clone()));
    }
    if let Some(f) = filter.from {
        q = q.filter(audit_log::at.ge(f));
    }
    if let Some(u) = filter.until {
        q = q.filter(audit_log::at.lt(u));
    }
    if let Some(r) = &filter.related {
        q = q.filter(
            audit_log::subject_type
                .eq("user")
                .and(audit_log::subject_id.eq_any(r.user_ids.clone()))
                .or(audit_log::subject_type
                    .eq("application")
                    .and(audit_log::subject_id.eq_any(r.application_ids.clone())))
                .or(audit_log::subject_type.eq("document").and(audit_log::subject_id.eq_any(r.document_ids.clone())))
                .or(audit_log::subject_type
                    .eq("membership")
                    .and(audit_log::subject_id.eq_any(r.membership_ids.clone()))),
        );
    }
    let mut entries: Vec<AuditEntry> = q.load(conn)?;
    let next_before = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    let names = Names::lookup(conn, &entries)?;
    let lines = entries.into_iter().map(|e| line(locale, e, &names)).collect();
    Ok(AuditPage { lines, next_before })
}

/// A page of the audit search, and whether the actor typed matched no account.
pub struct Browse {
    pub page: AuditPage,
    pub unknown_actor: bool,
}

/// The audit page's search: resolves the actor field (id or email), then searches.
pub fn browse(
    conn: &mut DbConn,
    locale: Locale,
    actor: &str,
    mut filter: AuditFilter,
    before: Option<i64>,
) -> QueryResult<Browse> {
    match resolve_actor(conn, actor)? {
        ActorQuery::Any => {}
        ActorQuery::Id(id) => filter.actor_id = Some(id),
        ActorQuery::Unknown => {
            return Ok(Browse { page: AuditPage { lines: Vec::new(), next_before: None }, unknown_actor: true });
        }
    }
    Ok(Browse { page: search(conn, locale, &filter, before, PAGE_SIZE)?, unknown_actor: false })
}

/// One page of the audit search, as of the filter the form sent.
pub async fn browse_page(
    state: &AppState,
    locale: Locale,
    actor: String,
    filter: AuditFilter,
    before: Option<i64>,
) -> AppResult<Browse> {
    state.db(move |c| Ok(browse(c, locale, &actor, filter, before)?)).await
}

/// Walks the whole audit chain (the commissioners' "verify" page).
pub async fn verify_chain(state: &AppState) -> AppResult<crate::audit::ChainStatus> {
    state.db(|c| Ok(crate::audit::verify(c)?)).await
}

/// What the actor field of the search form names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorQuery {
    /// Nothing typed.
    Any,
    Id(String),
    /// An email or id that matches no account: the search finds nothing.
    Unknown,
}

/// A user id, or an email resolved to one.
pub fn resolve_actor(conn: &mut DbConn, raw: &str) -> QueryResult<ActorQuery> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(ActorQuery::Any);
    }
    if raw.contains('@') {
        let id: Option<String> =
            users::table.filter(users::email.eq(raw.to_lowercase())).select(users::id).first(conn).optional()?;
        return Ok(id.map(ActorQuery::Id).unwrap_or(ActorQuery::Unknown));
    }
    Ok(match uuid::Uuid::parse_str(raw) {
        Ok(u) => ActorQuery::Id(u.to_string()),
        Err(_) => ActorQuery::Unknown,
    })
}

/// Names of the people and things a page of entries mentions.
#[derive(Debug, Default)]
pub struct Names {
    /// id → (full name, role)
    users: HashMap<String, (String, String)>,
    /// application id → (applicant's name, applicant's id, group name)
    applications: HashMap<String, (String, String, String)>,
    groups: HashMap<String, String>,
    /// membership id → number
    memberships: HashMap<String, String>,
}

fn detail<'a>(details: &'a Value, key: &str) -> Option<&'a str> {
    details.get(key).and_then(Value::as_str)
}

impl Names {
    pub fn lookup(conn: &mut DbConn, entries: &[AuditEntry]) -> QueryResult<Self> {
        let mut user_ids = HashSet::new();
        let mut app_ids = HashSet::new();
        let mut group_ids = HashSet::new();
        let mut membership_ids = HashSet::new();
        for e in entries {
            let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            user_ids.extend(e.actor_id.clone());
            if let (Some(kind), Some(id)) = (e.subject_type.as_deref(), e.subject_id.clone()) {
                match kind {
                    "user" => user_ids.insert(id),
                    "application" => app_ids.insert(id),
                    "group" => group_ids.insert(id),
                    "membership" => membership_ids.insert(id),
                    _ => false,
                };
            }
            user_ids.extend(detail(&details, "officer_id").map(str::to_string));
            app_ids.extend(detail(&details, "application_id").map(str::to_string));
            group_ids.extend(detail(&details, "group_id").map(str::to_string));
        }
        let mut names = Names::default();
        if !user_ids.is_empty() {
            let rows: Vec<(String, String, String)> = users::table
                .filter(users::id.eq_any(user_ids.into_iter().collect::<Vec<_>>()))
                .select((users::id, users::full_name, users::role))
                .load(conn)?;
            names.users = rows.into_iter().map(|(id, n, r)| (id, (n, r))).collect();
        }
        if !app_ids.is_empty() {
            let rows: Vec<(String, String, String, String)> = applications::table
                .inner_join(users::table.on(users::id.eq(applications::resident_id)))
                .inner_join(groups::table)
                .filter(applications::id.eq_any(app_ids.into_iter().collect::<Vec<_>>()))
                .select((applications::id, users::full_name, users::id, groups::name))
                .load(conn)?;
            names.applications = rows.into_iter().map(|(id, n, uid, g)| (id, (n, uid, g))).collect();
        }
        if !group_ids.is_empty() {
            names.groups = groups::table
                .filter(groups::id.eq_any(group_ids.into_iter().collect::<Vec<_>>()))
                .select((groups::id, groups::name))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
        }
        if !membership_ids.is_empty() {
            names.memberships = memberships::table
                .filter(memberships::id.eq_any(membership_ids.into_iter().collect::<Vec<_>>()))
                .select((memberships::id, memberships::number))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
        }
        Ok(names)
    }

    fn user_name(&self, id: &str) -> Option<&str> {
        self.users.get(id).map(|(n, _)| n.as_str())
    }
}

/// "#1a2b3c4d": an id as the sentences show it.
fn short(id: &str) -> String {
    format!("#{}", id.chars().take(8).collect::<String>())
}

fn line(locale: Locale, entry: AuditEntry, names: &Names) -> AuditLine {
    let details: Value = serde_json::from_str(&entry.details).unwrap_or(Value::Null);
    let application_id = match entry.subject_type.as_deref() {
        Some("application") => entry.subject_id.clone(),
        _ => detail(&details, "application_id").map(str::to_string),
    };
    let person_id = match entry.subject_type.as_deref() {
        Some("user") => entry.subject_id.clone(),
        _ => application_id
            .as_ref()
            .and_then(|a| names.applications.get(a))
            .map(|(_, uid, _)| uid.clone())
            .or_else(|| entry.actor_id.clone()),
    };
    AuditLine {
        sentence: describe(locale, &entry, &details, names),
        hash_ok: audit::entry_hash(&entry) == entry.hash,
        application_id,
        person_id,
        entry,
    }
}

/// Who acted, in words: staff by role and name ("Oficial Ana Gómez"), residents by name,
/// the system by the part that acted, nobody signed in as such.
fn actor_phrase(locale: Locale, e: &AuditEntry, names: &Names) -> String {
    match (&e.actor_id, &e.actor_role) {
        (Some(id), role) => {
            let name = names.user_name(id).map(str::to_string).unwrap_or_else(|| short(id));
            match role.as_deref() {
                Some(r) if r != Role::Resident.as_str() && Catalog::get().has(locale, &format!("role.{r}")) => {
                    i18n::format(
                        locale,
                        "oversight.actor.staff",
                        &[("role", i18n::t(locale, &format!("role.{r}"))), ("name", &name)],
                    )
                }
                _ => name,
            }
        }
        (None, Some(what)) => i18n::format(locale, "oversight.actor.system", &[("what", what)]),
        (None, None) => i18n::t(locale, "oversight.actor.anonymous").to_string(),
    }
}

/// The entry as a sentence from the catalogue template of its action, placeholders filled
/// with names. An action without a template (a newer version's) falls back to its code.
pub fn describe(locale: Locale, e: &AuditEntry, details: &Value, names: &Names) -> String {
    let unknown = i18n::t(locale, "oversight.unknown");
    let subject_id = e.subject_id.as_deref().unwrap_or("");
    let application = match e.subject_type.as_deref() {
        Some("application") => Some(subject_id),
        _ => detail(details, "application_id"),
    };
    let app_names = application.and_then(|a| names.applications.get(a));
    let person = match e.subject_type.as_deref() {
        Some("user") => names.user_name(subject_id).map(str::to_string).unwrap_or_else(|| short(subject_id)),
        _ => unknown.to_string(),
    };
    let group = match e.subject_type.as_deref() {
        Some("group") => names.groups.get(subject_id).cloned(),
        _ => detail(details, "group_id").and_then(|g| names.groups.get(g).cloned()),
    }
    .or_else(|| app_names.map(|(_, _, g)| g.clone()))
    .unwrap_or_else(|| unknown.to_string());
    let document = detail(details, "kind")
        .filter(|k| Catalog::get().has(locale, &format!("oversight.document.{k}")))
        .map(|k| i18n::t(locale, &format!("oversight.document.{k}")).to_string())
        .unwrap_or_else(|| i18n::t(locale, "oversight.document.unknown").to_string());
    let officer = detail(details, "officer_id")
        .map(|o| names.user_name(o).map(str::to_string).unwrap_or_else(|| short(o)))
        .unwrap_or_else(|| unknown.to_string());
    let reason = detail(details, "reason")
        .map(|r| {
            let key = format!("reject.reason.{r}");
            if Catalog::get().has(locale, &key) { i18n::t(locale, &key).to_string() } else { r.to_string() }
        })
        .unwrap_or_else(|| unknown.to_string());
    let role = detail(details, "role")
        .map(|r| i18n::t(locale, &format!("role.{r}")).to_string())
        .unwrap_or_else(|| unknown.to_string());
    let number = |key: &str| details.get(key).and_then(Value::as_i64).map(|n| n.to_string()).unwrap_or_default();
    let membership = match e.subject_type.as_deref() {
        Some("membership") => names.memberships.get(subject_id).cloned().unwrap_or_else(|| short(subject_id)),
        _ => unknown.to_string(),
    };
    let args: [(&str, String); 13] = [
        ("actor", actor_phrase(locale, e, names)),
        ("person", person),
        ("application", application.map(short).unwrap_or_else(|| unknown.to_string())),
        ("resident", app_names.map(|(n, _, _)| n.clone()).unwrap_or_else(|| unknown.to_string())),
        ("group", group),
        ("document", document),
        ("officer", officer),
        ("reason", reason),
        ("role", role),
        ("rows", number("rows")),
        ("count", number("released")),
        ("days", number("days")),
        ("membership", membership),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // An application taken at the police station's desk says so, and by whom (the actor).
    let desk = e.action == "application.submitted" && details.get("desk") == Some(&Value::Bool(true));
    // A notice told about a membership names the membership, not the application.
    let membership_notice = e.action == "desk.notice_told" && e.subject_type.as_deref() == Some("membership");
    let key = if desk {
        "oversight.say.application.submitted_desk".to_string()
    } else if membership_notice {
        "oversight.say.desk.notice_told_membership".to_string()
    } else {
        format!("oversight.say.{}", e.action)
    };
    if Catalog::get().has(locale, &key) {
        i18n::format(locale, &key, &args)
    } else {
        let mut with_action = args.clone();
        with_action.push(("action", &e.action));
        i18n::format(locale, "oversight.say.unknown", &with_action)
    }
}

#[cfg(test)]
mod tests {
    /// Every action some service records is listed (so the search form offers it) — found
    /// by scanning the sources for audit action literals.
    #[test]
    fn every_recorded_action_is_listed() {
        let prefixes = [
            "account",
            "staff",
            "group",
            "application",
            "document",
            "person",
            "export",
            "membership",
            "retention",
            "keys",
            "database",
        ];
        let mut missing = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for literal in text.split('"').skip(1).step_by(2) {
                    let Some((prefix, rest)) = literal.split_once('.') else { continue };
                    let is_action = prefixes.contains(&prefix)
                        && !rest.is_empty()
                        && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    if is_action && !ACTIONS.contains(&literal) && !missing.contains(&literal.to_string()) {
                        missing.push(literal.to_string());
                    }
                }
            }
        }
        assert!(missing.is_empty(), "audit actions missing from ACTIONS: {missing:?}");
    }

    use super::*;

    #[test]
    fn every_known_action_has_a_sentence_in_both_languages() {
        for locale in Locale::ALL {
            for action in ACTIONS {
                let key = format!("oversight.say.{action}");
                assert!(Catalog::get().has(locale, &key), "{key} in {}", locale.as_str());
            }
        }
    }

    fn entry(action: &str, actor: Option<(&str, &str)>, subject: Option<(&str, &str)>, details: &str) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_opt(12, 0, 0).unwrap(),
            actor_id: actor.map(|a| a.0.to_string()),
            actor_role: actor.map(|a| a.1.to_string()),
            action: action.into(),
            subject_type: subject.map(|s| s.0.to_string()),
            subject_id: subject.map(|s| s.1.to_string()),
            details: details.into(),
            ip: None,
            prev_hash: audit::GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    fn names() -> Names {
        let mut n = Names::default();
        n.users.insert("o1".into(), ("Ana Gómez".into(), "officer".into()));
        n.users.insert("r1".into(), ("Juan Pérez".into(), "resident".into()));
        n.applications
            .insert("a1b2c3d4-0000-4000-8000-000000000000".into(), ("Juan Pérez".into(), "r1".into(), "Centro".into()));
        n
    }

    fn say(locale: Locale, e: &AuditEntry) -> String {
        describe(locale, e, &serde_json::from_str(&e.details).unwrap(), &names())
    }

    #[test]
    fn entries_read_as_plain_sentences_with_names() {
        let app = "a1b2c3d4-0000-4000-8000-000000000000";
        let approved = entry("application.approved", Some(("o1", "officer")), Some(("application", app)), "{}");
        assert_eq!(say(Locale::Es, &approved), "Oficial Ana Gómez aprobó la solicitud #a1b2c3d4 de Juan Pérez.");
        assert_eq!(say(Locale::En, &approved), "Officer Ana Gómez approved application #a1b2c3d4 from Juan Pérez.");
        let viewed = entry(
            "document.viewed",
            Some(("o1", "officer")),
            Some(("document", "d1")),
            &format!(r#"{{"application_id":"{app}","kind":"criminal_record"}}"#),
        );
        assert_eq!(
            say(Locale::Es, &viewed),
            "Oficial Ana Gómez vio el certificado de antecedentes penales de Juan Pérez (solicitud #a1b2c3d4)."
        );
        let rejected = entry(
            "application.rejected",
            Some(("o1", "officer")),
            Some(("application", app)),
            r#"{"reason":"record_found"}"#,
        );
        assert!(say(Locale::Es, &rejected).contains("El certificado registra antecedentes"));
        let login = entry("account.login", Some(("r1", "resident")), Some(("user", "r1")), "{}");
        assert_eq!(say(Locale::Es, &login), "Juan Pérez ingresó al sistema.");
        let mut job = entry("application.claims_lapsed", None, None, r#"{"released":3}"#);
        job.actor_role = Some("jobs".into());
        assert!(say(Locale::Es, &job).starts_with("El sistema (jobs)"), "{}", say(Locale::Es, &job));
        assert!(say(Locale::Es, &job).contains('3'));
        let failed = entry("account.login_failed", None, None, r#"{"reason":"unknown_account"}"#);
        assert!(say(Locale::En, &failed).starts_with("Someone not signed in"));
        let gone = entry("account.logout", Some(("9f8e7d6c-dead", "resident")), Some(("user", "9f8e7d6c-dead")), "{}");
        assert!(say(Locale::Es, &gone).contains("#9f8e7d6c"), "a deleted account shows as its id");
        let future = entry("thing.done", None, None, "{}");
        assert!(say(Locale::Es, &future).contains("thing.done"));
    }
}
