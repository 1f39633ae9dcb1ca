//! One module per capability. Each public function is one user action or one page's read:
//! it takes the `AppState` (or a transaction), owns its transaction, and writes the change,
//! its audit entry and its mails together. Services know nothing of HTTP.

pub mod accounts;
pub mod analysis;
pub mod applications;
pub mod backup;
pub mod desk;
pub mod groups;
pub mod key_rotation;
pub mod memberships;
pub mod notices;
pub mod oversight;
pub mod privacy;
pub mod retention;
pub mod review;
pub mod staff;
