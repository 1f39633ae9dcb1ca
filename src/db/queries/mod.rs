//! The queries services share, per table family: the guarded status change of applications,
//! the officer scope filter, group lookups. A query used by one service only stays in it.

pub mod applications;
pub mod groups;
pub mod scope;
