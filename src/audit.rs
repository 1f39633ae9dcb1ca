//! The audit log: an append-only chain. Each entry's hash covers the previous entry's hash
//! and the entry itself, so altering, removing or reordering any row breaks every hash
//! after it. Database triggers refuse UPDATE and DELETE; `verify` finds what got past them.
//!
//! Entries name people by account id only, never by name, email or document content, so
//! the log can outlive the personal data it refers to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::models::AuditEntry;
use crate::db::schema::audit_log;
use crate::db::{DbConn, dialect};
use crate::domain::Role;

/// The hash the first entry links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something: an account, or the system itself (jobs, the command line).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub role: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn user(id: &str, role: Role, ip: Option<&str>) -> Self {
        Self { id: Some(id.to_string()), role: Some(role.as_str().to_string()), ip: ip.map(str::to_string) }
    }

    pub fn anonymous(ip: Option<&str>) -> Self {
        Self { id: None, role: None, ip: ip.map(str::to_string) }
    }

    pub fn system(what: &str) -> Self {
        Self { id: None, role: Some(what.to_string()), ip: None }
    }
}

/// What an entry is about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub kind: &'a str,
    pub id: &'a str,
}

impl<'a> Subject<'a> {
    pub fn user(id: &'a str) -> Self {
        Self { kind: "user", id }
    }
}

/// Appends one entry. Call inside the write transaction of the change it records.
pub fn record(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &Actor,
    action: &str,
    subject: Option<Subject<'_>>,
    details: Value,
) -> QueryResult<i64> {
    dialect::lock_audit_chain(conn)?;
    let last: Option<(i64, String)> = audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut entry = AuditEntry {
        seq,
        at: now,
        actor_id: actor.id.clone(),
        actor_role: actor.role.clone(),
        action: action.to_string(),
        subject_type: subject.map(|s| s.kind.to_string()),
        subject_id: subject.map(|s| s.id.to_string()),
        // serde_json's maps are sorted, so this text is canonical.
        details: details.to_string(),
        ip: actor.ip.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    diesel::insert_into(audit_log::table).values(&entry).execute(conn)?;
    Ok(seq)
}

/// SHA-256 over the previous hash and the entry's canonical form (a JSON array of its
/// fields, times as fixed-width text).
pub fn entry_hash(e: &AuditEntry) -> String {
    let canonical = serde_json::json!([
        e.seq,
        e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        e.actor_id,
        e.actor_role,
        e.action,
        e.subject_type,
        e.subject_id,
        e.details,
        e.ip,
    ]);
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.to_string().as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    /// Every entry links to the one before and hashes to its stored value.
    Intact { entries: u64 },
    /// The first entry that does not.
    Broken { seq: i64, reason: BreakReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// Its stored hash is not the hash of its content: the row was altered.
    ContentAltered,
    /// It does not link to the entry before it: a row was removed or inserted.
    LinkBroken,
    /// The sequence skips: a row was removed.
    Gap,
}

/// Walks the whole chain in batches (never loading the table at once).
pub fn verify(conn: &mut DbConn) -> QueryResult<ChainStatus> {
    const BATCH: i64 = 1000;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_seq = 0i64;
    let mut count = 0u64;
    loop {
        let batch: Vec<AuditEntry> =
            audit_log::table.filter(audit_log::seq.gt(prev_seq)).order(audit_log::seq.asc()).limit(BATCH).load(conn)?;
        if batch.is_empty() {
            return Ok(ChainStatus::Intact { entries: count });
        }
        for e in &batch {
            if e.seq != prev_seq + 1 {
                return Ok(ChainStatus::Broken { seq: e.seq, reason: BreakReason::Gap });
            }
            if e.prev_hash != prev_hash {
                return Ok(ChainStatus::Broken { seq: e.seq, reason: BreakReason::LinkBroken });
            }
            if entry_hash(e) != e.hash {
                return Ok(ChainStatus::Broken { seq: e.seq, reason: BreakReason::ContentAltered });
            }
            prev_hash = e.hash.clone();
            prev_seq = e.seq;
            count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_micro_opt(12, 0, 0, 5).unwrap(),
            actor_id: Some("u1".into()),
            actor_role: Some("resident".into()),
            action: "account.login".into(),
            subject_type: Some("user".into()),
            subject_id: Some("u1".into()),
            details: "{}".into(),
            ip: Some("127.0.0.1".into()),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }

    #[test]
    fn the_hash_covers_every_field_and_the_link() {
        let e = entry(1, GENESIS_HASH);
        let base = entry_hash(&e);
        let mut changed = e.clone();
        changed.action = "account.logout".into();
        assert_ne!(entry_hash(&changed), base);
        let mut changed = e.clone();
        changed.ip = None;
        assert_ne!(entry_hash(&changed), base);
        let mut changed = e.clone();
        changed.prev_hash = "1".repeat(64);
        assert_ne!(entry_hash(&changed), base);
        let mut changed = e.clone();
        changed.at += chrono::Duration::microseconds(1);
        assert_ne!(entry_hash(&changed), base);
        assert_eq!(entry_hash(&e.clone()), base);
    }
}
