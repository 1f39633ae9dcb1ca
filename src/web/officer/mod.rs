//! The officer's pages, under `/officer`: the review of applications (`review.rs`), the
//! memberships of their groups (`memberships.rs`) and the police station's desk (`desk.rs`).

pub mod desk;
pub mod memberships;
pub mod review;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    review::configure(cfg);
    desk::configure(cfg);
    memberships::configure(cfg);
}
