//! HTTP: routes per audience. Handlers parse and authorize, call one service function and
//! render or redirect; the rules live in `domain` and the services.

pub mod account;
pub mod assets;
pub mod body;
pub mod commissioner;
pub mod context;
pub mod cookies;
pub mod errors;
pub mod extract;
pub mod forms;
pub mod groups;
pub mod head;
pub mod memberships;
pub mod officer;
pub mod oversight;
pub mod page;
pub mod privacy;
pub mod public;
pub mod resident;
pub mod security;
pub mod staff;
pub mod upload;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    public::configure(cfg);
    account::configure(cfg);
    resident::configure(cfg);
    officer::configure(cfg);
    commissioner::configure(cfg);
    oversight::configure(cfg);
    groups::configure(cfg);
    staff::configure(cfg);
    memberships::configure(cfg);
}
