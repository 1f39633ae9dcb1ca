//! The officer's pages, under `/officer`.

pub mod review;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    review::configure(cfg);
}
