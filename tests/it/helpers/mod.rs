//! What the tests share. Every test module imports it all with `use crate::helpers::*;`.
//!
//! - `app`: `TestApp` (a running server on a fresh database) and `TestDb`, and the HTTP
//!   plumbing: forms with their CSRF token, links in mails, cookies, redirects.
//! - `files`: the files residents upload and the multipart forms that carry them.
//! - `world`: the world builder: groups, people, applications and officers' decisions.
//! - `rows`: rows read back from the database to check what the routes stored.
//! - `cli`: the `vecinal` binary, run against a test database.
//! - `raw`: HTTP/1.1 written by hand on a TCP socket, and the server's open connections.

mod app;
mod cli;
mod files;
mod raw;
mod rows;
mod world;

pub use app::*;
pub use cli::*;
pub use files::*;
pub use raw::*;
pub use rows::*;
pub use world::*;
