//! The officer's pages, under `/officer`: the review of applications (`review.rs`) and the
//! memberships of their groups (`memberships.rs`).

pub mod memberships;
pub mod review;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    review::configure(cfg);
    memberships::configure(cfg);
}
