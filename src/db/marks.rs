//! The queue's marks kept on the application row, so that a queue page reads them with its
//! rows: `applications.dni_verdict`, the verdict of the current identity document's reading.
//! Triggers keep it (migration `2026-11-30-000100_queue_marks`): when a reading's verdict is
//! written, and when an identity document is replaced. The duplicate sign needs no column:
//! `duplicate_pairs` is probed by the row read itself (`db::duplicates::PAIRED`).

use diesel::prelude::*;

use crate::db::DbConn;

/// The verdict an application's row must hold, as SQL on `applications`: the reading of
/// its newest current identity document (NULL until read). The triggers compute the same.
const VERDICT: &str = "(SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id \
     WHERE d.application_id = applications.id AND d.kind = 'identity_document' AND d.replaced_at IS NULL \
     ORDER BY d.uploaded_at DESC LIMIT 1)";

/// Recomputes every application's verdict from the readings and returns how many were
/// wrong before (0 when the triggers kept them right). Run it inside a write transaction.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "UPDATE applications SET dni_verdict = {VERDICT} WHERE dni_verdict IS DISTINCT FROM {VERDICT}"
    ))
    .execute(conn)
}
