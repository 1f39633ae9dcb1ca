//! The officer's side of applications: the queue of their groups, one application with
//! everything needed to decide, and the decisions. Each decision is one transaction with
//! its timeline event, audit entry, the mail that tells the resident and, on approval, the
//! membership.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::app::config::Settings;
use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::db::DbConn;
use crate::db::models::{Application, ApplicationEvent, Document, Group, User};
use crate::db::queries::applications::{StatusChange, change_status, open_condition};
use crate::db::queries::scope::assigned_groups;
use crate::db::schema::{application_counts, application_events, applications, groups, users};
use crate::documents;
use crate::domain::Role;
use crate::domain::application::{self as rules, Action, DocumentKind, Status, TransitionError};
use crate::domain::ids::Id;
use crate::domain::membership::MembershipStatus;
use crate::domain::notice::NoticeKind;
use crate::domain::{ApplicationId, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{Approved, Digest, MailKind, NeedsInfo, Rejected};
use crate::services::analysis::{Badges, Verdict};
use crate::services::applications::{Event, add_event};
use crate::services::memberships;
use crate::services::notices::{self, About};

pub const PAGE_SIZE: i64 = 50;

/// Reasons an officer may give for a rejection. The resident sees the reason's text.
pub const REJECT_REASONS: [&str; 7] =
    ["not_resident", "record_found", "unreadable", "certificate_too_old", "identity_mismatch", "duplicate", "other"];

pub fn groups_of(conn: &mut DbConn, officer_id: &UserId) -> QueryResult<Vec<Group>> {
    groups::table.filter(groups::id.eq_any(assigned_groups(officer_id))).order(groups::name.asc()).load(conn)
}

/// Where a keyset page starts: after the record made at `at` with id `id` (applications in
/// the queue, memberships in the commissioners' search).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<I = ApplicationId> {
    pub at: NaiveDateTime,
    pub id: I,
}

impl<I: Id> Cursor<I> {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.and_utc().timestamp_micros(), self.id)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once('_')?;
        // A cursor comes back in a link, so anyone can edit it: an instant outside the days a
        // request may name would make PostgreSQL refuse the query.
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        crate::domain::day::is_in_range(at).then_some(())?;
        Some(Self { at, id: I::parse(id)? })
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub group_id: Option<String>,
    pub status: Option<Status>,
    pub claimed_by_me: bool,
    /// Only applications whose current identity document got this verdict.
    pub verdict: Option<crate::services::analysis::Verdict>,
}

/// What the queue shows of an application: only these columns are read, since a page is
/// read on every visit of every officer.
pub struct QueueRow {
    pub id: ApplicationId,
    pub status: Status,
    pub submitted_at: NaiveDateTime,
    pub group_name: String,
    pub applicant_name: String,
    pub claimer_name: Option<String>,
    /// The DNI verdict and the duplicate sign.
    pub marks: Badges,
}

diesel::alias!(users as claimers: Claimers);

pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    pub next: Option<Cursor>,
}

/// Open applications of the officer's groups, oldest first, one page at a time. Keyset
/// pagination on (submitted_at, id): each page is an index range scan, however deep.
///
/// Each of the officer's groups (or the one asked for) is read on its own, in queue order
/// from its index (`applications_open_group`, or `applications_queue` with a status), only
/// as far as one page, and the keys are merged here. A page then costs the same whether the
/// officer has one small group of many or most of the city, and whether the status asked for
/// is common or rare; one statement over all their groups left the planner to choose
/// between walking every open application and sorting a group's, and at 1 M applications
/// it chose a sort (a test checks the plans on both backends). Then the page's rows are
/// read by id.
pub fn queue(
    conn: &mut DbConn,
    officer_id: &UserId,
    filter: &QueueFilter,
    after: Option<&Cursor>,
) -> QueryResult<QueuePage> {
    let groups = groups_of(conn, officer_id)?;
    queue_of(conn, officer_id, &groups, filter, after)
}

/// [`queue`] for an officer whose groups (`groups_of`) the caller has already read.
fn queue_of(
    conn: &mut DbConn,
    officer_id: &UserId,
    groups: &[Group],
    filter: &QueueFilter,
    after: Option<&Cursor>,
) -> QueryResult<QueuePage> {
    use crate::db::fragment::{IdIn, Statement};

    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        submitted_at: NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }

    let group_ids =
        groups.iter().map(|g| g.id.to_string()).filter(|id| filter.group_id.as_ref().is_none_or(|g| g == id));
    let mut keys: Vec<(NaiveDateTime, String)> = Vec::new();
    for group_id in group_ids {
        // A fixed text with the page's size written in, not bound: PostgreSQL plans a
        // statement with a bound LIMIT again on every execution (it cannot cost a generic
        // plan without the limit), 0.34–0.46 ms three times a page at 1 M applications;
        // with the number in the text it keeps one generic plan after five executions.
        let mut q = Statement::default()
            .sql("SELECT applications.submitted_at AS submitted_at, applications.id AS id FROM applications WHERE applications.group_id = ")
            .text(group_id);
        q = match filter.status {
            // One status: `applications_queue` holds the group's applications of that status
            // in order (a second, open-statuses test would spoil that on PostgreSQL).
            Some(s) if s.is_open() => q.sql(" AND applications.status = ").text(s.as_str()),
            Some(_) => return Ok(QueuePage { rows: Vec::new(), next: None }),
            None => q.sql(format!(" AND {}", open_condition("applications"))),
        };
        if filter.claimed_by_me {
            q = q.sql(" AND applications.claimed_by = ").text(officer_id.to_string());
        }
        if let Some(v) = filter.verdict {
            // A condition on the row the group's ordered read visits anyway (the verdict is
            // kept on the application); without a verdict the statement is unchanged.
            q = q.sql(" AND applications.dni_verdict = ").text(v.as_str());
        }
        if let Some(c) = after {
            q = q.after(conn, "applications", c.at, c.id.as_str());
        }
        q = q.sql(format!(" ORDER BY applications.submitted_at, applications.id LIMIT {}", PAGE_SIZE + 1));
        keys.extend(q.load::<Key>(conn)?.into_iter().map(|k| (k.submitted_at, k.id)));
    }
    keys.sort_unstable();
    keys.truncate(PAGE_SIZE as usize + 1);
    let next = if keys.len() as i64 > PAGE_SIZE {
        keys.truncate(PAGE_SIZE as usize);
        keys.last().map(|(at, id)| Cursor { at: *at, id: ApplicationId::from_stored(id.clone()) })
    } else {
        None
    };
    let ids: Vec<String> = keys.into_iter().map(|(_, id)| id).collect();
    // One read for the page: the applicant's and the claimer's names joined, the marks kept
    // on the application (the DNI verdict, whether it is in a recorded duplicate pair), group
    // names from the officer's groups already read.
    type Found = (ApplicationId, Status, NaiveDateTime, String, String, Option<String>, Option<String>, bool);
    let mut found: Vec<Found> = if ids.is_empty() {
        Vec::new()
    } else {
        applications::table
            .inner_join(users::table.on(users::id.eq(applications::resident_id)))
            .left_join(claimers.on(applications::claimed_by.eq(claimers.field(users::id).nullable())))
            .filter(IdIn::new("applications.id", ids, PAGE_SIZE as usize))
            .select((
                applications::id,
                applications::status,
                applications::submitted_at,
                applications::group_id,
                users::full_name,
                claimers.field(users::full_name).nullable(),
                applications::dni_verdict,
                applications::in_pair,
            ))
            .load(conn)?
    };
    found.sort_unstable_by(|a, b| (a.2, &*a.0).cmp(&(b.2, &*b.0)));
    // A recorded pair may no longer hold (the other side was decided, or the shared file
    // replaced): the rows in one, usually none, are checked.
    let paired: Vec<&str> = found.iter().filter(|f| f.7).map(|f| f.0.as_str()).collect();
    let twins = crate::db::duplicates::holding_among(conn, &paired)?;
    let rows = found
        .into_iter()
        .map(|(id, status, submitted_at, group_id, applicant_name, claimer_name, verdict, _)| QueueRow {
            marks: Badges { verdict: verdict.as_deref().and_then(Verdict::parse), duplicate: twins.contains(&id) },
            id,
            status,
            submitted_at,
            group_name: groups.iter().find(|g| *g.id == group_id).map(|g| g.name.clone()).unwrap_or_default(),
            applicant_name,
            claimer_name,
        })
        .collect();
    Ok(QueuePage { rows, next })
}

/// Open applications per status in the officer's groups, from the summary rows.
pub fn counts(conn: &mut DbConn, officer_id: &UserId) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = application_counts::table
        .filter(application_counts::group_id.eq_any(assigned_groups(officer_id)))
        // A constant condition, not bound values: diesel keeps the statement prepared.
        .filter(crate::db::fragment::Fixed::<diesel::sql_types::Bool>::new(open_condition("application_counts")))
        .select((application_counts::status, application_counts::n))
        .load(conn)?;
    Ok(Status::OPEN
        .iter()
        .map(|s| (s.as_str().to_string(), rows.iter().filter(|(rs, _)| rs == s.as_str()).map(|(_, n)| n).sum()))
        .collect())
}

/// Everything an officer needs to decide.
pub struct Review {
    pub application: Application,
    pub group: Group,
    pub applicant: User,
    pub documents: Vec<Document>,
    pub events: Vec<(ApplicationEvent, Option<String>)>,
    /// The officer who took it at the police station's desk, for a desk application.
    pub taken_by_name: Option<String>,
    /// What was read in each document (absent until the background job stored it).
    pub readings: std::collections::HashMap<crate::domain::DocumentId, crate::services::analysis::DocumentReading>,
    /// Other accounts' records with the same DNI or an identical file.
    pub duplicates: Vec<crate::services::analysis::Duplicate>,
}

/// The application if it belongs to one of the officer's groups; otherwise, as for any
/// unknown id, nothing. Commissioners (`officer_id = None`) see every application.
pub fn find_for_officer(
    conn: &mut DbConn,
    id: &str,
    officer_id: Option<&UserId>,
) -> QueryResult<Option<(Application, Group)>> {
    let mut q = applications::table
        .inner_join(groups::table)
        .filter(applications::id.eq(id.to_string()))
        .select((Application::as_select(), Group::as_select()))
        .into_boxed();
    if let Some(o) = officer_id {
        q = q.filter(applications::group_id.eq_any(assigned_groups(o)));
    }
    q.first(conn).optional()
}

pub fn load_review(conn: &mut DbConn, id: &ApplicationId, officer_id: Option<&UserId>) -> QueryResult<Option<Review>> {
    let Some((application, group)) = find_for_officer(conn, id, officer_id)? else { return Ok(None) };
    let applicant: User = users::table.find(&application.resident_id).first(conn)?;
    let documents = documents::current_for_application(conn, id)?;
    let events: Vec<ApplicationEvent> = application_events::table
        .filter(application_events::application_id.eq(id))
        .order(application_events::at.asc())
        .limit(500)
        .load(conn)?;
    let actor_ids: Vec<UserId> = events.iter().filter_map(|e| e.actor_id.clone()).collect();
    let names: Vec<(String, String)> =
        users::table.filter(users::id.eq_any(actor_ids)).select((users::id, users::full_name)).load(conn)?;
    let events = events
        .into_iter()
        .map(|e| {
            let name = e.actor_id.as_ref().and_then(|a| names.iter().find(|(id, _)| id == a)).map(|(_, n)| n.clone());
            (e, name)
        })
        .collect();
    let taken_by_name = match &application.taken_by {
        Some(t) => users::table.find(t).select(users::full_name).first(conn).optional()?,
        None => None,
    };
    let ids: Vec<crate::domain::DocumentId> = documents.iter().map(|d| d.id.clone()).collect();
    let readings = crate::services::analysis::readings(conn, &ids)?;
    let duplicates = crate::services::analysis::duplicates_of(
        conn,
        &application.id,
        &application.resident_id,
        &application.dni,
        officer_id,
    )?;
    Ok(Some(Review { application, group, applicant, documents, events, taken_by_name, readings, duplicates }))
}

/// The four checks an officer confirms before approving.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checklist {
    pub address: bool,
    pub identity: bool,
    pub certificate_date: bool,
    pub no_record: bool,
}

impl Checklist {
    pub fn complete(&self) -> bool {
        self.address && self.identity && self.certificate_date && self.no_record
    }
}

#[derive(Debug, Clone)]
pub enum Decision {
    Claim,
    Release,
    Approve(Checklist),
    Confirm,
    Reject { reason: &'static str, note: String, internal_note: Option<String> },
    RequestInfo { message: String, kinds: Vec<DocumentKind> },
}

impl Decision {
    fn audit_action(&self) -> &'static str {
        match self {
            Decision::Claim => "application.claimed",
            Decision::Release => "application.released",
            Decision::Approve(_) => "application.approved",
            Decision::Confirm => "application.confirmed",
            Decision::Reject { .. } => "application.rejected",
            Decision::RequestInfo { .. } => "application.info_requested",
        }
    }
}

fn checklist_value(c: &Checklist) -> serde_json::Value {
    json!({ "address": c.address, "identity": c.identity, "certificate_date": c.certificate_date, "no_record": c.no_record })
}

/// The officer acting, as the review needs them.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub user_id: UserId,
    pub ip: Option<String>,
}

/// Whether a claim taken at `claimed_at` has lapsed at `now`.
pub fn claim_lapsed(claimed_at: Option<NaiveDateTime>, now: NaiveDateTime, claim_hours: i64) -> bool {
    claimed_at.is_some_and(|t| now - t >= Duration::hours(claim_hours))
}

/// What a decision writes beside the new status: the claim (taken on claiming, dropped
/// otherwise), the first approver of a two-approval group, the kinds of document asked
/// for, and the decision time once approved or rejected.
fn status_change(decision: &Decision, next: Status, reviewer: &Reviewer, now: NaiveDateTime) -> StatusChange {
    let claim = match next {
        Status::InReview => Some(reviewer.user_id.clone()),
        _ => None,
    };
    StatusChange {
        claimed_at: Some(claim.as_ref().map(|_| now)),
        claimed_by: Some(claim),
        first_approver: match (decision, next) {
            (Decision::Approve(_), Status::AwaitingSecond) => Some(Some(reviewer.user_id.clone())),
            _ => None,
        },
        requested_kinds: Some(match decision {
            Decision::RequestInfo { kinds, .. } => DocumentKind::join(kinds),
            _ => String::new(),
        }),
        decided_at: matches!(next, Status::Approved | Status::Rejected).then_some(Some(now)),
        decided_by: matches!(next, Status::Approved | Status::Rejected).then(|| Some(reviewer.user_id.clone())),
        ..StatusChange::to(next)
    }
}

/// Applies a decision to the application at `version`. A stale version, or a state where
/// the decision does not apply, is a conflict and changes nothing.
pub async fn decide(
    state: &AppState,
    id: ApplicationId,
    version: i32,
    reviewer: Reviewer,
    decision: Decision,
) -> AppResult<Status> {
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let (app, group) = find_for_officer(tx.conn, &id, Some(&reviewer.user_id))?.ok_or(AppError::NotFound)?;
            let (from, next) = next_status(&app, &group, &reviewer, &decision, version, tx.now, settings.claim_hours)?;
            if next == Status::Approved {
                renewal_still_open(tx.conn, &app)?;
            }
            if !change_status(tx.conn, &id, version, status_change(&decision, next, &reviewer, tx.now), tx.now)? {
                return Err(AppError::Conflict);
            }
            let resident: User = users::table.find(&app.resident_id).first(tx.conn)?;
            let mut details = json!({ "from": from.as_str(), "to": next.as_str(), "group_id": group.id });
            let step = Step { app: &app, group: &group, resident: &resident, reviewer: &reviewer, settings: &settings };
            match &decision {
                Decision::Claim => step.event(tx, Event::new("claimed", None))?,
                Decision::Release => step.event(tx, Event::new("released", None))?,
                Decision::Approve(c) if next == Status::AwaitingSecond => {
                    details["checklist"] = checklist_value(c);
                    step.event(tx, Event { details: checklist_value(c), ..Event::new("first_approval", None) })?;
                }
                Decision::Approve(_) | Decision::Confirm => step.approve(tx, &decision, &mut details)?,
                Decision::Reject { reason, note, internal_note } => {
                    details["reason"] = json!(reason);
                    step.reject(tx, reason, note, internal_note.as_deref())?;
                }
                Decision::RequestInfo { message, kinds } => {
                    details["kinds"] = json!(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>());
                    step.request_info(tx, message, kinds)?;
                }
            }
            tx.audit(
                &Actor::user(&reviewer.user_id, Role::Officer, reviewer.ip.as_deref()),
                decision.audit_action(),
                Some(Subject { kind: "application", id: &id }),
                details,
            )?;
            Ok(next)
        })
        .await
}

/// The status the decision moves the application from and to, by the rules of
/// `domain::application`: a stale version or a decision that does not apply now is a
/// conflict, another officer's claim is forbidden, an incomplete checklist is refused.
fn next_status(
    app: &Application,
    group: &Group,
    reviewer: &Reviewer,
    decision: &Decision,
    version: i32,
    now: NaiveDateTime,
    claim_hours: i64,
) -> AppResult<(Status, Status)> {
    if app.version != version {
        return Err(AppError::Conflict);
    }
    let mut from = app.status;
    // A lapsed claim is free for anyone to take.
    if from == Status::InReview && claim_lapsed(app.claimed_at, now, claim_hours) && matches!(decision, Decision::Claim)
    {
        from = Status::Submitted;
    }
    let actor = rules::Actor::Officer {
        is_claimer: app.claimed_by.as_ref() == Some(&reviewer.user_id),
        is_first_approver: app.first_approver.as_ref() == Some(&reviewer.user_id),
        took_it_at_desk: app.taken_by.as_ref() == Some(&reviewer.user_id),
    };
    let action = match decision {
        Decision::Claim => Action::Claim,
        Decision::Release => Action::Release,
        Decision::Approve(_) => Action::Approve { two_approvals: group.two_approvals },
        Decision::Confirm => Action::Confirm,
        Decision::Reject { .. } => Action::Reject,
        Decision::RequestInfo { .. } => Action::RequestInfo,
    };
    let next = match rules::transition(from, actor, action) {
        Ok(s) => s,
        Err(TransitionError::NotAllowedNow) => return Err(AppError::Conflict),
        Err(TransitionError::NotYours) => return Err(AppError::Forbidden),
    };
    if let Decision::Approve(c) = decision
        && !c.complete()
    {
        return Err(AppError::BadRequest("checklist incomplete"));
    }
    Ok((from, next))
}

/// A renewal extends the membership only while it is still the member's to renew: a
/// suspension, revocation or move since it was sent wins.
fn renewal_still_open(conn: &mut DbConn, app: &Application) -> AppResult<()> {
    let Some(mid) = &app.renewal_of else { return Ok(()) };
    let status = memberships::status_of(conn, mid)?;
    if matches!(status, MembershipStatus::Active | MembershipStatus::Expired) {
        Ok(())
    } else {
        Err(AppError::Conflict)
    }
}

/// What a decision writes besides the status change: its timeline entry, the membership
/// on approval, and the mail that tells the resident.
struct Step<'a> {
    app: &'a Application,
    group: &'a Group,
    resident: &'a User,
    reviewer: &'a Reviewer,
    settings: &'a Settings,
}

impl Step<'_> {
    /// A timeline entry by the reviewer.
    fn event(&self, tx: &mut Tx, e: Event<'_>) -> AppResult<()> {
        add_event(tx.conn, &self.app.id, tx.now, Event { actor_id: Some(&self.reviewer.user_id), ..e })?;
        Ok(())
    }

    /// Tells the resident of the decision `notice`: by this mail, or, for a resident
    /// without a confirmed address, in the group's desk notices.
    fn tell(&self, tx: &mut Tx, notice: NoticeKind, kind: &impl MailKind) -> AppResult<()> {
        let rendered = kind.render(self.resident.locale, &self.settings.org_name)?;
        notices::tell(tx, self.resident, About::Application(self.app), notice, &rendered)?;
        Ok(())
    }

    fn link(&self) -> String {
        self.settings.link(&format!("/applications/{}", self.app.id))
    }

    /// Issues the membership (or extends the renewed one; moving house ends the others),
    /// and sends the card's number and the group's link.
    fn approve(&self, tx: &mut Tx, decision: &Decision, details: &mut serde_json::Value) -> AppResult<()> {
        let checklist = match decision {
            Decision::Approve(c) => checklist_value(c),
            _ => json!(null),
        };
        let (app, group, now) = (self.app, self.group, tx.now);
        let today = self.settings.zone.today(now);
        let m = match &app.renewal_of {
            Some(mid) => memberships::extend(tx.conn, mid, group, today, now)?,
            None => {
                let m = memberships::issue(tx.conn, app, group, today, now)?;
                let ended = memberships::end_others(tx.conn, &app.resident_id, &group.id, now)?;
                if !ended.is_empty() {
                    details["ended_memberships"] = json!(ended);
                }
                m
            }
        };
        self.event(tx, Event { details: checklist.clone(), ..Event::new("approved", None) })?;
        details["membership_id"] = json!(m.id);
        details["checklist"] = checklist;
        self.tell(
            tx,
            NoticeKind::Approved,
            &Approved {
                name: &self.resident.full_name,
                group: &group.name,
                number: &m.number,
                valid_until: m.valid_until,
                invite_link: &group.invite_link,
                link: &self.settings.link("/me"),
            },
        )
    }

    /// The reason and note the resident sees, and an internal note for staff only.
    fn reject(&self, tx: &mut Tx, reason: &str, note: &str, internal_note: Option<&str>) -> AppResult<()> {
        self.event(
            tx,
            Event { message: Some(note), details: json!({ "reason": reason }), ..Event::new("rejected", None) },
        )?;
        if let Some(internal) = internal_note {
            self.event(tx, Event { message: Some(internal), internal: true, ..Event::new("internal_note", None) })?;
        }
        self.tell(
            tx,
            NoticeKind::Rejected,
            &Rejected {
                name: &self.resident.full_name,
                group: &self.group.name,
                reason,
                note: (!note.is_empty()).then_some(note),
                link: &self.link(),
            },
        )
    }

    /// Asks the resident for more information and which documents to send again.
    fn request_info(&self, tx: &mut Tx, message: &str, kinds: &[DocumentKind]) -> AppResult<()> {
        let kinds_json = json!(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        self.event(
            tx,
            Event {
                message: Some(message),
                details: json!({ "kinds": kinds_json }),
                ..Event::new("info_requested", None)
            },
        )?;
        self.tell(
            tx,
            NoticeKind::InfoRequested,
            &NeedsInfo { name: &self.resident.full_name, group: &self.group.name, message, kinds, link: &self.link() },
        )
    }
}

/// Everything an officer needs to decide on an application of their groups; any other is
/// not found.
pub async fn review(state: &AppState, id: ApplicationId, officer_id: UserId) -> AppResult<Review> {
    state.db(move |c| load_review(c, &id, Some(&officer_id))?.ok_or(AppError::NotFound)).await
}

/// Records that an officer opened an application: the page shows a person's DNI and address.
pub async fn record_viewed(state: &AppState, id: ApplicationId, reviewer: Reviewer) -> AppResult<()> {
    state
        .write(move |tx| {
            tx.audit(
                &Actor::user(&reviewer.user_id, Role::Officer, reviewer.ip.as_deref()),
                "application.viewed",
                Some(Subject { kind: "application", id: &id }),
                json!({}),
            )
        })
        .await
}

/// The officer's queue page: their groups (for the filter), the open counts per status,
/// and one page of the queue.
pub struct QueueHome {
    pub groups: Vec<Group>,
    pub counts: Vec<(String, i64)>,
    pub page: QueuePage,
}

pub async fn queue_page(
    state: &AppState,
    officer_id: UserId,
    filter: QueueFilter,
    after: Option<Cursor>,
) -> AppResult<QueueHome> {
    state
        .db(move |c| {
            let groups = groups_of(c, &officer_id)?;
            let page = queue_of(c, &officer_id, &groups, &filter, after.as_ref())?;
            Ok(QueueHome { counts: counts(c, &officer_id)?, page, groups })
        })
        .await
}

/// Daily digests for officers who chose them: how many applications arrived in their
/// groups since the last one. The officer's row is claimed by moving `last_digest_at`
/// under a version check, so two instances never send the same digest.
pub fn send_digests(conn: &mut DbConn, settings: &Settings, now: NaiveDateTime) -> AppResult<usize> {
    let due_before = now - Duration::hours(24);
    // Only officers choose a digest; the role first lets the read use `users_role` instead
    // of scanning every resident's account.
    let officers: Vec<User> = users::table
        .filter(users::role.eq(Role::Officer))
        .filter(users::notify_pref.eq("daily"))
        .filter(users::active.eq(true))
        .filter(users::email_confirmed_at.is_not_null())
        .filter(users::last_digest_at.is_null().or(users::last_digest_at.le(due_before)))
        .limit(1000)
        .load(conn)?;
    let mut sent = 0;
    for officer in officers {
        let since = officer.last_digest_at.unwrap_or(due_before);
        // Counted before the write transaction, which only claims the digest and queues
        // the mail: at 1 M applications the counts take longer than a write may hold the lock.
        let new: i64 = applications::table
            .filter(applications::group_id.eq_any(assigned_groups(&officer.id)))
            .filter(applications::submitted_at.gt(since))
            .count()
            .get_result(conn)?;
        let waiting: i64 = applications::table
            .filter(applications::group_id.eq_any(assigned_groups(&officer.id)))
            .filter(applications::status.eq_any(Status::OPEN))
            .count()
            .get_result(conn)?;
        let done = Tx::run(conn, now, |tx| -> AppResult<bool> {
            let target = users::table.find(&officer.id);
            let claimed = match officer.last_digest_at {
                Some(t) => diesel::update(target.filter(users::last_digest_at.eq(t)))
                    .set(users::last_digest_at.eq(Some(now)))
                    .execute(tx.conn)?,
                None => diesel::update(target.filter(users::last_digest_at.is_null()))
                    .set(users::last_digest_at.eq(Some(now)))
                    .execute(tx.conn)?,
            };
            if claimed != 1 || new == 0 {
                return Ok(false);
            }
            let mail = Digest { name: &officer.full_name, new, open: waiting, link: &settings.link("/officer") }
                .render(officer.locale, &settings.org_name)?;
            tx.mail(&officer.email, &mail)?;
            Ok(true)
        })?;
        sent += usize::from(done);
    }
    Ok(sent)
}
