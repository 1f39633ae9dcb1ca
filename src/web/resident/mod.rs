//! The resident's pages: the home page (`/me`), applying and following applications
//! (`applications.rs`); the membership card and its renewal (`memberships.rs`).

pub mod applications;
pub mod memberships;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    applications::configure(cfg);
    memberships::configure(cfg);
}
