//! The commissioner's pages, under `/commissioner`.

pub mod audit;
pub mod groups;
pub mod staff;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    audit::configure(cfg);
    groups::configure(cfg);
    staff::configure(cfg);
}
