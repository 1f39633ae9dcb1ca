//! The dashboard's desk and online figures for a period: per group, the applications
//! received online and taken at the police station's desk; per officer and group, the desk
//! applications they took and the approvals and rejections they decided of each kind. Read
//! from the summary rows of `db::channel_counts` only.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::channel_counts;
use crate::db::schema::users;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChannels {
    pub group_id: String,
    pub name: String,
    pub online: i64,
    pub desk: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficerChannels {
    pub officer_id: String,
    pub name: String,
    pub group_name: String,
    /// Desk applications this officer took.
    pub taken: i64,
    /// Approvals and rejections this officer decided on desk applications.
    pub decided_desk: i64,
    /// The same for online applications.
    pub decided_online: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelFigures {
    pub groups: Vec<GroupChannels>,
    pub officers: Vec<OfficerChannels>,
}

/// The figures from day `from` on, for the groups the dashboard shows (`(id, name)`, in
/// its order).
pub fn figures(conn: &mut DbConn, from: NaiveDate, groups: &[(String, String)]) -> QueryResult<ChannelFigures> {
    let rows = channel_counts::since(conn, from)?;
    let group_name = |id: &str| groups.iter().find(|(g, _)| g == id).map(|(_, n)| n.clone());
    let per_group = groups
        .iter()
        .map(|(id, name)| {
            let mine = rows.iter().filter(|r| &r.group_id == id);
            let (online, desk) = mine.fold((0, 0), |(o, d), r| (o + r.received_online, d + r.received_desk));
            GroupChannels { group_id: id.clone(), name: name.clone(), online, desk }
        })
        .collect();
    let staff: Vec<_> = rows
        .iter()
        .filter(|r| !r.officer_id.is_empty() && r.received_desk + r.decided_desk + r.decided_online > 0)
        .collect();
    let ids: Vec<&str> = staff.iter().map(|r| r.officer_id.as_str()).collect();
    let names: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::full_name))
            .load(conn)?
            .into_iter()
            .collect()
    };
    let mut officers: Vec<OfficerChannels> = staff
        .into_iter()
        .filter_map(|r| {
            Some(OfficerChannels {
                group_name: group_name(&r.group_id)?,
                name: names.get(&r.officer_id).cloned().unwrap_or_default(),
                officer_id: r.officer_id.clone(),
                taken: r.received_desk,
                decided_desk: r.decided_desk,
                decided_online: r.decided_online,
            })
        })
        .collect();
    officers.sort_by(|a, b| (&a.group_name, &a.name, &a.officer_id).cmp(&(&b.group_name, &b.name, &b.officer_id)));
    Ok(ChannelFigures { groups: per_group, officers })
}
