//! Rows read back from the test database, to check what the routes stored, and the one
//! write no route offers: altering the audit log behind its triggers' back.

use diesel::prelude::*;
use vecinal::db::DbConn;
use vecinal::db::models::{Document, Membership};
use vecinal::db::schema::{applications, audit_log, documents, memberships, users};

use super::TestApp;

impl TestApp {
    pub async fn user_id(&self, email: &str) -> String {
        let email = email.to_string();
        self.state
            .db(move |c| Ok(users::table.filter(users::email.eq(email)).select(users::id).first(c)?))
            .await
            .unwrap()
    }

    /// An application's status and version.
    pub async fn status_of(&self, id: &str) -> (String, i32) {
        let id = id.to_string();
        self.state
            .db(move |c| {
                Ok(applications::table.find(id).select((applications::status, applications::version)).first(c)?)
            })
            .await
            .unwrap()
    }

    pub async fn version(&self, id: &str) -> i32 {
        self.status_of(id).await.1
    }

    /// An application's documents (replaced and purged ones too), by kind.
    pub async fn documents_of(&self, application_id: &str) -> Vec<Document> {
        let id = application_id.to_string();
        self.state
            .db(move |c| {
                Ok(documents::table
                    .filter(documents::application_id.eq(id))
                    .order((documents::kind.asc(), documents::id.asc()))
                    .load(c)?)
            })
            .await
            .unwrap()
    }

    /// A person's memberships, oldest first.
    pub async fn memberships_of(&self, user_id: &str) -> Vec<Membership> {
        let u = user_id.to_string();
        self.state
            .db(move |c| {
                Ok(memberships::table
                    .filter(memberships::user_id.eq(u))
                    .order(memberships::created_at.asc())
                    .load(c)?)
            })
            .await
            .unwrap()
    }

    /// Every action in the audit log, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        self.state
            .db(|c| Ok(audit_log::table.select(audit_log::action).order(audit_log::seq.asc()).load(c)?))
            .await
            .unwrap()
    }

    /// How many audit entries record `action`.
    pub async fn audit_count(&self, action: &'static str) -> i64 {
        self.state
            .db(move |c| Ok(audit_log::table.filter(audit_log::action.eq(action)).count().get_result(c)?))
            .await
            .unwrap()
    }
}

/// Alters a row behind the triggers' back, as someone with direct database access could.
pub fn tamper(c: &mut DbConn, seq: i64) -> QueryResult<()> {
    let sql = match c {
        DbConn::Sqlite(_) => vec![
            "DROP TRIGGER audit_log_no_update".to_string(),
            format!("UPDATE audit_log SET details = '{{\"forged\":true}}' WHERE seq = {seq}"),
        ],
        DbConn::Pg(_) => vec![
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update".to_string(),
            format!("UPDATE audit_log SET details = '{{\"forged\":true}}' WHERE seq = {seq}"),
        ],
    };
    for s in sql {
        diesel::sql_query(s).execute(c)?;
    }
    Ok(())
}
