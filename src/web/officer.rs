//! The officer's pages.

use actix_web::web;
use actix_web::{HttpResponse, get};
use askama::Template;

use crate::auth::Officer;
use crate::error::AppResult;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

#[derive(Template)]
#[template(path = "officer/home.html")]
struct HomePage {
    ctx: PageContext,
}

#[get("/officer")]
async fn home(ctx: PageContext, _user: Officer) -> AppResult<HttpResponse> {
    ok(&HomePage { ctx })
}
