//! Rebuilding the dashboard's and the queue's summary rows from the rows they count
//! (`vecinal stats rebuild`): after data was loaded by other means or restored, or to check
//! that the triggers kept them right.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::app::Tx;
use crate::audit::Actor;
use crate::db::{DbConn, summary};
use crate::error::AppResult;

/// Rebuilds every summary row in one write transaction with its audit entry, and returns
/// how many rows were wrong before (0 when they were right).
pub fn rebuild(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<usize> {
    Tx::run(conn, now, |tx| {
        let corrected = summary::rebuild(tx.conn)? + crate::db::channel_counts::rebuild(tx.conn)?;
        tx.audit(&Actor::system("cli"), "database.stats_rebuilt", None, json!({ "rows": corrected }))?;
        Ok(corrected)
    })
}
