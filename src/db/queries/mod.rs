//! The queries services share, per table family: guarded status changes, officer scope
//! filters, lookups. A query used by one service only stays in that service.

pub mod groups;
