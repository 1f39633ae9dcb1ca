//! The audit chain: written with each change, verifiable, and refusing edits.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::audit::{self, BreakReason, ChainStatus};
use vecinal::db::schema::audit_log;
use vecinal::domain::Role;

use crate::helpers::*;

#[tokio::test]
async fn account_changes_are_audited_in_a_chain_that_verifies() {
    let app = TestApp::spawn().await;
    let c = client();
    app.register_and_confirm(&c, "auditada@example.com", "Vecina Auditada").await;
    app.login(&c, "auditada@example.com", "wrong password here").await;
    app.login(&c, "auditada@example.com", PASSWORD).await;
    app.post(&c, "/logout", &[]).await;
    assert_eq!(
        app.audit_actions().await,
        ["account.register", "account.email_confirmed", "account.login_failed", "account.login", "account.logout"]
    );
    let status = app.state.db(|c| Ok(audit::verify(c)?)).await.unwrap();
    assert_eq!(status, ChainStatus::Intact { entries: 5 });

    // No personal data in the log: accounts are named by id only.
    let details: Vec<(Option<String>, String)> = app
        .state
        .db(|c| Ok(audit_log::table.select((audit_log::subject_id, audit_log::details)).load(c)?))
        .await
        .unwrap();
    for (_, d) in &details {
        assert!(!d.contains("auditada@example.com") && !d.contains("Vecina"), "{d}");
    }

    let commissioner = app.signed_in(Role::Commissioner, "jefe@example.com").await;
    let page = app.get_with(&commissioner, "/commissioner/audit/verify").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("La cadena está íntegra"));
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_entries() {
    let app = TestApp::spawn().await;
    app.signed_in(Role::Resident, "x@example.com").await;
    let update =
        app.state.db(|c| Ok(diesel::update(audit_log::table).set(audit_log::action.eq("tampered")).execute(c)?)).await;
    assert!(update.is_err(), "UPDATE must fail");
    let delete = app.state.db(|c| Ok(diesel::delete(audit_log::table).execute(c)?)).await;
    assert!(delete.is_err(), "DELETE must fail");
    assert_eq!(app.audit_actions().await, ["account.login"]);
}

#[tokio::test]
async fn verification_names_the_first_altered_entry() {
    let app = TestApp::spawn().await;
    let c = client();
    for _ in 0..3 {
        app.login(&c, "nobody@example.com", "wrong password here").await;
    }
    assert_eq!(app.state.db(|c| Ok(audit::verify(c)?)).await.unwrap(), ChainStatus::Intact { entries: 3 });
    app.state.db(|c| Ok(tamper(c, 2)?)).await.unwrap();
    assert_eq!(
        app.state.db(|c| Ok(audit::verify(c)?)).await.unwrap(),
        ChainStatus::Broken { seq: 2, reason: BreakReason::ContentAltered }
    );
}
