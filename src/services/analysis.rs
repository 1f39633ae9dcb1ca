//! Reading the stored documents for the officer, after the application is stored: the
//! background job takes the documents waiting to be read, reads each in a child process
//! (`documents::analysis::isolate`), stores the pages drawn (encrypted) and what was found,
//! and records it in the audit log as the system's action. And the reads the pages need:
//! what was found per document, and the possible duplicates of an application.
//!
//! The queue is the `document_analyses` table, like the mail outbox: a row is written
//! with each document, in the application's transaction; any instance's worker (or
//! `vecinal jobs run`) claims due rows by a conditional update that sets a lease, works
//! outside any transaction, and stores the result in a short one.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{Actor, Subject};
use crate::db::DbConn;
use crate::db::models::{Document, DocumentAnalysis};
use crate::db::schema::{applications, document_analyses, documents, memberships, users};
use crate::documents::analysis::{self, Findings, dni};
use crate::documents::sniff::MediaType;
use crate::domain::application::{DocumentKind, Status};
use crate::domain::{ApplicationId, DocumentId, GroupId, UserId};
use crate::error::{AppError, AppResult};

/// Documents claimed per round.
const BATCH: i64 = 4;
/// A claimed analysis not finished after its lease is taken again (its worker died); after
/// this many attempts it is given up as unread.
const MAX_ATTEMPTS: i32 = 3;

fn lease(settings: &crate::app::config::Settings) -> TimeDelta {
    TimeDelta::from_std(settings.analysis_timeout * 2).unwrap_or(TimeDelta::minutes(20)) + TimeDelta::minutes(1)
}

/// How the DNI barcode compares with the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Match,
    Mismatch,
    Unread,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::Mismatch => "mismatch",
            Verdict::Unread => "unread",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Verdict::Match, Verdict::Mismatch, Verdict::Unread].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisReport {
    pub analysed: usize,
    pub given_up: usize,
}

/// Reads every document waiting to be read, a few at a time, until none is due.
pub async fn run_due(state: &AppState) -> AppResult<AnalysisReport> {
    let mut report = AnalysisReport::default();
    loop {
        let now = state.clock.now();
        let lease = lease(&state.settings);
        let claimed = state.db(move |conn| claim_due(conn, now, lease)).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        let mut tasks = Vec::new();
        for row in claimed {
            if row.attempts > MAX_ATTEMPTS {
                report.given_up += 1;
                give_up(state, row).await?;
                continue;
            }
            tasks.push(analyse_one(state, row));
        }
        for result in futures_util::future::join_all(tasks).await {
            result?;
            report.analysed += 1;
        }
    }
}

/// Claims up to [`BATCH`] due analyses: read outside a write transaction, then each taken by
/// an update that repeats the condition, so two workers never take the same row.
fn claim_due(conn: &mut DbConn, now: NaiveDateTime, lease: TimeDelta) -> AppResult<Vec<DocumentAnalysis>> {
    let due: Vec<DocumentAnalysis> = document_analyses::table
        .filter(document_analyses::state.eq("pending"))
        .filter(document_analyses::next_attempt_at.le(now))
        .order(document_analyses::next_attempt_at.asc())
        .limit(BATCH)
        .select(DocumentAnalysis::as_select())
        .load(conn)?;
    let mut claimed = Vec::new();
    for mut row in due {
        let took = conn.write_tx(|c| {
            diesel::update(
                document_analyses::table
                    .filter(document_analyses::document_id.eq(&row.document_id))
                    .filter(document_analyses::state.eq("pending"))
                    .filter(document_analyses::attempts.eq(row.attempts))
                    .filter(document_analyses::next_attempt_at.le(now)),
            )
            .set((document_analyses::attempts.eq(row.attempts + 1), document_analyses::next_attempt_at.eq(now + lease)))
            .execute(c)
        })?;
        if took == 1 {
            row.attempts += 1;
            claimed.push(row);
        }
    }
    Ok(claimed)
}

/// What the comparison needs from the application: the DNI typed and the account's name.
struct Context {
    doc: Document,
    dni: String,
    full_name: String,
}

fn context(conn: &mut DbConn, document_id: &DocumentId) -> QueryResult<Option<Context>> {
    let found: Option<(Document, String, String)> = documents::table
        .inner_join(applications::table.inner_join(users::table.on(users::id.eq(applications::resident_id))))
        .filter(documents::id.eq(document_id))
        .select((Document::as_select(), applications::dni, users::full_name))
        .first(conn)
        .optional()?;
    Ok(found.map(|(doc, dni, full_name)| Context { doc, dni, full_name }))
}

async fn analyse_one(state: &AppState, row: DocumentAnalysis) -> AppResult<()> {
    let keys = state.keys.clone();
    let id = row.document_id.clone();
    let read = state
        .db(move |conn| {
            let Some(ctx) = context(conn, &id)? else { return Ok(None) };
            let bytes = crate::documents::read(conn, &keys, &ctx.doc).map_err(AppError::Internal)?;
            Ok(bytes.map(|b| (ctx, b)))
        })
        .await?;
    let Some((ctx, bytes)) = read else {
        // The file was deleted meanwhile: nothing to read, and nothing read may stay.
        return finish(state, row, None, Findings::default()).await;
    };
    let (Ok(kind), Some(media)) = (ctx.doc.kind.parse::<DocumentKind>(), MediaType::parse(&ctx.doc.media_type)) else {
        return Err(AppError::Internal(anyhow::anyhow!("document {} has an unknown kind or type", ctx.doc.id)));
    };
    let findings = {
        let _permit = state.analysers.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
        analysis::isolate::analyse(
            &state.settings.analysis_program,
            kind,
            media,
            bytes,
            state.settings.analysis_timeout,
        )
        .await
    };
    finish(state, row, Some(ctx), findings).await
}

/// Stores what was found (the pages encrypted first, off the async workers) and the audit
/// entry, if the row is still this worker's and the file still exists.
async fn finish(
    state: &AppState,
    row: DocumentAnalysis,
    ctx: Option<Context>,
    mut findings: Findings,
) -> AppResult<()> {
    let keys = state.keys.clone();
    let pages = std::mem::take(&mut findings.pages);
    let sealed = match &ctx {
        Some(ctx) => {
            let (keys, doc) = (keys.clone(), ctx.doc.clone());
            crate::documents::file_work(move || crate::documents::seal_renditions(&keys, &doc, pages))
                .await
                .map_err(AppError::Internal)?
                .map_err(AppError::Internal)?
        }
        None => Vec::new(),
    };
    let comparison = match (&ctx, &findings.dni) {
        (Some(ctx), Some(read)) => Some(dni::compare(read, &ctx.dni, &ctx.full_name)),
        _ => None,
    };
    let is_identity = ctx.as_ref().is_some_and(|c| c.doc.kind == DocumentKind::IdentityDocument.as_str());
    let kind = ctx.as_ref().map(|c| c.doc.kind.clone());
    let verdict = match (&comparison, is_identity) {
        (_, false) => None,
        (Some(c), true) if c.matches() => Some(Verdict::Match),
        (Some(_), true) => Some(Verdict::Mismatch),
        (None, true) => Some(Verdict::Unread),
    };
    state
        .write(move |tx| {
            let mut sealed = sealed;
            let still_mine = document_analyses::table
                .filter(document_analyses::document_id.eq(&row.document_id))
                .filter(document_analyses::state.eq("pending"))
                .filter(document_analyses::attempts.eq(row.attempts))
                .count()
                .get_result::<i64>(tx.conn)?
                == 1;
            if !still_mine {
                return Ok(());
            }
            let doc = match &ctx {
                Some(ctx) if crate::documents::has_file(tx.conn, &ctx.doc.id)? => Some(&ctx.doc),
                _ => None,
            };
            let stored_pages = match doc {
                Some(doc) => {
                    crate::documents::insert_renditions(tx.conn, &keys, doc, &mut sealed)
                        .map_err(AppError::Internal)?;
                    sealed.len() as i32
                }
                None => 0,
            };
            let (read, codes) =
                if doc.is_some() { (findings.dni.clone(), findings.codes.clone()) } else { (None, vec![]) };
            diesel::update(document_analyses::table.find(&row.document_id))
                .set((
                    document_analyses::state.eq("done"),
                    document_analyses::finished_at.eq(Some(tx.now)),
                    document_analyses::pages.eq(stored_pages),
                    document_analyses::total_pages.eq(findings.total_pages as i32),
                    document_analyses::not_rendered.eq(findings.not_rendered.map(not_rendered_str)),
                    document_analyses::dni_verdict.eq(verdict.map(Verdict::as_str)),
                    document_analyses::dni_number.eq(read.as_ref().map(|r| r.number.clone())),
                    document_analyses::dni_surname.eq(read.as_ref().map(|r| r.surname.clone())),
                    document_analyses::dni_names.eq(read.as_ref().map(|r| r.names.clone())),
                    document_analyses::dni_number_matches.eq(comparison.as_ref().map(|c| c.number_matches)),
                    document_analyses::dni_words_missing
                        .eq(comparison.as_ref().map(|c| serde_json::to_string(&c.words_missing).unwrap_or_default())),
                    document_analyses::codes.eq(serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())),
                ))
                .execute(tx.conn)?;
            tx.audit(
                &Actor::system("analysis"),
                "document.analysed",
                Some(Subject { kind: "document", id: &row.document_id }),
                json!({
                    "application_id": row.application_id,
                    "kind": kind,
                    "pages": stored_pages,
                    "not_rendered": findings.not_rendered.map(not_rendered_str),
                    "dni": verdict.map(Verdict::as_str),
                    "codes": codes.len(),
                }),
            )?;
            Ok(())
        })
        .await
}

/// An analysis whose worker died [`MAX_ATTEMPTS`] times: finished as unread.
async fn give_up(state: &AppState, row: DocumentAnalysis) -> AppResult<()> {
    let (kind, media) = state
        .db({
            let id = row.document_id.clone();
            move |conn| {
                Ok(documents::table
                    .find(&id)
                    .select((documents::kind, documents::media_type))
                    .first::<(String, String)>(conn)
                    .optional()?)
            }
        })
        .await?
        .unwrap_or_default();
    let media = MediaType::parse(&media).unwrap_or(MediaType::Png);
    let findings = Findings::failed(media, analysis::render::NotRendered::TooSlow);
    let verdict = (kind == DocumentKind::IdentityDocument.as_str()).then_some(Verdict::Unread);
    state
        .write(move |tx| {
            let n = diesel::update(
                document_analyses::table
                    .filter(document_analyses::document_id.eq(&row.document_id))
                    .filter(document_analyses::state.eq("pending"))
                    .filter(document_analyses::attempts.eq(row.attempts)),
            )
            .set((
                document_analyses::state.eq("done"),
                document_analyses::finished_at.eq(Some(tx.now)),
                document_analyses::not_rendered.eq(findings.not_rendered.map(not_rendered_str)),
                document_analyses::dni_verdict.eq(verdict.map(Verdict::as_str)),
            ))
            .execute(tx.conn)?;
            if n == 1 {
                tx.audit(
                    &Actor::system("analysis"),
                    "document.analysed",
                    Some(Subject { kind: "document", id: &row.document_id }),
                    json!({
                        "application_id": row.application_id,
                        "kind": kind,
                        "given_up": true,
                        "dni": verdict.map(Verdict::as_str),
                    }),
                )?;
            }
            Ok(())
        })
        .await
}

fn not_rendered_str(n: analysis::render::NotRendered) -> &'static str {
    use analysis::render::NotRendered::*;
    match n {
        Unreadable => "unreadable",
        Encrypted => "encrypted",
        PageTooLarge => "page_too_large",
        TooSlow => "too_slow",
    }
}

/// What was read in one document, for the pages.
#[derive(Debug, Clone)]
pub struct DocumentReading {
    pub done: bool,
    pub pages: i32,
    pub total_pages: i32,
    pub not_rendered: bool,
    pub verdict: Option<Verdict>,
    pub number_read: Option<String>,
    pub name_read: Option<String>,
    pub number_matches: Option<bool>,
    pub words_missing: Vec<String>,
    pub codes: Vec<String>,
}

impl From<DocumentAnalysis> for DocumentReading {
    fn from(a: DocumentAnalysis) -> Self {
        let name_read = match (&a.dni_surname, &a.dni_names) {
            (Some(s), Some(n)) => Some(format!("{s}, {n}")),
            _ => None,
        };
        DocumentReading {
            done: a.state == "done",
            pages: a.pages,
            total_pages: a.total_pages,
            not_rendered: a.not_rendered.is_some(),
            verdict: a.dni_verdict.as_deref().and_then(Verdict::parse),
            number_read: a.dni_number,
            name_read,
            number_matches: a.dni_number_matches,
            words_missing: a.dni_words_missing.and_then(|w| serde_json::from_str(&w).ok()).unwrap_or_default(),
            codes: serde_json::from_str(&a.codes).unwrap_or_default(),
        }
    }
}

/// What was read in each of these documents, by document id.
pub fn readings(
    conn: &mut DbConn,
    document_ids: &[DocumentId],
) -> QueryResult<std::collections::HashMap<DocumentId, DocumentReading>> {
    let rows: Vec<DocumentAnalysis> = document_analyses::table
        .filter(document_analyses::document_id.eq_any(document_ids.iter().map(|d| d.as_str())))
        .select(DocumentAnalysis::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|a| (a.document_id.clone(), DocumentReading::from(a))).collect())
}

/// Why an application may be a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicateReason {
    /// The same DNI in another account's open application.
    SameDniApplication,
    /// The same DNI in another account's current membership.
    SameDniMembership,
    /// A file identical to one of another account's application.
    SameFile,
}

/// A possible duplicate: the other record, its group, and whether the viewer may open it.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub reason: DuplicateReason,
    pub application_id: ApplicationId,
    pub group_id: GroupId,
    pub group_name: String,
    /// The viewer may open the other record: an officer of its group, or a commissioner.
    pub may_open: bool,
}

impl DuplicateReason {
    pub fn key(&self) -> &'static str {
        match self {
            DuplicateReason::SameDniApplication => crate::tk!("analysis.duplicate.same_dni_application"),
            DuplicateReason::SameDniMembership => crate::tk!("analysis.duplicate.same_dni_membership"),
            DuplicateReason::SameFile => crate::tk!("analysis.duplicate.same_file"),
        }
    }
}

/// Other accounts' records that share this application's DNI or one of its files. Each
/// other application is named once, with the first reason found. `officer_id` is the
/// viewer when an officer (who may open only their groups' records); `None` for a
/// commissioner.
pub fn duplicates_of(
    conn: &mut DbConn,
    application_id: &ApplicationId,
    resident_id: &UserId,
    dni_digits: &str,
    officer_id: Option<&UserId>,
) -> QueryResult<Vec<Duplicate>> {
    use crate::db::schema::{groups, officer_assignments};
    let mine: Option<Vec<GroupId>> = match officer_id {
        Some(o) => Some(
            officer_assignments::table
                .filter(officer_assignments::officer_id.eq(o))
                .select(officer_assignments::group_id)
                .load(conn)?,
        ),
        None => None,
    };
    let mut out: Vec<Duplicate> = Vec::new();
    let push = |out: &mut Vec<Duplicate>, reason: DuplicateReason, rows: Vec<(ApplicationId, GroupId, String)>| {
        for (application_id, group_id, group_name) in rows {
            if !out.iter().any(|d| d.application_id == application_id) {
                let may_open = mine.as_ref().is_none_or(|groups| groups.contains(&group_id));
                out.push(Duplicate { reason: reason.clone(), application_id, group_id, group_name, may_open });
            }
        }
    };
    if !dni_digits.is_empty() {
        let open: Vec<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();
        let rows = applications::table
            .inner_join(groups::table)
            .filter(applications::dni.eq(dni_digits))
            .filter(applications::resident_id.ne(resident_id))
            .filter(applications::status.eq_any(open))
            .select((applications::id, applications::group_id, groups::name))
            .limit(20)
            .load(conn)?;
        push(&mut out, DuplicateReason::SameDniApplication, rows);
        let rows = memberships::table
            .inner_join(applications::table.on(applications::id.eq(memberships::application_id)))
            .inner_join(groups::table.on(groups::id.eq(memberships::group_id)))
            .filter(applications::dni.eq(dni_digits))
            .filter(memberships::user_id.ne(resident_id))
            .filter(memberships::status.eq_any(["active", "suspended"]))
            .select((applications::id, memberships::group_id, groups::name))
            .limit(20)
            .load(conn)?;
        push(&mut out, DuplicateReason::SameDniMembership, rows);
    }
    let (mine, others) = diesel::alias!(documents as mine, documents as others);
    let rows = mine
        .inner_join(others.on(others.field(documents::sha256).eq(mine.field(documents::sha256))))
        .inner_join(applications::table.on(applications::id.eq(others.field(documents::application_id))))
        .inner_join(groups::table.on(groups::id.eq(applications::group_id)))
        .filter(mine.field(documents::application_id).eq(application_id))
        .filter(mine.field(documents::replaced_at).is_null())
        .filter(applications::resident_id.ne(resident_id))
        .select((applications::id, applications::group_id, groups::name))
        .distinct()
        .limit(20)
        .load(conn)?;
    push(&mut out, DuplicateReason::SameFile, rows);
    Ok(out)
}

/// The queue's marks for one application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Badges {
    /// The current identity document's verdict, once read.
    pub verdict: Option<Verdict>,
    /// A current duplicate signal: another account's open application or current
    /// membership has the same DNI, or a current file with the same content.
    pub duplicate: bool,
}

/// Signals per page of the commissioners' list.
pub const SIGNALS_PAGE: i64 = 50;

/// One current duplicate signal: two applications of two accounts, each open or holding a
/// current membership, that share the DNI typed, a file, or both.
#[derive(Debug, Clone)]
pub struct Signal {
    pub pair: crate::db::duplicates::Pair,
    pub same_dni: bool,
    pub same_file: bool,
}

pub struct SignalPage {
    pub signals: Vec<Signal>,
    pub next: Option<crate::db::duplicates::PairKey>,
}

/// A page of the current duplicate signals, newest found first. Each pair shows once, with
/// every reason that still holds; a pair whose only shared file was since replaced is left
/// out (its place in the order still moves the page on).
pub async fn current_duplicates(
    state: &AppState,
    after: Option<crate::db::duplicates::PairKey>,
) -> AppResult<SignalPage> {
    use crate::db::duplicates::{self, PairKey};
    state
        .db(move |conn| {
            let mut pairs = duplicates::current(conn, after.as_ref(), SIGNALS_PAGE + 1)?;
            let next = if pairs.len() as i64 > SIGNALS_PAGE {
                pairs.truncate(SIGNALS_PAGE as usize);
                pairs.last().map(|p| PairKey {
                    found_at: p.found_at,
                    first: p.first.id.clone(),
                    second: p.second.id.clone(),
                })
            } else {
                None
            };
            Ok(SignalPage { signals: signals(conn, pairs)?, next })
        })
        .await
}

fn same_dni(pair: &crate::db::duplicates::Pair) -> bool {
    !pair.first.dni.is_empty() && pair.first.dni == pair.second.dni
}

/// The pairs whose reason still holds (the same DNI typed, or a current file on both sides
/// with the same SHA-256), with their reasons.
fn signals(conn: &mut DbConn, pairs: Vec<crate::db::duplicates::Pair>) -> QueryResult<Vec<Signal>> {
    let shared = shared_files(conn, &pairs)?;
    Ok(pairs
        .into_iter()
        .filter_map(|pair| {
            let same_dni = same_dni(&pair);
            let same_file = shared.contains(&(pair.first.id.clone(), pair.second.id.clone()));
            (same_dni || same_file).then_some(Signal { pair, same_dni, same_file })
        })
        .collect())
}

/// Which of these pairs still hold a current file (not replaced) with the same SHA-256 on
/// both sides: one statement for the page, through `documents_application` and
/// `documents_sha256`.
fn shared_files(
    conn: &mut DbConn,
    pairs: &[crate::db::duplicates::Pair],
) -> QueryResult<std::collections::HashSet<(ApplicationId, ApplicationId)>> {
    if pairs.is_empty() {
        return Ok(Default::default());
    }
    let firsts: Vec<&str> = pairs.iter().map(|p| p.first.id.as_str()).collect();
    let seconds: Vec<&str> = pairs.iter().map(|p| p.second.id.as_str()).collect();
    let (mine, others) = diesel::alias!(documents as mine, documents as others);
    let found: Vec<(ApplicationId, ApplicationId)> = mine
        .inner_join(others.on(others.field(documents::sha256).eq(mine.field(documents::sha256))))
        .filter(mine.field(documents::application_id).eq_any(&firsts))
        .filter(mine.field(documents::replaced_at).is_null())
        .filter(others.field(documents::application_id).eq_any(&seconds))
        .filter(others.field(documents::replaced_at).is_null())
        .select((mine.field(documents::application_id), others.field(documents::application_id)))
        .distinct()
        .load(conn)?;
    Ok(found.into_iter().collect())
}
