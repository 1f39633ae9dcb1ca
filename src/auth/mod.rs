//! Who is asking: passwords, sessions, CSRF tokens, sign-in throttling.

pub mod csrf;
pub mod password;
pub mod session;
pub mod throttle;
