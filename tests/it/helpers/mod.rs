//! What the tests share. Every test module imports it all with `use crate::helpers::*;`.
//!
//! - `app`: `TestApp` (a running server on a fresh database) and `TestDb`, and the HTTP
//!   plumbing: forms with their CSRF token, links in mails, cookies, redirects.
//! - `files`: the files residents upload and the multipart forms that carry them.

mod app;
mod files;

pub use app::*;
pub use files::*;
