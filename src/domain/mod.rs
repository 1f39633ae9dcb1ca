//! Pure rules and value types: no I/O, no clocks, no database. Everything past a handler
//! holds values that were parsed here, so it never sees an invalid email or role.

pub mod account;
pub mod application;
pub mod chart;
pub mod claim_code;
pub mod day;
pub mod export;
pub mod group;
pub mod ids;
pub mod locale;
pub mod membership;
pub mod notice;
pub mod password;
pub mod retention;
pub mod role;
pub mod sensitive;
pub mod session;
pub mod stats;
pub mod throttle;
pub mod token;
pub mod zone;

pub use account::{Email, PersonName};
pub use day::Day;
pub use ids::{ApplicationId, DocumentId, GroupId, MembershipId, UserId};
pub use locale::Locale;
pub use password::{Password, PasswordProblem};
pub use role::Role;
pub use sensitive::Sensitive;
pub use zone::Zone;

/// Serialises a value type as the same text it is stored as (audit details, JSON exports).
macro_rules! serialize_as_str {
    ($($ty:ty),+ $(,)?) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )+};
}

serialize_as_str!(application::Status, membership::MembershipStatus, notice::NoticeKind, Role, Locale);
