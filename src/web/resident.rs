//! The resident's pages.

use actix_web::web::{self, Data};
use actix_web::{HttpResponse, get};
use askama::Template;

use crate::auth::Resident;
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

#[derive(Template)]
#[template(path = "resident/me.html")]
struct HomePage {
    ctx: PageContext,
}

#[get("/me")]
async fn home(_state: Data<AppState>, ctx: PageContext, _user: Resident) -> AppResult<HttpResponse> {
    ok(&HomePage { ctx })
}
