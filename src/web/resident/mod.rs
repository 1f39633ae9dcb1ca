//! The resident's pages.

pub mod applications;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    applications::configure(cfg);
}
