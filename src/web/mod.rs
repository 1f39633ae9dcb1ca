//! HTTP: routes per audience. Handlers parse and authorize, call one service function and
//! render or redirect; the rules live in `domain` and the services.

pub mod account;
pub mod assets;
pub mod auth;
pub mod commissioner;
pub mod context;
pub mod cookies;
pub mod errors;
pub mod extract;
pub mod forms;
pub mod officer;
pub mod page;
pub mod public;
pub mod resident;
pub mod security;
pub mod upload;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    public::configure(cfg);
    auth::configure(cfg);
    account::configure(cfg);
    resident::configure(cfg);
    officer::configure(cfg);
    commissioner::configure(cfg);
}
