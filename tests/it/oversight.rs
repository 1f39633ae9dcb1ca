//! Commissioner oversight: the dashboard's figures and charts against figures computed here
//! from the raw rows, the audit search and its pages, `vecinal audit verify`, the records,
//! the membership search, the CSV exports, and who may see any of it.

use std::collections::{BTreeMap, HashMap, HashSet};
use vecinal::domain::{ApplicationId, GroupId, MembershipId, UserId};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use reqwest::{Client, StatusCode};
use vecinal::audit::{self, Actor, Subject};
use vecinal::db::DbConn;
use vecinal::db::models::{Application, ApplicationEvent, Membership, NewUser};
use vecinal::db::schema::{application_events, applications, audit_log, groups, memberships, users};
use vecinal::domain::Role;

use crate::helpers::*;

// ----- building data ------------------------------------------------------------------------

/// Rows written straight to the database, for volume and for times in the past.
struct Seed<'a> {
    c: &'a mut DbConn,
    now: NaiveDateTime,
}

impl Seed<'_> {
    fn resident(&mut self, name: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let email = format!("{}@vecinos.example", &id[..8]);
        diesel::insert_into(users::table)
            .values(NewUser {
                id: &id,
                email: &email,
                full_name: name,
                password_hash: None,
                role: "resident",
                locale: "es",
                email_confirmed_at: Some(self.now),
                active: true,
                created_at: self.now,
                updated_at: self.now,
            })
            .execute(self.c)
            .unwrap();
        id
    }

    fn ago(&self, days: f64) -> NaiveDateTime {
        self.now - Duration::seconds((days * 86_400.0) as i64)
    }

    /// An application submitted `submitted` days ago; when `decided` is given it was
    /// closed then with `status` (by `officer` for approvals and rejections).
    fn application(
        &mut self,
        group: &str,
        status: &str,
        submitted: f64,
        decided: Option<(f64, Option<&str>)>,
        dni: &str,
    ) -> (String, String) {
        let resident = self.resident(&format!("Vecino {}", dni));
        let id = uuid::Uuid::new_v4().to_string();
        let submitted_at = self.ago(submitted);
        let decided_at = decided.map(|(d, _)| self.ago(d));
        diesel::insert_into(applications::table)
            .values(Application {
                id: ApplicationId::from_stored(id.clone()),
                resident_id: UserId::from_stored(resident.clone()),
                group_id: GroupId::from_stored(group.to_string()),
                status: status.parse().unwrap(),
                street_address: "Calle Falsa 123".into(),
                dni: dni.into(),
                phone: None,
                certificate_issued_on: submitted_at.date(),
                requested_kinds: String::new(),
                version: 3,
                claimed_by: None,
                claimed_at: None,
                first_approver: None,
                consented_at: submitted_at,
                submitted_at,
                decided_at,
                created_at: submitted_at,
                updated_at: decided_at.unwrap_or(submitted_at),
                renewal_of: None,
                decided_by: decided
                    .and_then(|(_, officer)| officer)
                    .filter(|_| matches!(status, "approved" | "rejected"))
                    .map(|o| UserId::from_stored(o.to_string())),
                taken_by: None,
                dni_verdict: None,
                in_pair: false,
            })
            .execute(self.c)
            .unwrap();
        if let (Some((_, officer)), Some(at)) = (decided, decided_at)
            && matches!(status, "approved" | "rejected")
        {
            let details = if status == "rejected" { r#"{"reason":"not_resident"}"# } else { "{}" };
            diesel::insert_into(application_events::table)
                .values(ApplicationEvent {
                    id: uuid::Uuid::new_v4().to_string(),
                    application_id: ApplicationId::from_stored(id.clone()),
                    at,
                    actor_id: officer.map(|o| UserId::from_stored(o.to_string())),
                    kind: status.into(),
                    message: None,
                    internal: false,
                    details: details.into(),
                })
                .execute(self.c)
                .unwrap();
        }
        (id, resident)
    }

    fn membership(&mut self, user: &str, group: &str, app: &str, number: &str, status: &str, until_days: i64) {
        let today = vecinal::domain::Zone::default().today(self.now);
        diesel::insert_into(memberships::table)
            .values(Membership {
                id: MembershipId::generate(),
                user_id: UserId::from_stored(user.into()),
                group_id: GroupId::from_stored(group.into()),
                application_id: ApplicationId::from_stored(app.into()),
                number: number.into(),
                status: status.parse().unwrap(),
                valid_from: today - Duration::days(300),
                valid_until: today + Duration::days(until_days),
                verification_token: uuid::Uuid::new_v4().simple().to_string(),
                status_reason: None,
                created_at: self.now,
                updated_at: self.now,
                reminded_30_at: None,
                reminded_7_at: None,
                removed_from_chat_at: None,
                removed_from_chat_by: None,
            })
            .execute(self.c)
            .unwrap();
    }
}

struct Dataset {
    boss: Client,
    norte: String,
    sur: String,
    doble: String,
    ana: String,
    outlier: String,
    juan_application: String,
    juan: String,
}

/// Three groups, five officers, applications moved through the review over HTTP, and
/// about sixty more written straight to the database with times spread over a year. Times
/// sit half a day off whole days, so no figure changes while the test runs.
async fn dataset(app: &TestApp) -> Dataset {
    let norte = app.group("norte").await;
    let sur = app.group("sur").await;
    let doble = app.two_approval_group("doble").await;
    let (o1, ana) = app.person(Role::Officer, "ana@policia.example", "Ana Gómez").await;
    let (o2, bruno) = app.person(Role::Officer, "bruno@policia.example", "Bruno Díaz").await;
    let (_o3, carla) = app.person(Role::Officer, "carla@policia.example", "Carla Ruiz").await;
    let (_o4, outlier) = app.person(Role::Officer, "dario@policia.example", "Darío Sosa").await;
    for (o, g) in [(&ana, &norte), (&bruno, &norte), (&carla, &sur), (&outlier, &norte), (&outlier, &sur)] {
        app.assign(o, g).await;
    }
    app.assign(&ana, &doble).await;
    app.assign(&bruno, &doble).await;
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;

    // Over HTTP: Juan approved by Ana, Lucía rejected by Bruno, Pedro withdraws, Rosa
    // approved twice in the two-approval group.
    let (juan_c, juan) = app.person(Role::Resident, "juan@example.com", "Juan Pérez").await;
    let juan_application = app.submit(&juan_c, "norte").await;
    app.claim_and_approve(&o1, &juan_application).await;
    let (lucia_c, _) = app.person(Role::Resident, "lucia@example.com", "Lucía Fernández").await;
    let lucia_app = app.submit(&lucia_c, "norte").await;
    app.claim(&o2, &lucia_app).await;
    app.reject(&o2, &lucia_app, &[("reason_code", "record_found"), ("note", "Tiene una causa.")]).await;
    let (pedro_c, _) = app.person(Role::Resident, "pedro@example.com", "Pedro Gil").await;
    let pedro_app = app.submit(&pedro_c, "sur").await;
    assert_eq!(app.withdraw(&pedro_c, &pedro_app, 1).await.status(), StatusCode::SEE_OTHER);
    let (rosa_c, _) = app.person(Role::Resident, "rosa@example.com", "Rosa Luna").await;
    let rosa_app = app.submit(&rosa_c, "doble").await;
    app.claim_and_approve(&o1, &rosa_app).await;
    app.confirm(&o2, &rosa_app).await;
    // Ana opens Juan's certificate: an audited document view.
    let docs = app.documents_of(&juan_application).await;
    let doc = &docs.iter().find(|d| d.kind == "criminal_record").unwrap().id;
    let res = app.get_with(&o1, &format!("/applications/{juan_application}/documents/{doc}")).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Straight to the database.
    let now = app.state.clock.now();
    let (n, s) = (norte.clone(), sur.clone());
    let (ana2, bruno2, carla2, dario2) = (ana.clone(), bruno.clone(), carla.clone(), outlier.clone());
    app.state
        .db(move |c| {
            let (n, s) = (n.as_str(), s.as_str());
            let (ana2, bruno2, carla2, dario2) = (ana2.as_str(), bruno2.as_str(), carla2.as_str(), dario2.as_str());
            let mut seed = Seed { c, now };
            let mut dni = 20_000_000;
            let mut next_dni = || {
                dni += 1;
                dni.to_string()
            };
            // (group, status, submitted days ago, decided days ago, officer)
            let decided: Vec<(&str, &str, f64, f64, &str)> = vec![
                // Ana in norte: 8 approvals, 2 rejections, two of them long ago.
                (n, "approved", 3.5, 1.5, ana2),
                (n, "approved", 6.5, 2.5, ana2),
                (n, "approved", 12.5, 8.5, ana2),
                (n, "approved", 20.5, 9.5, ana2),
                (n, "approved", 25.5, 15.5, ana2),
                (n, "approved", 40.5, 22.5, ana2),
                (n, "approved", 130.5, 100.5, ana2),
                (n, "approved", 150.5, 120.5, ana2),
                (n, "rejected", 5.5, 4.5, ana2),
                (n, "rejected", 50.5, 45.5, ana2),
                // Bruno in norte: three approvals.
                (n, "approved", 9.5, 5.5, bruno2),
                (n, "approved", 33.5, 26.5, bruno2),
                (n, "approved", 70.5, 60.5, bruno2),
                // Darío in norte: one approval, five rejections in the last 30 days.
                (n, "approved", 14.5, 13.5, dario2),
                (n, "rejected", 4.5, 3.5, dario2),
                (n, "rejected", 10.5, 6.5, dario2),
                (n, "rejected", 17.5, 11.5, dario2),
                (n, "rejected", 23.5, 19.5, dario2),
                (n, "rejected", 28.5, 24.5, dario2),
                // Carla in sur: six approvals and a rejection long ago.
                (s, "approved", 2.5, 0.5, carla2),
                (s, "approved", 8.5, 7.5, carla2),
                (s, "approved", 18.5, 12.5, carla2),
                (s, "approved", 31.5, 27.5, carla2),
                (s, "approved", 64.5, 50.5, carla2),
                (s, "approved", 100.5, 80.5, carla2),
                (s, "rejected", 230.5, 200.5, carla2),
                // Darío in sur: two and two.
                (s, "approved", 5.5, 2.5, dario2),
                (s, "approved", 15.5, 10.5, dario2),
                (s, "rejected", 22.5, 16.5, dario2),
                (s, "rejected", 44.5, 40.5, dario2),
            ];
            let mut seq = HashMap::new();
            for (g, status, sub, dec, officer) in decided {
                let (app_id, resident) = seed.application(g, status, sub, Some((dec, Some(officer))), &next_dni());
                if status == "approved" {
                    let k = seq.entry(g.to_string()).or_insert(100);
                    *k += 1;
                    let prefix = if g == n { "NORTE" } else { "SUR" };
                    // One membership expired by date but still marked active, one revoked.
                    let (st, until) = match *k {
                        102 => ("active", -3),
                        103 => ("revoked", 100),
                        _ => ("active", 200),
                    };
                    seed.membership(&resident, g, &app_id, &format!("{prefix}-{:06}", k), st, until);
                }
            }
            for (g, sub, dec) in [(n, 4.5, 3.5), (n, 25.5, 20.5), (s, 120.5, 100.5)] {
                seed.application(g, "withdrawn", sub, Some((dec, None)), &next_dni());
            }
            for (g, status, sub) in [
                (n, "submitted", 2.5),
                (n, "submitted", 10.5),
                (n, "submitted", 40.5),
                (n, "in_review", 3.5),
                (n, "needs_info", 12.5),
                (s, "submitted", 1.5),
                (s, "submitted", 8.5),
                (s, "awaiting_second", 6.5),
            ] {
                seed.application(g, status, sub, None, &next_dni());
            }
            Ok(())
        })
        .await
        .unwrap();
    Dataset { boss, norte, sur, doble, ana, outlier, juan_application, juan }
}

// ----- figures computed here, from the raw rows ---------------------------------------------

struct Raw {
    groups: Vec<String>,
    /// id, group, status, submitted, decided
    apps: Vec<(String, String, String, NaiveDateTime, Option<NaiveDateTime>)>,
    /// application id, kind, officer, at
    decisions: Vec<(String, String, Option<String>, NaiveDateTime)>,
    /// group, status, valid until
    members: Vec<(String, String, NaiveDate)>,
}

async fn raw(app: &TestApp) -> Raw {
    app.state
        .db(|c| {
            Ok(Raw {
                groups: groups::table.select(groups::id).load(c)?,
                apps: applications::table
                    .select((
                        applications::id,
                        applications::group_id,
                        applications::status,
                        applications::submitted_at,
                        applications::decided_at,
                    ))
                    .load(c)?,
                decisions: application_events::table
                    .filter(application_events::kind.eq_any(["approved", "rejected"]))
                    .select((
                        application_events::application_id,
                        application_events::kind,
                        application_events::actor_id,
                        application_events::at,
                    ))
                    .load(c)?,
                members: memberships::table
                    .select((memberships::group_id, memberships::status, memberships::valid_until))
                    .load(c)?,
            })
        })
        .await
        .unwrap()
}

fn days(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// The lower middle value: the dashboard gives the range of days that holds it.
fn median_here(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (!v.is_empty()).then(|| v[v.len().div_ceil(2) - 1])
}

/// Where the dashboard's range of days holding `v` starts (its `data-v`), computed here
/// from the edges the page states.
fn range_start(v: Option<f64>) -> String {
    const EDGES: [i64; 13] = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90];
    v.map(|v| EDGES.iter().rev().find(|e| v >= **e as f64).unwrap().to_string()).unwrap_or_default()
}

fn local_day(at: NaiveDateTime) -> chrono::NaiveDate {
    (at - Duration::hours(3)).date()
}

fn p90_here(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return None;
    }
    // Nearest rank: the smallest value with at least 90 % of the values at or below it.
    (1..=v.len()).find(|rank| *rank as f64 >= 0.9 * v.len() as f64).map(|rank| v[rank - 1])
}

fn one_decimal(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_default()
}

fn rate(approved: usize, rejected: usize) -> Option<f64> {
    (approved + rejected > 0).then(|| approved as f64 * 100.0 / (approved + rejected) as f64)
}

/// The `data-v` of the cell `key` in the first table row that starts with `row`.
fn figure(html: &str, row: &str, key: &str) -> String {
    let start = html.find(row).unwrap_or_else(|| panic!("no row {row}"));
    let tr = &html[start..start + html[start..].find("</tr>").unwrap()];
    let marker = format!("data-k=\"{key}\" data-v=\"");
    let i = tr.find(&marker).unwrap_or_else(|| panic!("no {key} in {row}")) + marker.len();
    tr[i..i + tr[i..].find('"').unwrap()].to_string()
}

/// The `<svg>` with this id, parsed as XML.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\"")).expect("chart");
    let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
    &html[start..end]
}

#[tokio::test]
async fn every_dashboard_figure_matches_the_raw_rows_for_each_period() {
    let app = TestApp::spawn().await;
    let d = dataset(&app).await;
    let r = raw(&app).await;
    let group_of: HashMap<&str, &str> = r.apps.iter().map(|a| (a.0.as_str(), a.1.as_str())).collect();
    let submitted_of: HashMap<&str, NaiveDateTime> = r.apps.iter().map(|a| (a.0.as_str(), a.3)).collect();

    for period in [30i64, 90, 365] {
        let now = app.state.clock.now();
        let html = app.page(&d.boss, &format!("/commissioner?days={period}")).await;
        assert!(html.contains(&format!("<strong aria-current=\"page\">Últimos {period} días</strong>")));
        // Whole local days: the period is its last `period` days, today included.
        let today = local_day(now);
        let first_day = today - Duration::days(period - 1);
        let in_period = |at: NaiveDateTime| local_day(at) >= first_day;
        let mut far_seen = Vec::new();
        for g in &r.groups {
            let row = format!("<tr data-group=\"{g}\">");
            let mine: Vec<_> = r.apps.iter().filter(|a| &a.1 == g).collect();
            for s in ["submitted", "in_review", "needs_info", "awaiting_second"] {
                let n = mine.iter().filter(|a| a.2 == s).count();
                assert_eq!(figure(&html, &row, &format!("open_{s}")), n.to_string(), "{g} {s}");
            }
            let members = r.members.iter().filter(|m| &m.0 == g && m.1 == "active" && m.2 >= today).count();
            assert_eq!(figure(&html, &row, "members"), members.to_string(), "{g} members");
            let decided: Vec<_> = mine
                .iter()
                .filter(|a| matches!(a.2.as_str(), "approved" | "rejected") && a.4.is_some_and(in_period))
                .collect();
            let approved = decided.iter().filter(|a| a.2 == "approved").count();
            let rejected = decided.len() - approved;
            assert_eq!(figure(&html, &row, "approved"), approved.to_string(), "{g} approved in {period}");
            assert_eq!(figure(&html, &row, "rejected"), rejected.to_string(), "{g} rejected in {period}");
            assert_eq!(figure(&html, &row, "rate"), one_decimal(rate(approved, rejected)));
            let times: Vec<f64> = decided.iter().map(|a| days(a.3, a.4.unwrap())).collect();
            assert_eq!(figure(&html, &row, "median"), range_start(median_here(times.clone())), "{g} median {period}");
            assert_eq!(figure(&html, &row, "p90"), range_start(p90_here(times)), "{g} p90 {period}");
            let oldest = mine
                .iter()
                .filter(|a| matches!(a.2.as_str(), "submitted" | "in_review" | "needs_info" | "awaiting_second"))
                .map(|a| (now - a.3).num_days())
                .max();
            assert_eq!(figure(&html, &row, "oldest"), oldest.map(|d| d.to_string()).unwrap_or_default());

            // Officers of this group.
            let group_rate = rate(approved, rejected);
            let mut per: BTreeMap<&str, (usize, usize, Vec<f64>)> = BTreeMap::new();
            for (app_id, kind, officer, at) in &r.decisions {
                if group_of[app_id.as_str()] != g || !in_period(*at) {
                    continue;
                }
                let e = per.entry(officer.as_deref().unwrap()).or_default();
                if kind == "approved" {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
                e.2.push(days(submitted_of[app_id.as_str()], *at));
            }
            for (officer, (a, rj, times)) in per {
                let row = format!("<tr data-officer=\"{officer}\" data-group=\"{g}\"");
                assert_eq!(figure(&html, &row, "decisions"), (a + rj).to_string(), "{officer} in {g}");
                assert_eq!(figure(&html, &row, "rate"), one_decimal(rate(a, rj)));
                assert_eq!(figure(&html, &row, "median"), range_start(median_here(times)));
                let far = a + rj >= 5 && (rate(a, rj).unwrap() - group_rate.unwrap()).abs() > 25.0;
                let start_tag = &html[html.find(&row).unwrap()..];
                let tag = &start_tag[..start_tag.find('>').unwrap()];
                assert_eq!(tag.contains("data-far=\"true\""), far, "{officer} in {g} ({period} days)");
                if far {
                    far_seen.push((officer.to_string(), g.clone()));
                }
            }
        }
        // Darío rejects five of six in norte while norte approves most: highlighted there only.
        assert!(far_seen.contains(&(d.outlier.clone(), d.norte.clone())), "{period}: {far_seen:?}");
        assert!(!far_seen.iter().any(|(o, g)| o == &d.outlier && g == &d.sur));

        // The weekly chart: well-formed SVG, accessible, one column per week with the counts.
        let weeks = (period / 7).min(12);
        let doc = roxmltree::Document::parse(svg(&html, "chart-weeks")).expect("the chart is well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(root.children().any(|n| n.has_tag_name("title") && n.text().is_some_and(|t| !t.is_empty())));
        let columns: Vec<_> = root.descendants().filter(|n| n.attribute("data-week").is_some()).collect();
        assert_eq!(columns.len() as i64, weeks);
        for (k, col) in columns.iter().enumerate() {
            let last = today - Duration::weeks(weeks - 1 - k as i64);
            let first = last - Duration::days(6);
            for outcome in ["approved", "rejected", "withdrawn"] {
                let expected = r
                    .apps
                    .iter()
                    .filter(|a| a.2 == outcome && a.4.is_some_and(|t| (first..=last).contains(&local_day(t))))
                    .count();
                let rect = col
                    .descendants()
                    .find(|n| n.has_tag_name("rect") && n.attribute("data-series") == Some(outcome))
                    .expect("a bar per outcome");
                assert_eq!(rect.attribute("data-value"), Some(expected.to_string().as_str()), "week {k} {outcome}");
                let h: f64 = rect.attribute("height").unwrap().parse().unwrap();
                assert_eq!(h == 0.0, expected == 0, "a bar is drawn exactly when there is something to count");
            }
        }
        // The members chart: a bar per group with its active members, and the same figures
        // in the table beside it.
        let doc = roxmltree::Document::parse(svg(&html, "chart-members")).expect("well-formed");
        for g in &r.groups {
            let bar = doc
                .descendants()
                .find(|n| n.attribute("data-group") == Some(g.as_str()))
                .and_then(|row| row.descendants().find(|n| n.has_tag_name("rect")))
                .expect("a bar per group");
            assert_eq!(
                bar.attribute("data-value"),
                Some(figure(&html, &format!("<tr data-group=\"{g}\">"), "members").as_str())
            );
        }
        assert!(
            html.contains("id=\"chart-weeks-data\"") && html.contains("id=\"chart-members-data\""),
            "table fallbacks"
        );
    }
    // The period selector falls back to 30 days for anything else.
    let html = app.page(&d.boss, "/commissioner?days=7").await;
    assert!(html.contains("<strong aria-current=\"page\">Últimos 30 días</strong>"));
    // The home keeps its links.
    for link in ["/commissioner/groups", "/commissioner/staff", "/commissioner/audit", "/commissioner/memberships"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let _ = (&d.sur, &d.doble, &d.ana);
}

/// A period starting mid-month reads its first month's row corrected by daily rows: the
/// month's days before the period taken away, or the period's days in that month added,
/// whichever are fewer (`SummaryRead`). The clock is moved so the 90-day period starts on
/// either side of the middle of a month, on its first and on its second day, and decisions
/// made the day before the period, on its first day, the day after, on the month's first
/// and on its last day count exactly when they fall inside.
#[tokio::test]
async fn a_period_starting_on_any_day_of_a_month_counts_its_own_days_only() {
    let app = TestApp::spawn().await;
    let g = app.group("norte").await;
    let (_, ana) = app.person(Role::Officer, "ana@policia.example", "Ana Gómez").await;
    app.assign(&ana, &g).await;
    app.create_user(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    let mut first = local_day(app.state.clock.now()) - Duration::days(89);
    let mut dni = 30_000_000;
    for day_of_month in [15u32, 16, 28, 1, 2] {
        // The next first day of the period on that day of a month; today at local noon.
        first += Duration::days(1);
        while chrono::Datelike::day(&first) != day_of_month {
            first += Duration::days(1);
        }
        let today = first + Duration::days(89);
        let noon = today.and_hms_opt(15, 0, 0).unwrap();
        app.state.clock.advance(noon - app.state.clock.now());
        let now = app.state.clock.now();
        assert_eq!(local_day(now), today);

        let month = chrono::Datelike::with_day(&first, 1).unwrap();
        let last_of_month = month.checked_add_months(chrono::Months::new(1)).unwrap() - Duration::days(1);
        let days = [first - Duration::days(1), first, first + Duration::days(1), month, last_of_month];
        let (g2, ana2) = (g.clone(), ana.clone());
        app.state
            .db(move |c| {
                let mut seed = Seed { c, now };
                for (k, day) in days.into_iter().enumerate() {
                    // Decided at local noon that day, received two hours before.
                    let ago = (today - day).num_days() as f64;
                    let status = if k % 2 == 0 { "approved" } else { "rejected" };
                    dni += 1;
                    seed.application(&g2, status, ago + 2.0 / 24.0, Some((ago, Some(&ana2))), &dni.to_string());
                }
                Ok(())
            })
            .await
            .unwrap();

        let r = raw(&app).await;
        let inside = |at: &Option<NaiveDateTime>| at.is_some_and(|at| local_day(at) >= first);
        let count = |status: &str| r.apps.iter().filter(|a| a.2 == status && inside(&a.4)).count();
        let (approved, rejected) = (count("approved"), count("rejected"));
        let received = r.apps.iter().filter(|a| inside(&Some(a.3))).count();
        assert!(approved + rejected >= 2 && approved + rejected < r.apps.len(), "{first}: some in, some out");

        let boss = app.sign_in("jefa@policia.example").await;
        let html = app.page(&boss, "/commissioner?days=90").await;
        let group = format!("<tr data-group=\"{g}\">");
        let at = format!("period from {first}");
        assert_eq!(figure(&html, &group, "approved"), approved.to_string(), "{at}");
        assert_eq!(figure(&html, &group, "rejected"), rejected.to_string(), "{at}");
        let officer = format!("<tr data-officer=\"{ana}\" data-group=\"{g}\"");
        assert_eq!(figure(&html, &officer, "decisions"), (approved + rejected).to_string(), "{at}");
        let channels = format!("data-channels-group=\"{g}\"");
        assert_eq!(figure(&html, &channels, "online"), received.to_string(), "{at}");
        let channels = format!("data-channels-officer=\"{ana}\"");
        assert_eq!(figure(&html, &channels, "decided_online"), (approved + rejected).to_string(), "{at}");
    }
}

/// Every summary row the triggers keep: the dashboard's and queue's (`db::summary`) and
/// the desk and online figures (`db::channel_counts`).
#[derive(Debug, PartialEq)]
struct Summaries {
    rows: vecinal::db::summary::Snapshot,
    channels: vecinal::db::channel_counts::ChannelSnapshot,
}

async fn summary_snapshot(app: &TestApp) -> Summaries {
    app.state
        .db(|c| {
            Ok(Summaries {
                rows: vecinal::db::summary::snapshot(c)?,
                channels: vecinal::db::channel_counts::snapshot(c)?,
            })
        })
        .await
        .unwrap()
}

/// The summary rows the triggers keep are exactly what `vecinal stats rebuild` computes
/// from the rows, after every kind of change the service makes (the dataset goes through
/// the review over HTTP, withdrawals, two approvals and memberships in every state) and
/// after changes made by hand to the rows; and the rebuild repairs rows that went wrong.
#[tokio::test]
async fn summary_rows_always_agree_with_the_rows_they_count() {
    let app = TestApp::spawn().await;
    let d = dataset(&app).await;
    // Two applications taken at the desk by Ana, one approved by Bruno.
    let ana_desk = app.sign_in("ana@policia.example").await;
    let bruno_desk = app.sign_in("bruno@policia.example").await;
    let (desk_app, _) = app.take_at_desk(&ana_desk, "norte", "27.555.111", "Rosa Ñancucheo").await;
    app.take_at_desk(&ana_desk, "norte", "27.555.222", "Juan Pérez Segundo").await;
    app.claim_and_approve(&bruno_desk, &desk_app).await;
    let kept = summary_snapshot(&app).await;
    assert!(!kept.rows.decisions.is_empty() && !kept.rows.members.is_empty() && !kept.rows.applications.is_empty());
    assert!(!kept.rows.months.is_empty() && !kept.rows.days.is_empty());
    assert!(kept.channels.days.iter().any(|(_, t)| t.received_desk == 2 && t.officer_id == d.ana));
    assert!(kept.channels.days.iter().any(|(_, t)| t.decided_desk == 1 && t.decided_online > 0));
    assert!(kept.channels.months.iter().any(|(_, t)| t.received_desk == 2 && t.officer_id == d.ana), "and its month");
    assert!(stats_rebuild(&app).contains("they were already right"));
    assert_eq!(summary_snapshot(&app).await, kept);
    assert_eq!(app.audit_count("database.stats_rebuilt").await, 1);

    // Changes made straight to the rows: another officer, group, day and wait for one
    // decision, a membership moved, extended and ended, an application reopened.
    let norte = d.norte.clone();
    let sur = d.sur.clone();
    let ana = d.ana.clone();
    let sur_officer = d.outlier.clone();
    app.state
        .db(move |c| {
            let decided: Vec<String> = applications::table
                .filter(applications::status.eq("approved"))
                .filter(applications::group_id.eq(&norte))
                .select(applications::id)
                .limit(2)
                .load(c)?;
            diesel::update(applications::table.find(&decided[0]))
                .set((
                    applications::decided_by.eq(Some(ana.clone())),
                    applications::group_id.eq(&sur),
                    applications::decided_at.eq(Some(chrono::Utc::now().naive_utc() - Duration::days(3))),
                ))
                .execute(c)?;
            diesel::update(applications::table.find(&decided[1]))
                .set((applications::status.eq("submitted"), applications::decided_at.eq(None::<NaiveDateTime>)))
                .execute(c)?;
            let member: String =
                memberships::table.filter(memberships::status.eq("active")).select(memberships::id).first(c)?;
            diesel::update(memberships::table.find(&member))
                .set((
                    memberships::group_id.eq(&sur),
                    memberships::valid_until.eq(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
                ))
                .execute(c)?;
            let other: String = memberships::table
                .filter(memberships::status.eq("active"))
                .filter(memberships::id.ne(&member))
                .select(memberships::id)
                .first(c)?;
            diesel::update(memberships::table.find(&other)).set(memberships::status.eq("revoked")).execute(c)?;
            // A desk application moved to another day and officer, and one made online.
            let desk: Vec<String> = applications::table
                .filter(applications::taken_by.is_not_null())
                .select(applications::id)
                .order(applications::id)
                .load(c)?;
            diesel::update(applications::table.find(&desk[0]))
                .set((
                    applications::created_at.eq(chrono::Utc::now().naive_utc() - Duration::days(40)),
                    applications::taken_by.eq(Some(sur_officer.clone())),
                ))
                .execute(c)?;
            diesel::update(applications::table.find(&desk[1]))
                .set(applications::taken_by.eq(None::<String>))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let kept = summary_snapshot(&app).await;
    assert!(stats_rebuild(&app).contains("they were already right"), "the triggers followed every change");
    assert_eq!(summary_snapshot(&app).await, kept);

    // Summary rows gone wrong (a restore from mismatched copies, rows loaded by other
    // means) are found and repaired, and the dashboard shows the true figures again.
    // The page without its "figures as of" minute, which may change between two requests.
    let figures = |html: String| html.lines().filter(|l| !l.contains("Cifras al")).collect::<Vec<_>>().join("\n");
    let before = figures(app.page(&d.boss, "/commissioner?days=365").await);
    let changed = app
        .state
        .db(|c| {
            let counts = diesel::sql_query("UPDATE application_counts SET n = n + 7").execute(c)?;
            diesel::sql_query("DELETE FROM member_counts WHERE n <> 0").execute(c)?;
            let months = diesel::sql_query("UPDATE decision_months SET rejected = rejected + 1 WHERE approved <> 0")
                .execute(c)?;
            let days = diesel::sql_query("DELETE FROM decision_days WHERE withdrawn <> 0").execute(c)?;
            assert!(months > 0 && days > 0, "the dataset has decisions in whole months and withdrawals");
            // Every daily row one more: the triggers carry it to every monthly row too.
            let channels =
                diesel::sql_query("UPDATE channel_counts SET received_desk = received_desk + 1").execute(c)?;
            let channel_months: i64 = vecinal::db::schema::channel_months::table.count().get_result(c)?;
            Ok(counts + months + days + channels + channel_months as usize)
        })
        .await
        .unwrap();
    assert_ne!(figures(app.page(&d.boss, "/commissioner?days=365").await), before);
    let said = stats_rebuild(&app);
    let wrong = changed + kept.rows.members.len();
    assert!(said.contains(&format!("{wrong} rows were wrong and are now corrected")), "{wrong}: {said}");
    assert_eq!(summary_snapshot(&app).await, kept);
    assert_eq!(figures(app.page(&d.boss, "/commissioner?days=365").await), before);
}

// ----- audit log ----------------------------------------------------------------------------

/// The seqs on an audit page and the link to the next one.
fn seqs_and_next(html: &str) -> (Vec<i64>, Option<String>) {
    let mut seqs = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<tr data-seq=\"") {
        rest = &rest[i + 14..];
        seqs.push(rest[..rest.find('"').unwrap()].parse().unwrap());
    }
    let next = html.find("href=\"/commissioner/audit?").map(|i| {
        let tail = &html[i + 6..];
        tail[..tail.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&")
    });
    // The "clear" link has no query string, the pager's always has `before=`.
    (seqs, next.filter(|n| n.contains("before=")))
}

async fn all_pages(app: &TestApp, c: &Client, first: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut path = first.to_string();
    for _ in 0..20 {
        let (seqs, next) = seqs_and_next(&app.page(c, &path).await);
        assert!(seqs.len() <= 50);
        out.extend(seqs);
        match next {
            Some(n) => path = n,
            None => return out,
        }
    }
    panic!("pagination must end");
}

#[tokio::test]
async fn the_audit_log_searches_and_pages_through_every_entry_once() {
    let app = TestApp::spawn().await;
    let group = app.group("norte").await;
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    let (_, ana) = app.person(Role::Officer, "ana@policia.example", "Ana Gómez").await;
    let (_, bruno) = app.person(Role::Officer, "bruno@policia.example", "Bruno Díaz").await;
    // 130 entries over 13 days: views of two applications by two officers.
    let base = app.state.clock.now() - Duration::days(20);
    let (a, b, g) = (ana.clone(), bruno.clone(), group.clone());
    let (app1, app2) = app
        .state
        .db(move |c| {
            let (app1, app2) = {
                let mut seed = Seed { c: &mut *c, now: base };
                (
                    seed.application(&g, "submitted", 1.0, None, "30111222").0,
                    seed.application(&g, "submitted", 1.0, None, "30111333").0,
                )
            };
            for i in 0..130i64 {
                let who = if i % 3 == 0 { &b } else { &a };
                let (action, subject) =
                    if i % 2 == 0 { ("application.viewed", &app1) } else { ("document.viewed", &app2) };
                let details = if action == "document.viewed" {
                    serde_json::json!({ "application_id": app2, "kind": "identity_document" })
                } else {
                    serde_json::json!({})
                };
                let kind = if action == "document.viewed" { "document" } else { "application" };
                c.write_tx(|c| {
                    audit::record(
                        c,
                        base + Duration::hours(i * 2 + 1),
                        &Actor::user(who, Role::Officer, Some("10.0.0.1")),
                        action,
                        Some(Subject { kind, id: if kind == "document" { "doc-1" } else { subject } }),
                        details,
                    )
                })?;
            }
            Ok((app1, app2))
        })
        .await
        .unwrap();
    type Row = (i64, NaiveDateTime, Option<String>, String, Option<String>, Option<String>);
    let entries: Vec<Row> = app
        .state
        .db(|c| {
            Ok(audit_log::table
                .select((
                    audit_log::seq,
                    audit_log::at,
                    audit_log::actor_id,
                    audit_log::action,
                    audit_log::subject_type,
                    audit_log::subject_id,
                ))
                .order(audit_log::seq.desc())
                .load(c)?)
        })
        .await
        .unwrap();
    let expect = |f: &dyn Fn(&Row) -> bool| entries.iter().filter(|e| f(e)).map(|e| e.0).collect::<Vec<_>>();

    // Everything, newest first, each entry once.
    let all = all_pages(&app, &boss, "/commissioner/audit").await;
    assert!(all.len() > 130);
    assert_eq!(all, expect(&|_| true));
    // By action.
    let got = all_pages(&app, &boss, "/commissioner/audit?action=document.viewed").await;
    assert_eq!(got.len(), 65);
    assert_eq!(got, expect(&|e| e.3 == "document.viewed"));
    // By actor, as an email and as an id.
    let by_email = all_pages(&app, &boss, "/commissioner/audit?actor=Bruno%40policia.example").await;
    assert_eq!(by_email, expect(&|e| e.2.as_deref() == Some(bruno.as_str())));
    assert_eq!(by_email.len(), 44 + 1, "44 views and the sign-in");
    assert_eq!(all_pages(&app, &boss, &format!("/commissioner/audit?actor={bruno}")).await, by_email);
    let unknown = app.page(&boss, "/commissioner/audit?actor=nadie%40example.com").await;
    assert!(unknown.contains("Ninguna cuenta coincide"));
    assert!(seqs_and_next(&unknown).0.is_empty());
    // By subject, combined with the actor.
    let got = all_pages(
        &app,
        &boss,
        &format!("/commissioner/audit?subject_type=application&subject_id={app1}&actor=ana%40policia.example"),
    )
    .await;
    assert_eq!(
        got,
        expect(&|e| e.4.as_deref() == Some("application")
            && e.5.as_deref() == Some(app1.as_str())
            && e.2.as_deref() == Some(ana.as_str()))
    );
    assert!(!got.is_empty());
    // By local calendar days (Argentina, UTC−3), both ends included.
    let from = (base + Duration::days(3) - Duration::hours(3)).date();
    let to = from + Duration::days(2);
    let got =
        all_pages(&app, &boss, &format!("/commissioner/audit?from={from}&to={to}&action=application.viewed")).await;
    let local_day = |at: NaiveDateTime| (at - Duration::hours(3)).date();
    assert_eq!(got, expect(&|e| e.3 == "application.viewed" && local_day(e.1) >= from && local_day(e.1) <= to));
    assert!(!got.is_empty());
    let bad = app.page(&boss, "/commissioner/audit?from=27/11/2026").await;
    assert!(bad.contains("AAAA-MM-DD"));

    // In plain words.
    let html = app.page(&boss, "/commissioner/audit?action=document.viewed").await;
    assert!(html.contains(&format!(
        "Oficial Ana Gómez vio el documento de identidad de Vecino 30111333 (solicitud #{})",
        &app2[..8]
    )));
    let en = app.post(&boss, "/language", &[("lang", "en"), ("next", "/")]).await;
    assert_eq!(en.status(), StatusCode::SEE_OTHER);
    let html = app.page(&boss, "/commissioner/audit?action=document.viewed").await;
    assert!(html.contains("Officer Ana Gómez viewed the identity document of Vecino 30111333"));
}

fn audit_verify(app: &TestApp) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    vecinal(&app.state.settings.database_url, dir.path(), &["audit", "verify"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn the_command_line_verifies_the_chain_and_names_the_altered_entry() {
    let app = TestApp::spawn().await;
    let c = client();
    for i in 0..4 {
        app.login(&c, &format!("nadie{i}@example.com"), "wrong password here").await;
    }
    let out = audit_verify(&app);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("audit chain intact: 4 entries"), "{stdout}");

    app.state.db(|c| Ok(tamper(c, 3)?)).await.unwrap();
    let out = audit_verify(&app);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("entry 3"), "names the first altered entry: {stdout}");

    // The web page says so too, and the audit page flags the altered entry itself.
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    assert!(app.page(&boss, "/commissioner/audit/verify").await.contains("la primera entrada alterada es la número 3"));
    let html = app.page(&boss, "/commissioner/audit").await;
    assert_eq!(html.matches("class=\"altered\"").count(), 1);
    assert!(html.contains("<tr data-seq=\"3\" data-action=\"account.login_failed\" class=\"altered\">"));
}

// ----- records ------------------------------------------------------------------------------

async fn actions_about(app: &TestApp, subject: &str) -> Vec<(String, Option<String>)> {
    let s = subject.to_string();
    app.state
        .db(move |c| {
            Ok(audit_log::table
                .filter(audit_log::subject_id.eq(s))
                .order(audit_log::seq.asc())
                .select((audit_log::action, audit_log::actor_role))
                .load(c)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn commissioners_read_any_application_and_person_and_each_opening_is_recorded() {
    let app = TestApp::spawn().await;
    let d = dataset(&app).await;
    let id = &d.juan_application;
    let html = app.page(&d.boss, &format!("/commissioner/applications/{id}")).await;
    for text in ["Juan Pérez", "30.123.456", "Calle Belgrano 1234", "NORTE-000001", "Solicitud aprobada.", "Aprobada"]
    {
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains(&format!("Oficial Ana Gómez aprobó la solicitud #{} de Juan Pérez.", &id[..8])));
    assert!(html.contains("Oficial Ana Gómez vio el certificado de antecedentes penales de Juan Pérez"));
    assert!(html.contains(&format!("Comisario/a Marta Jefa abrió la solicitud #{} de Juan Pérez.", &id[..8])));
    assert!(!html.contains("<form method=\"post\" action=\"/officer"), "read-only: no decision forms");
    assert_eq!(
        actions_about(&app, id).await.last().unwrap(),
        &("application.viewed".into(), Some("commissioner".into()))
    );

    let html = app.page(&d.boss, &format!("/commissioner/people/{}", d.juan)).await;
    for text in ["Juan Pérez", "juan@example.com", "NORTE-000001", "Juan Pérez ingresó al sistema."] {
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains(&format!("href=\"/commissioner/applications/{id}\"")));
    assert!(html.contains("vio el certificado de antecedentes penales de Juan Pérez"), "documents viewed");
    assert_eq!(
        actions_about(&app, &d.juan).await.last().unwrap(),
        &("person.viewed".into(), Some("commissioner".into()))
    );

    // An unknown id is not found and records nothing.
    let before = app.count("audit_log").await;
    let missing = uuid::Uuid::new_v4();
    for path in [format!("/commissioner/applications/{missing}"), format!("/commissioner/people/{missing}")] {
        assert_eq!(app.get_with(&d.boss, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.count("audit_log").await, before);
}

// ----- memberships and exports --------------------------------------------------------------

/// The rows of a CSV export (after its header).
fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 byte order mark for spreadsheets");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

async fn export_entries(app: &TestApp, action: &'static str) -> Vec<serde_json::Value> {
    app.state
        .db(move |c| {
            let d: Vec<String> = audit_log::table
                .filter(audit_log::action.eq(action))
                .order(audit_log::seq.asc())
                .select(audit_log::details)
                .load(c)?;
            Ok(d.iter().map(|s| serde_json::from_str(s).unwrap()).collect())
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn memberships_are_searched_paged_and_exported_with_formulas_neutralised() {
    let app = TestApp::spawn().await;
    let norte = app.group("norte").await;
    let sur = app.group("sur").await;
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    let (n, s) = (norte.clone(), sur.clone());
    // The clock keeps microseconds, as every time the service stores does.
    let now = app.state.clock.now();
    app.state
        .db(move |c| {
            let mut seed = Seed { c, now };
            // 60 members in norte, 3 in sur, some with names a spreadsheet would run.
            for i in 0..60 {
                let (a, user) =
                    seed.application(&n, "approved", 10.5, Some((5.5, None)), &(30_000_000 + i).to_string());
                let status = if i % 10 == 0 { "suspended" } else { "active" };
                seed.membership(&user, &n, &a, &format!("NORTE-{:06}", i + 1), status, 100);
            }
            for (i, name) in ["=HYPERLINK(\"http://evil.example\")", "+54 llamame", "@SUMA(A1)"].iter().enumerate() {
                let (a, user) =
                    seed.application(&s, "approved", 10.5, Some((5.5, None)), &(40_000_000 + i).to_string());
                diesel::update(users::table.find(&user)).set(users::full_name.eq(*name)).execute(seed.c)?;
                seed.membership(&user, &s, &a, &format!("SUR-{:06}", i + 1), "active", 100);
            }
            let (a, user) = seed.application(&s, "approved", 10.5, Some((5.5, None)), "27654321");
            diesel::update(users::table.find(&user)).set(users::full_name.eq("María Ñandú")).execute(seed.c)?;
            seed.membership(&user, &s, &a, "SUR-000004", "active", 100);
            Ok(())
        })
        .await
        .unwrap();

    // Keyset pages: every norte membership exactly once.
    let mut seen = Vec::new();
    let mut path = format!("/commissioner/memberships?group={norte}");
    for _ in 0..5 {
        let html = app.page(&boss, &path).await;
        let mut rest = html.as_str();
        while let Some(i) = rest.find("<tr data-membership=\"") {
            rest = &rest[i + 21..];
            seen.push(rest[..36].to_string());
        }
        match html.find("href=\"/commissioner/memberships?") {
            Some(i) => {
                let tail = &html[i + 6..];
                path = tail[..tail.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 60, "no membership twice");

    // Search by DNI (with dots), number (any case), name (part, any case) and status.
    let html = app.page(&boss, "/commissioner/memberships?q=30.000.007").await;
    assert_eq!(html.matches("<tr data-membership=").count(), 1);
    assert!(html.contains("NORTE-000008"));
    let html = app.page(&boss, "/commissioner/memberships?q=norte-000012").await;
    assert_eq!(html.matches("<tr data-membership=").count(), 1);
    let html = app.page(&boss, "/commissioner/memberships?q=mar%C3%ADa").await;
    assert!(html.contains("María Ñandú"));
    assert_eq!(html.matches("<tr data-membership=").count(), 1);
    let html = app.page(&boss, &format!("/commissioner/memberships?group={norte}&status=suspended")).await;
    assert_eq!(html.matches("<tr data-membership=").count(), 6);
    assert!(
        html.contains(&format!("href=\"/commissioner/memberships.csv?group={norte}&amp;status=suspended\""))
            || html.contains(&format!("href=\"/commissioner/memberships.csv?group={norte}&#38;status=suspended\""))
    );

    // The export holds the same selection.
    let res = app.get_with(&boss, &format!("/commissioner/memberships.csv?group={norte}&status=suspended")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"membresias-"));
    let (header, rows) = csv_rows(&res.bytes().await.unwrap());
    assert_eq!(header[0], "Número");
    assert_eq!(rows.len(), 6);
    let mut numbers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        ["NORTE-000001", "NORTE-000011", "NORTE-000021", "NORTE-000031", "NORTE-000041", "NORTE-000051"]
    );
    assert!(rows.iter().all(|r| r[1] == "suspended" && r[4] == "Barrio norte"));

    let res = app.get_with(&boss, &format!("/commissioner/memberships.csv?group={sur}")).await;
    let (_, rows) = csv_rows(&res.bytes().await.unwrap());
    let names: HashSet<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        names,
        HashSet::from(["'=HYPERLINK(\"http://evil.example\")", "'+54 llamame", "'@SUMA(A1)", "María Ñandú"]),
        "formula cells start with a quote"
    );

    // Each export is audited with its filter and row count; names and DNIs stay out.
    let res = app.get_with(&boss, "/commissioner/memberships.csv?q=30.000.007").await;
    assert_eq!(csv_rows(&res.bytes().await.unwrap()).1.len(), 1);
    let entries = export_entries(&app, "export.memberships").await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["rows"], 6);
    assert_eq!(entries[0]["filter"]["group_id"], norte.as_str());
    assert_eq!(entries[0]["filter"]["status"], "suspended");
    assert_eq!(entries[1]["rows"], 4);
    assert_eq!(entries[2]["rows"], 1);
    assert_eq!(entries[2]["filter"]["search"]["kind"], "dni");
    assert!(!entries[2].to_string().contains("30000007"));
    assert_eq!(entries[2]["truncated"], false);
}

#[tokio::test]
async fn decisions_export_lists_the_periods_decisions_and_is_audited() {
    let app = TestApp::spawn().await;
    let d = dataset(&app).await;
    let res = app.get_with(&d.boss, "/commissioner/decisions.csv?days=30").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (header, rows) = csv_rows(&res.bytes().await.unwrap());
    assert_eq!(header.len(), 8);
    assert_eq!(header[3], "Decisión");
    let r = raw(&app).await;
    let start = app.state.clock.now() - Duration::days(30);
    let expected: HashSet<String> = r
        .apps
        .iter()
        .filter(|a| matches!(a.2.as_str(), "approved" | "rejected") && a.4.is_some_and(|t| t >= start))
        .map(|a| a.0.clone())
        .collect();
    let got: HashSet<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(rows.len(), expected.len(), "one row per decision");
    let juan = rows.iter().find(|r| r[0] == d.juan_application).unwrap();
    assert_eq!((juan[1].as_str(), juan[2].as_str(), juan[3].as_str()), ("Barrio norte", "Juan Pérez", "approved"));
    assert_eq!(juan[5], "Ana Gómez");
    assert!(juan[6].ends_with('Z') && juan[7].ends_with('Z'));
    let lucia = rows.iter().find(|r| r[2] == "Lucía Fernández").unwrap();
    assert_eq!((lucia[3].as_str(), lucia[4].as_str(), lucia[5].as_str()), ("rejected", "record_found", "Bruno Díaz"));
    let rosa = rows.iter().find(|r| r[2] == "Rosa Luna").unwrap();
    assert_eq!(rosa[5], "Ana Gómez; Bruno Díaz", "both officers of a two-approval decision");
    // A year holds the older ones too.
    let res = app.get_with(&d.boss, "/commissioner/decisions.csv?days=365").await;
    let (_, year) = csv_rows(&res.bytes().await.unwrap());
    assert!(year.len() > rows.len());
    let entries = export_entries(&app, "export.decisions").await;
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["days"].as_i64(), entries[0]["rows"].as_u64()), (Some(30), Some(rows.len() as u64)));
    assert_eq!((entries[1]["days"].as_i64(), entries[1]["rows"].as_u64()), (Some(365), Some(year.len() as u64)));
    let html = app.page(&d.boss, "/commissioner/audit?action=export.decisions").await;
    assert!(html.contains(&format!(
        "Comisario/a Marta Jefa descargó {} decisiones de los últimos 30 días en CSV.",
        rows.len()
    )));
}

// ----- access -------------------------------------------------------------------------------

#[tokio::test]
async fn only_commissioners_reach_the_oversight_pages() {
    let app = TestApp::spawn().await;
    let group = app.group("norte").await;
    let (resident, resident_id) = app.person(Role::Resident, "vecina@example.com", "Vecina Uno").await;
    let application = app.submit(&resident, "norte").await;
    let (officer, officer_id) = app.person(Role::Officer, "oficial@policia.example", "Oficial Uno").await;
    app.assign(&officer_id, &group).await;
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    let routes = [
        "/commissioner".to_string(),
        "/commissioner?days=90".into(),
        "/commissioner/audit".into(),
        "/commissioner/audit?action=account.login".into(),
        "/commissioner/audit/verify".into(),
        format!("/commissioner/applications/{application}"),
        format!("/commissioner/people/{resident_id}"),
        "/commissioner/memberships".into(),
        "/commissioner/memberships.csv".into(),
        "/commissioner/decisions.csv?days=30".into(),
    ];
    let before = app.count("audit_log").await;
    for path in &routes {
        assert_eq!(app.get_with(&resident, path).await.status(), StatusCode::FORBIDDEN, "resident {path}");
        assert_eq!(app.get_with(&officer, path).await.status(), StatusCode::FORBIDDEN, "officer {path}");
        let anonymous = app.get_with(&client(), path).await;
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "anonymous {path}");
        assert!(location(&anonymous).starts_with("/login?next="), "{path}");
    }
    assert_eq!(app.count("audit_log").await, before, "refused requests record nothing");
    for path in &routes {
        assert_eq!(app.get_with(&boss, path).await.status(), StatusCode::OK, "commissioner {path}");
    }
}
