//! The queue's marks kept on the application row, so that a queue page reads them with its
//! rows. Triggers keep them:
//! - `applications.dni_verdict`, the verdict of the current identity document's reading
//!   (migration `2026-11-30-000100_queue_marks`): when a reading's verdict is written, and
//!   when an identity document is replaced;
//! - `applications.in_pair`, on either side of a recorded duplicate pair (migration
//!   `2026-11-30-000110_pair_mark`): when a pair is recorded, and when a pair row is deleted
//!   (the service deletes none; a hand edit or a restore may). Whether the pair still holds
//!   is checked for the marked rows only (`db::duplicates::holding_among`).

use diesel::prelude::*;

use crate::db::DbConn;

/// The verdict an application's row must hold, as SQL on `applications`: the reading of
/// its newest current identity document (NULL until read). The triggers compute the same.
const VERDICT: &str = "(SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id \
     WHERE d.application_id = applications.id AND d.kind = 'identity_document' AND d.replaced_at IS NULL \
     ORDER BY d.uploaded_at DESC LIMIT 1)";

/// Whether an application is in a recorded pair, as SQL on `applications`: one probe per
/// key of `duplicate_pairs`. The triggers compute the same.
const IN_PAIR: &str = "(EXISTS (SELECT 1 FROM duplicate_pairs p WHERE p.first_id = applications.id) \
     OR EXISTS (SELECT 1 FROM duplicate_pairs p WHERE p.second_id = applications.id))";

/// Recomputes every application's marks from the readings and the pairs and returns how
/// many were wrong before (0 when the triggers kept them right). Run it inside a write
/// transaction.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    let verdicts = diesel::sql_query(format!(
        "UPDATE applications SET dni_verdict = {VERDICT} WHERE dni_verdict IS DISTINCT FROM {VERDICT}"
    ))
    .execute(conn)?;
    let pairs = diesel::sql_query(format!("UPDATE applications SET in_pair = {IN_PAIR} WHERE in_pair <> {IN_PAIR}"))
        .execute(conn)?;
    Ok(verdicts + pairs)
}
