//! CSV exports for commissioners: memberships (the search's selection) and decisions in a
//! period. Each export is an audit entry with its filter and row count, written in the
//! transaction that reads the rows.
//!
//! Exports are built in memory and bounded by [`MAX_EXPORT_ROWS`]; a larger selection is
//! cut there and the audit entry says `"truncated": true`. Files start with a UTF-8 byte
//! order mark so spreadsheets open accented names correctly, and every text cell goes
//! through [`neutralise`] (formula injection).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::audit::Actor;
use crate::db::schema::{application_events, applications, groups, users};
use crate::domain::Locale;
use crate::domain::export::{MAX_EXPORT_ROWS, neutralise};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::services::oversight::records::{self, MembershipFilter, MembershipRow};

/// A finished export.
#[derive(Debug)]
pub struct Csv {
    pub bytes: Vec<u8>,
    pub rows: usize,
    pub truncated: bool,
}

fn iso(at: NaiveDateTime) -> String {
    at.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Writes a header (translation keys) and rows, each cell neutralised.
fn write_csv(locale: Locale, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    w.write_record(header.iter().map(|k| i18n::t(locale, k))).map_err(AppError::internal)?;
    for row in rows {
        w.write_record(row.iter().map(|c| neutralise(c).into_owned())).map_err(AppError::internal)?;
    }
    w.into_inner().map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))
}

pub async fn memberships(state: &AppState, by: Actor, locale: Locale, filter: MembershipFilter) -> AppResult<Csv> {
    let (rows, truncated) = state
        .write(move |tx| {
            let mut page = records::search_memberships(tx.conn, &filter, None, MAX_EXPORT_ROWS as i64)?;
            let truncated = page.next.take().is_some();
            tx.audit(
                &by,
                "export.memberships",
                None,
                json!({ "filter": filter.audit_value(), "rows": page.rows.len(), "truncated": truncated }),
            )?;
            Ok((page.rows, truncated))
        })
        .await?;
    let n = rows.len();
    let bytes = write_csv(
        locale,
        &[
            "oversight.csv.number",
            "oversight.csv.status",
            "oversight.csv.name",
            "oversight.csv.dni",
            "oversight.csv.group",
            "oversight.csv.valid_from",
            "oversight.csv.valid_until",
            "oversight.csv.membership_id",
            "oversight.csv.application_id",
        ],
        rows.into_iter().map(|r: MembershipRow| {
            vec![
                r.number,
                r.status,
                r.full_name,
                r.dni,
                r.group_name,
                r.valid_from.to_string(),
                r.valid_until.to_string(),
                r.id.to_string(),
                r.application_id,
            ]
        }),
    )?;
    Ok(Csv { bytes, rows: n, truncated })
}

/// One decision as the export lists it.
#[derive(Debug, Clone)]
struct DecisionRow {
    application_id: String,
    group: String,
    applicant: String,
    decision: String,
    reason: String,
    officers: String,
    submitted_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
}

/// Approvals and rejections decided in the last `days` days, oldest first. The deciding
/// officer is the one on the decision's timeline event; in two-approval groups the first
/// approver comes first ("first; confirming").
pub async fn decisions(state: &AppState, by: Actor, locale: Locale, days: i64) -> AppResult<Csv> {
    let now = state.clock.now();
    let start = crate::domain::day::days_before(now, days);
    let (rows, truncated) = state
        .write(move |tx| {
            type Raw = (
                String,
                String,
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                NaiveDateTime,
                Option<NaiveDateTime>,
            );
            let mut raw: Vec<Raw> = applications::table
                .inner_join(groups::table)
                .inner_join(users::table.on(users::id.eq(applications::resident_id)))
                .inner_join(application_events::table)
                .filter(applications::status.eq_any(["approved", "rejected"]))
                .filter(application_events::kind.eq_any(["approved", "rejected"]))
                .filter(applications::decided_at.ge(start))
                .select((
                    applications::id,
                    groups::name,
                    users::full_name,
                    applications::status,
                    application_events::details,
                    application_events::actor_id,
                    applications::first_approver,
                    applications::submitted_at,
                    applications::decided_at,
                ))
                .order((applications::decided_at.asc(), applications::id.asc()))
                .limit(MAX_EXPORT_ROWS as i64 + 1)
                .load(tx.conn)?;
            let truncated = raw.len() > MAX_EXPORT_ROWS;
            raw.truncate(MAX_EXPORT_ROWS);
            let mut officer_ids: Vec<String> = raw.iter().flat_map(|r| [r.5.clone(), r.6.clone()]).flatten().collect();
            officer_ids.sort();
            officer_ids.dedup();
            let names: HashMap<String, String> = if officer_ids.is_empty() {
                HashMap::new()
            } else {
                users::table
                    .filter(users::id.eq_any(officer_ids))
                    .select((users::id, users::full_name))
                    .load::<(String, String)>(tx.conn)?
                    .into_iter()
                    .collect()
            };
            let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
            let rows: Vec<DecisionRow> = raw
                .into_iter()
                .map(|(id, group, applicant, status, details, actor, first, submitted_at, decided_at)| {
                    let details: Value = serde_json::from_str(&details).unwrap_or(Value::Null);
                    let reason = details.get("reason").and_then(Value::as_str).unwrap_or("").to_string();
                    let mut officers: Vec<String> = Vec::new();
                    if status == "approved"
                        && let Some(f) = first.as_deref().filter(|f| Some(*f) != actor.as_deref())
                    {
                        officers.push(name(f));
                    }
                    officers.extend(actor.as_deref().map(name));
                    DecisionRow {
                        application_id: id,
                        group,
                        applicant,
                        decision: status,
                        reason,
                        officers: officers.join("; "),
                        submitted_at,
                        decided_at,
                    }
                })
                .collect();
            tx.audit(
                &by,
                "export.decisions",
                None,
                json!({ "days": days, "rows": rows.len(), "truncated": truncated }),
            )?;
            Ok((rows, truncated))
        })
        .await?;
    let n = rows.len();
    let bytes = write_csv(
        locale,
        &[
            "oversight.csv.application_id",
            "oversight.csv.group",
            "oversight.csv.applicant",
            "oversight.csv.decision",
            "oversight.csv.reason",
            "oversight.csv.officers",
            "oversight.csv.submitted_at",
            "oversight.csv.decided_at",
        ],
        rows.into_iter().map(|r| {
            vec![
                r.application_id,
                r.group,
                r.applicant,
                r.decision,
                r.reason,
                r.officers,
                iso(r.submitted_at),
                r.decided_at.map(iso).unwrap_or_default(),
            ]
        }),
    )?;
    Ok(Csv { bytes, rows: n, truncated })
}

/// `membresias-2026-11-27.csv`: the export's name with today's date.
pub fn file_name(locale: Locale, key: &str, today: chrono::NaiveDate) -> String {
    format!("{}-{}.csv", i18n::t(locale, key), today.format("%Y-%m-%d"))
}
