//! Dates and day counts from requests at the edges of what chrono and the databases hold:
//! every one is range-checked and answered with the page's own message or default, never a
//! panic, a 500 or a dropped connection.

use reqwest::StatusCode;
use vecinal::domain::Role;

use crate::helpers::*;

/// GETs `path` and returns the status and body; a dropped connection fails the test here
/// (`send` errors instead of answering).
async fn answer(app: &TestApp, c: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
    let status = res.status();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn absurd_audit_dates_are_refused_on_the_page() {
    let app = TestApp::spawn().await;
    let boss = app.commissioner("jefa@policia.example").await;
    for query in [
        "to=+262142-12-31",
        "to=%2B262142-12-31",
        "to=262142-12-31",
        "from=%2B262142-12-31",
        "from=-999999-01-01",
        "from=-262143-01-01",
        "to=-262143-01-01",
        "from=0000-01-01&to=9999-12-31",
        "to=3000-01-01",
        "from=2026-02-30",
        "to=99999999999",
        "from=1899-12-31&to=%2B262142-12-31&before=9223372036854775807",
    ] {
        let path = format!("/commissioner/audit?{query}");
        let (status, html) = answer(&app, &boss, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("Las fechas van en el formato AAAA-MM-DD"), "{path} says what is wrong");
    }
    // The ends of the range are dates like any other.
    for query in ["from=1900-01-01", "to=2999-12-31", "from=1900-01-01&to=2999-12-31"] {
        let path = format!("/commissioner/audit?{query}");
        let (status, html) = answer(&app, &boss, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("Las fechas van en el formato AAAA-MM-DD"), "{path} is a valid filter");
    }
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn absurd_periods_fall_back_to_the_default() {
    let app = TestApp::spawn().await;
    let boss = app.commissioner("jefa@policia.example").await;
    for days in ["99999999999", "99999999999999999999999", "-1", "0", "3661", "-9223372036854775808", "1e9"] {
        let (status, _) = answer(&app, &boss, &format!("/commissioner?days={days}")).await;
        assert_eq!(status, StatusCode::OK, "dashboard, days={days}");
        let (status, csv) = answer(&app, &boss, &format!("/commissioner/decisions.csv?days={days}")).await;
        assert_eq!(status, StatusCode::OK, "decisions export, days={days}");
        assert!(csv.starts_with('\u{feff}'), "a CSV file");
    }
    let (status, _) = answer(&app, &boss, "/commissioner/decisions.csv?days=3660").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn cursors_with_absurd_instants_are_ignored() {
    let app = TestApp::spawn().await;
    let group = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &group).await;
    let boss = app.commissioner("jefa@policia.example").await;
    let id = "a1b2c3d4-0000-4000-8000-000000000000";
    for micros in ["-9223372036854775808", "-8000000000000000000", "9223372036854775807", "8000000000000000000", "x"] {
        let (status, _) = answer(&app, &officer, &format!("/officer?after={micros}_{id}")).await;
        assert_eq!(status, StatusCode::OK, "queue after {micros}");
        let (status, _) = answer(&app, &boss, &format!("/commissioner/memberships?after={micros}_{id}")).await;
        assert_eq!(status, StatusCode::OK, "membership search after {micros}");
    }
}

#[tokio::test]
async fn certificate_dates_out_of_range_are_form_errors() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let resident = app.signed_in(Role::Resident, "vecina@example.com").await;
    for (date, message) in [
        ("+262142-12-31", "no puede ser posterior a hoy"),
        ("262142-12-31", "no puede ser posterior a hoy"),
        ("2999-12-31", "no puede ser posterior a hoy"),
        ("3000-01-01", "no puede ser posterior a hoy"),
        ("-999999-01-01", "pedí uno nuevo"),
        ("-262143-01-01", "pedí uno nuevo"),
        ("0000-01-01", "pedí uno nuevo"),
        ("1900-01-01", "pedí uno nuevo"),
        ("2026-02-30", "Indicá la fecha de emisión"),
        ("99999999999", "Indicá la fecha de emisión"),
    ] {
        let res = Submission::valid(&app, "centro").set("certificate_issued_on", date).send(&app, &resident).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{date}");
        assert!(res.text().await.unwrap().contains(message), "{date}: {message}");
    }
    assert_eq!(app.count("applications").await, 0);
}

#[tokio::test]
async fn the_renewal_form_range_checks_its_date_too() {
    let app = TestApp::spawn().await;
    let group = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &group).await;
    app.member("juan.perez@example.com", "centro", &officer).await;
    let m = app.memberships_of(&app.user_id("juan.perez@example.com").await).await.remove(0);
    app.state.clock.advance(chrono::Duration::days((m.valid_until - app.today()).num_days() - 20));
    let resident = app.sign_in("juan.perez@example.com").await;
    let renew = format!("/memberships/{}/renew", m.id);
    for date in ["+262142-12-31", "-999999-01-01", "2026-13-01"] {
        let res = Submission::renewal(&app, "Calle Belgrano 1234")
            .set("certificate_issued_on", date)
            .send_to(&app, &resident, &renew)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{date}");
    }
    let res = Submission::renewal(&app, "Calle Belgrano 1234").send_to(&app, &resident, &renew).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a right date still renews");
}
