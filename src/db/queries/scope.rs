//! Who may see what, in the query itself: an officer reaches the groups they are assigned
//! to, a commissioner every group. Outside that scope a record does not exist for them.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::officer_assignments;
use crate::domain::{GroupId, Role, UserId};

pub type AssignedGroups = diesel::dsl::Filter<
    diesel::dsl::Select<officer_assignments::table, officer_assignments::group_id>,
    diesel::dsl::Eq<officer_assignments::officer_id, String>,
>;

/// The ids of the groups an officer is assigned to, as a subquery for `eq_any`.
pub fn assigned_groups(officer_id: &UserId) -> AssignedGroups {
    officer_assignments::table
        .select(officer_assignments::group_id)
        .filter(officer_assignments::officer_id.eq(officer_id.to_string()))
}

/// Whether a staff member reaches `group_id`: commissioners every group, officers the
/// groups assigned to them, residents none.
pub fn reaches_group(conn: &mut DbConn, role: Role, user_id: &UserId, group_id: &GroupId) -> QueryResult<bool> {
    match role {
        Role::Commissioner => Ok(true),
        Role::Officer => {
            let n: i64 = officer_assignments::table
                .filter(officer_assignments::officer_id.eq(user_id))
                .filter(officer_assignments::group_id.eq(group_id))
                .count()
                .get_result(conn)?;
            Ok(n > 0)
        }
        Role::Resident => Ok(false),
    }
}
