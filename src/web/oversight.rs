//! Commissioners' oversight pages: the dashboard (`/commissioner`), the audit log, the
//! read-only application and person records, the membership search and the CSV exports.
//! Commissioners only; each handler parses its query, calls one service and renders.

use std::borrow::Borrow;

use actix_web::http::header;
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpResponse, get};
use askama::Template;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit::Actor;
use crate::db::models::{ApplicationEvent, Document, Group};
use crate::domain::application::{Dni, DocumentKind, LOCAL_UTC_OFFSET_HOURS, Status};
use crate::domain::chart::{self, HorizontalBars, StackedColumns};
use crate::domain::export::MAX_EXPORT_ROWS;
use crate::domain::membership::MembershipStatus;
use crate::domain::stats::{self, PERIODS, Period};
use crate::domain::{ApplicationId, MembershipId, UserId};
use crate::domain::{Locale, Role};
use crate::error::AppResult;
use crate::services::oversight::dashboard::{self, Dashboard, WeekFigures};
use crate::services::oversight::exports::{self, Csv};
use crate::services::oversight::log::{self, ACTIONS, AuditFilter, AuditPage, SUBJECT_TYPES};
use crate::services::oversight::records::{
    self, ApplicationRecord, MemberSearch, MembershipFilter, MembershipRow, PersonRecord,
};
use crate::services::review::Cursor;
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(audit_log)
        .service(application)
        .service(person)
        .service(memberships)
        .service(memberships_csv)
        .service(decisions_csv);
}

fn actor(user: &Commissioner) -> Actor {
    Actor::user(&user.user_id, Role::Commissioner, user.ip.as_deref())
}

/// "2,5" in Spanish, "2.5" in English: one decimal.
fn decimal(locale: Locale, v: f64) -> String {
    let s = format!("{v:.1}");
    match locale {
        Locale::Es => s.replace('.', ","),
        Locale::En => s,
    }
}

fn local(at: NaiveDateTime) -> NaiveDateTime {
    at + Duration::hours(LOCAL_UTC_OFFSET_HOURS)
}

#[derive(Template)]
#[template(path = "commissioner/home.html")]
struct DashboardPage {
    ctx: PageContext,
    d: Dashboard,
    weeks_chart: StackedColumns,
    members_chart: HorizontalBars,
}

impl DashboardPage {
    fn periods(&self) -> [i64; 3] {
        PERIODS
    }

    fn open_statuses(&self) -> [Status; 4] {
        Status::OPEN
    }

    /// A figure for people: one decimal in the page's language, or a dash.
    fn num(&self, v: impl Borrow<Option<f64>>) -> String {
        v.borrow().map(|v| decimal(self.ctx.locale, v)).unwrap_or_else(|| "—".into())
    }

    /// The same figure for machines (`data-v`): one decimal with a point, or empty.
    fn raw(&self, v: impl Borrow<Option<f64>>) -> String {
        v.borrow().map(|v| format!("{v:.1}")).unwrap_or_default()
    }

    fn pct(&self, v: impl Borrow<Option<f64>>) -> String {
        v.borrow().map(|v| format!("{} %", decimal(self.ctx.locale, v))).unwrap_or_else(|| "—".into())
    }

    fn opt_days(&self, v: &Option<i64>) -> String {
        v.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
    }

    fn opt_days_raw(&self, v: &Option<i64>) -> String {
        v.map(|d| d.to_string()).unwrap_or_default()
    }

    fn week(&self, i: &usize) -> &WeekFigures {
        &self.d.weeks[*i]
    }

    /// "03/11": the local day a week starts.
    fn week_short(&self, i: &usize) -> String {
        local(self.d.weeks[*i].start).format("%d/%m").to_string()
    }

    fn week_long(&self, i: &usize) -> String {
        let w = &self.d.weeks[*i];
        let from = local(w.start).format("%d/%m/%Y").to_string();
        let to = local(w.end - Duration::seconds(1)).format("%d/%m/%Y").to_string();
        crate::i18n::format(self.ctx.locale, "oversight.chart.week_of", &[("from", &from), ("to", &to)])
    }

    /// The outcome each stacked series shows, bottom up.
    fn series(&self, s: &usize) -> &'static str {
        ["approved", "rejected", "withdrawn"][*s]
    }

    fn series_fill(&self, s: &usize) -> &'static str {
        ["#1e7a46", "#b3261e", "#8a96a3"][*s]
    }

    fn group_label(&self, i: &usize) -> String {
        chart::short_label(&self.d.groups[*i].name, 26)
    }

    fn group_id(&self, i: &usize) -> &str {
        &self.d.groups[*i].id
    }

    fn generated(&self) -> String {
        self.d.now.format("%d/%m/%Y %H:%M").to_string()
    }

    /// The outlier rule in words, with its numbers.
    fn rule(&self) -> String {
        crate::i18n::format(
            self.ctx.locale,
            "oversight.officers.rule",
            &[("min", &stats::OUTLIER_MIN_DECISIONS.to_string()), ("points", &format!("{:.0}", stats::OUTLIER_POINTS))],
        )
    }
}

#[derive(Deserialize)]
struct PeriodQuery {
    days: Option<String>,
}

#[get("/commissioner")]
async fn home(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let period = Period::parse(q.days.as_deref());
    let d = dashboard::load(&state, period).await?;
    let weeks_chart =
        chart::stacked_columns(&d.weeks.iter().map(|w| vec![w.approved, w.rejected, w.withdrawn]).collect::<Vec<_>>());
    let members_chart = chart::horizontal_bars(&d.groups.iter().map(|g| g.active_members).collect::<Vec<_>>());
    ok(&DashboardPage { ctx, d, weeks_chart, members_chart })
}

#[derive(Template)]
#[template(path = "commissioner/audit.html")]
struct AuditSearchPage {
    ctx: PageContext,
    log: AuditPage,
    actor: String,
    action: String,
    subject_type: String,
    subject_id: String,
    from: String,
    to: String,
    unknown_actor: bool,
    bad_date: bool,
}

impl AuditSearchPage {
    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn subject_types(&self) -> [&'static str; 5] {
        SUBJECT_TYPES
    }

    fn is_action(&self, a: &str) -> bool {
        a == self.action
    }

    fn is_subject_type(&self, t: &str) -> bool {
        t == self.subject_type
    }

    /// The next page's link, keeping the filters.
    fn next_link(&self, before: &i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject_type", &self.subject_type),
            ("subject_id", &self.subject_id),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("before", &before.to_string());
        format!("/commissioner/audit?{}", q.finish())
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

fn trimmed(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

/// A day typed as YYYY-MM-DD; `Err` for anything else but an empty field.
fn parse_day(raw: &str) -> Result<Option<NaiveDate>, ()> {
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(Some).map_err(|_| ())
}

fn parse_before(raw: &Option<String>) -> Option<i64> {
    raw.as_deref().and_then(|b| b.trim().parse::<i64>().ok()).filter(|b| *b > 0)
}

/// Verifying walks the whole chain, so this page does not: it checks each shown entry's
/// own hash and links to `/commissioner/audit/verify` for the full walk.
#[get("/commissioner/audit")]
async fn audit_log(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let (actor, subject_id) = (trimmed(&q.actor), trimmed(&q.subject_id));
    let action = trimmed(&q.action);
    let action = if ACTIONS.contains(&action.as_str()) { action } else { String::new() };
    let subject_type = trimmed(&q.subject_type);
    let subject_type = if SUBJECT_TYPES.contains(&subject_type.as_str()) { subject_type } else { String::new() };
    let (from, to) = (trimmed(&q.from), trimmed(&q.to));
    let (from_day, to_day) = (parse_day(&from), parse_day(&to));
    let bad_date = from_day.is_err() || to_day.is_err();
    let filter = AuditFilter {
        action: (!action.is_empty()).then(|| action.clone()),
        subject_type: (!subject_type.is_empty()).then(|| subject_type.clone()),
        subject_id: (!subject_id.is_empty()).then(|| subject_id.clone()),
        from: from_day.ok().flatten().map(stats::local_day_start),
        until: to_day.ok().flatten().map(|d| stats::local_day_start(d + Duration::days(1))),
        ..AuditFilter::default()
    };
    let before = parse_before(&q.before);
    let (locale, raw_actor) = (ctx.locale, actor.clone());
    let found = log::browse_page(&state, locale, raw_actor, filter, before).await?;
    ok(&AuditSearchPage {
        ctx,
        log: found.page,
        actor,
        action,
        subject_type,
        subject_id,
        from,
        to,
        unknown_actor: found.unknown_actor,
        bad_date,
    })
}

#[derive(Deserialize)]
struct BeforeQuery {
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "commissioner/application.html")]
struct ApplicationPage {
    ctx: PageContext,
    r: ApplicationRecord,
    log: AuditPage,
    status: Status,
}

impl ApplicationPage {
    fn dni(&self) -> String {
        Dni::formatted(&self.r.review.application.dni)
    }

    fn short_id(&self) -> String {
        self.r.review.application.id.chars().take(8).collect()
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind.parse::<DocumentKind>().map(|k| k.label_key()).unwrap_or("document.kind.unknown")
    }

    fn viewable(&self, d: &Document) -> bool {
        d.purged_at.is_none()
    }

    fn actor<'a>(&self, name: &'a Option<String>) -> &'a str {
        name.as_deref().unwrap_or("")
    }

    fn internal(&self, e: &ApplicationEvent) -> bool {
        e.internal
    }

    fn next_link(&self, before: &i64) -> String {
        format!("/commissioner/applications/{}?before={before}", self.r.review.application.id)
    }
}

#[get("/commissioner/applications/{id}")]
async fn application(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    id: Path<ApplicationId>,
    q: Query<BeforeQuery>,
) -> AppResult<HttpResponse> {
    let mut r =
        records::open_application(&state, actor(&user), ctx.locale, id.into_inner(), parse_before(&q.before)).await?;
    let log = std::mem::replace(&mut r.log, AuditPage { lines: Vec::new(), next_before: None });
    let status = r.review.application.status;
    ok(&ApplicationPage { ctx, r, log, status })
}

#[derive(Template)]
#[template(path = "commissioner/person.html")]
struct PersonPage {
    ctx: PageContext,
    p: PersonRecord,
    log: AuditPage,
}

impl PersonPage {
    fn next_link(&self, before: &i64) -> String {
        format!("/commissioner/people/{}?before={before}", self.p.user.id)
    }

    fn by_actor_link(&self) -> String {
        format!("/commissioner/audit?actor={}", self.p.user.id)
    }
}

#[get("/commissioner/people/{user_id}")]
async fn person(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    id: Path<UserId>,
    q: Query<BeforeQuery>,
) -> AppResult<HttpResponse> {
    let mut p =
        records::open_person(&state, actor(&user), ctx.locale, id.into_inner(), parse_before(&q.before)).await?;
    let log = std::mem::replace(&mut p.log, AuditPage { lines: Vec::new(), next_before: None });
    ok(&PersonPage { ctx, p, log })
}

#[derive(Deserialize)]
struct MembershipQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    after: Option<String>,
}

impl MembershipQuery {
    fn filter(&self) -> MembershipFilter {
        MembershipFilter {
            search: self.q.as_deref().and_then(MemberSearch::parse),
            group_id: self.group.clone().map(|g| g.trim().to_string()).filter(|g| !g.is_empty()),
            status: self.status.as_deref().and_then(|s| s.parse().ok()),
        }
    }

    /// The filters as a query string, for the next page and the export.
    fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("q", &self.q), ("group", &self.group), ("status", &self.status)] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

#[derive(Template)]
#[template(path = "commissioner/memberships.html")]
struct MembershipsPage {
    ctx: PageContext,
    rows: Vec<MembershipRow>,
    groups: Vec<Group>,
    next: Option<String>,
    q: String,
    group: String,
    status: String,
    query: String,
}

impl MembershipsPage {
    fn statuses(&self) -> [MembershipStatus; 5] {
        MembershipStatus::ALL
    }

    fn dni(&self, r: &MembershipRow) -> String {
        Dni::formatted(&r.dni)
    }

    fn export_link(&self) -> String {
        if self.query.is_empty() {
            "/commissioner/memberships.csv".into()
        } else {
            format!("/commissioner/memberships.csv?{}", self.query)
        }
    }

    fn next_link(&self, cursor: &str) -> String {
        let after = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>();
        if self.query.is_empty() {
            format!("/commissioner/memberships?after={after}")
        } else {
            format!("/commissioner/memberships?{}&after={after}", self.query)
        }
    }

    fn max_rows(&self) -> String {
        MAX_EXPORT_ROWS.to_string()
    }
}

#[get("/commissioner/memberships")]
async fn memberships(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<MembershipQuery>,
) -> AppResult<HttpResponse> {
    let filter = q.filter();
    let after = q.after.as_deref().and_then(Cursor::<MembershipId>::decode);
    let f = filter.clone();
    let (groups, page) = state
        .db(move |c| {
            Ok((records::all_groups(c)?, records::search_memberships(c, &f, after.as_ref(), records::PAGE_SIZE)?))
        })
        .await?;
    ok(&MembershipsPage {
        ctx,
        rows: page.rows,
        groups,
        next: page.next.map(|c| c.encode()),
        q: q.q.clone().unwrap_or_default(),
        group: filter.group_id.unwrap_or_default(),
        status: filter.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        query: q.query_string(),
    })
}

fn csv_response(csv: Csv, file_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .insert_header(("X-Export-Rows", csv.rows.to_string()))
        .insert_header(("X-Export-Truncated", csv.truncated.to_string()))
        .body(csv.bytes)
}

#[get("/commissioner/memberships.csv")]
async fn memberships_csv(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    q: Query<MembershipQuery>,
) -> AppResult<HttpResponse> {
    let csv = exports::memberships(&state, actor(&user), ctx.locale, q.filter()).await?;
    Ok(csv_response(csv, &exports::file_name(ctx.locale, "oversight.csv.file_memberships", state.clock.now())))
}

/// `?days=N`: any period of 1 to 3660 days, 30 by default.
#[get("/commissioner/decisions.csv")]
async fn decisions_csv(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    q: Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let days = q
        .days
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok())
        .filter(|d| (1..=3660).contains(d))
        .unwrap_or(Period::default().days());
    let csv = exports::decisions(&state, actor(&user), ctx.locale, days).await?;
    Ok(csv_response(csv, &exports::file_name(ctx.locale, "oversight.csv.file_decisions", state.clock.now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_language() {
        assert_eq!(decimal(Locale::Es, 2.26), "2,3");
        assert_eq!(decimal(Locale::En, 2.5), "2.5");
        assert_eq!(decimal(Locale::Es, 10.0), "10,0");
    }
}
