//! Rebuilding what triggers keep from the raw rows (`vecinal stats rebuild`): the dashboard's
//! and the queue's summary rows, the queue's marks on each application, and the pairs of the
//! duplicates list. After data was loaded by other means or restored, or to check that the
//! triggers kept them right.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::app::Tx;
use crate::audit::Actor;
use crate::db::{DbConn, local_time, summary};
use crate::domain::Zone;
use crate::error::AppResult;

/// Rebuilds every summary row in one write transaction with its audit entry, and returns
/// how many rows were wrong before (0 when they were right).
pub fn rebuild(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<usize> {
    Tx::run(conn, now, |tx| {
        let corrected = summary::rebuild(tx.conn)?
            + crate::db::channel_counts::rebuild(tx.conn)?
            + crate::db::marks::rebuild(tx.conn)?
            + crate::db::duplicates::rebuild(tx.conn)?;
        tx.audit(&Actor::system("cli"), "database.stats_rebuilt", None, json!({ "rows": corrected }))?;
        Ok(corrected)
    })
}

/// Makes the database count days in `zone`: when it counts in another zone, or in this
/// zone under other rules, installs the zone's offsets and rebuilds every summary row in
/// one write transaction with its audit entry. Returns the zone it counted in before and
/// the rows corrected, or `None` when it already counted in `zone`. Every instance of a
/// deployment must have the same `VECINAL_TIME_ZONE`, or each start rebuilds again.
pub fn use_zone(conn: &mut DbConn, zone: Zone, now: NaiveDateTime) -> AppResult<Option<(String, usize)>> {
    let offsets = zone.offsets();
    if local_time::installed(conn)?.is(zone, &offsets) {
        return Ok(None);
    }
    Tx::run(conn, now, |tx| {
        // Read again under the write lock: another instance may have just installed it.
        let before = local_time::installed(tx.conn)?;
        if before.is(zone, &offsets) {
            return Ok(None);
        }
        local_time::install(tx.conn, zone, &offsets)?;
        let corrected = summary::rebuild(tx.conn)? + crate::db::channel_counts::rebuild(tx.conn)?;
        // The first zone a database gets (the migration's placeholder replaced) is only
        // worth an entry if it moved figures already counted.
        if before.name != local_time::PLACEHOLDER || corrected > 0 {
            tx.audit(
                &Actor::system("start"),
                "database.time_zone_changed",
                None,
                json!({ "from": before.name, "to": zone.name(), "rows": corrected }),
            )?;
        }
        Ok(Some((before.name, corrected)))
    })
}
