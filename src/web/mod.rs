//! HTTP: routes per audience. Handlers parse and authorize, call one service function and
//! render or redirect; the rules live in `domain` and the services.
//!
//! The route modules follow `templates/`: `public` (landing, privacy notice, setup link,
//! health checks, membership verification), `auth` (registration, sign-in, password reset,
//! staff invitation), `claim` (claiming an account made at the police station's desk), `account` (any signed-in user), `resident`, `officer` and
//! `commissioner`. Code two audiences share lives in one of their modules and the other
//! calls it: the staff's membership pages in `officer`, the name, e-mail and password
//! fields and the sign-in responses in `auth`. The rest is the middleware and helpers every
//! page uses.

pub mod account;
pub mod assets;
pub mod auth;
pub mod body;
pub mod claim;
pub mod commissioner;
pub mod context;
pub mod cookies;
pub mod errors;
pub mod extract;
pub mod forms;
pub mod head;
pub mod officer;
pub mod page;
pub mod public;
pub mod readings;
pub mod resident;
pub mod security;
pub mod upload;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    public::configure(cfg);
    auth::configure(cfg);
    claim::configure(cfg);
    account::configure(cfg);
    resident::configure(cfg);
    officer::configure(cfg);
    commissioner::configure(cfg);
}
