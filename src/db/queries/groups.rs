//! Reading groups.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::Group;
use crate::db::schema::groups;

/// Active groups by name, for residents choosing theirs. There are a handful per town, so
/// the whole list is one small page.
pub fn list_active(conn: &mut DbConn) -> QueryResult<Vec<Group>> {
    groups::table.filter(groups::active.eq(true)).order(groups::name.asc()).limit(500).load(conn)
}

/// Every group, active ones first, for the commissioners' list.
pub fn list_all(conn: &mut DbConn) -> QueryResult<Vec<Group>> {
    groups::table.order((groups::active.desc(), groups::name.asc())).limit(500).load(conn)
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Group>> {
    groups::table.filter(groups::slug.eq(slug)).first(conn).optional()
}

pub fn find_active_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Group>> {
    groups::table.filter(groups::slug.eq(slug)).filter(groups::active.eq(true)).first(conn).optional()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Group>> {
    groups::table.find(id).first(conn).optional()
}

/// Every group by name (assignments).
pub fn list_by_name(conn: &mut DbConn) -> QueryResult<Vec<Group>> {
    groups::table.order(groups::name.asc()).limit(500).load(conn)
}
