//! Who is asking: passwords, sessions, CSRF tokens, sign-in throttling and the role
//! extractors handlers declare in their signatures.

pub mod csrf;
pub mod extract;
pub mod password;
pub mod session;
pub mod throttle;

pub use extract::{Commissioner, CurrentUser, Officer, Resident, SignedIn, StaffUser};
