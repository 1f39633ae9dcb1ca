//! The time zone inside the database: the summary triggers count decisions and
//! applications per *local* day, and SQL has no portable time-zone database (SQLite has
//! none at all). So the zone's offsets are a table, `local_offsets` (the UTC instant from
//! which each offset holds, from [`Zone::offsets`]), with the zone's name in `local_zone`;
//! the triggers and the rebuilds take the offset of the last row at or before an instant
//! (migration `2026-11-30-000050_local_time`). An index lookup per counted row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{local_offsets, local_zone};
use crate::domain::Zone;

/// The name the migration gives its stand-in for a zone: the fixed UTC−3 the triggers
/// counted in before zones were configurable. No zone has this name, so the first start
/// installs the configured one.
pub const PLACEHOLDER: &str = "UTC-3";

/// The local day of the UTC timestamp `column`, as SQL for the connection's backend (the
/// same expression the triggers use).
pub fn day_of(conn: &DbConn, column: &str) -> String {
    match conn {
        DbConn::Sqlite(_) => format!(
            "date({column}, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= {column} \
             ORDER BY starts_at DESC LIMIT 1) || ' seconds')"
        ),
        DbConn::Pg(_) => format!("local_day({column})"),
    }
}

/// The zone the database counts in: its name and its offsets table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    pub offsets: Vec<(NaiveDateTime, i32)>,
}

impl Installed {
    /// Whether this is `zone` as the service's time-zone database has it (the name alone is
    /// not enough: a country may change its rules, and a newer build carries them).
    pub fn is(&self, zone: Zone, offsets: &[(NaiveDateTime, i32)]) -> bool {
        self.name == zone.name() && self.offsets == offsets
    }
}

pub fn installed(conn: &mut DbConn) -> QueryResult<Installed> {
    let name = local_zone::table.select(local_zone::name).first(conn)?;
    let offsets = local_offsets::table
        .select((local_offsets::starts_at, local_offsets::offset_seconds))
        .order(local_offsets::starts_at)
        .load(conn)?;
    Ok(Installed { name, offsets })
}

/// Replaces the installed zone with `zone` and its `offsets`. Run it inside a write
/// transaction, with a rebuild of the rows counted per day.
pub fn install(conn: &mut DbConn, zone: Zone, offsets: &[(NaiveDateTime, i32)]) -> QueryResult<()> {
    diesel::delete(local_offsets::table).execute(conn)?;
    // A row at a time: a few hundred at most, and only when the zone changes.
    for (at, seconds) in offsets {
        diesel::insert_into(local_offsets::table)
            .values((local_offsets::starts_at.eq(at), local_offsets::offset_seconds.eq(seconds)))
            .execute(conn)?;
    }
    diesel::update(local_zone::table).set(local_zone::name.eq(zone.name())).execute(conn)?;
    Ok(())
}
