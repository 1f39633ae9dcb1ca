//! The commissioner's read-only records: one application, one person, each with its audit
//! entries; every opening is audited.

use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpResponse, get};
use askama::Template;
use serde::Deserialize;

use super::{actor, parse_before};
use crate::app::AppState;
use crate::db::models::{ApplicationEvent, Document};
use crate::domain::application::{Dni, Status};
use crate::domain::{ApplicationId, UserId};
use crate::error::AppResult;
use crate::services::oversight::log::AuditPage;
use crate::services::oversight::records::{self, ApplicationRecord, PersonRecord};
use crate::services::review::Review;
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};
use crate::web::readings::ReadingsView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(application).service(person);
}

#[derive(Deserialize)]
struct BeforeQuery {
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "commissioner/application.html")]
struct ApplicationPage {
    ctx: PageContext,
    r: ApplicationRecord,
    log: AuditPage,
    status: Status,
}

impl ReadingsView for ApplicationPage {
    fn page_ctx(&self) -> &PageContext {
        &self.ctx
    }

    fn review(&self) -> &Review {
        &self.r.review
    }

    fn record_prefix(&self) -> &'static str {
        "/commissioner/applications/"
    }
}

impl ApplicationPage {
    /// A current document (replaced ones are listed apart, without their readings).
    fn is_current(&self, d: &Document) -> bool {
        d.replaced_at.is_none()
    }

    fn dni(&self) -> String {
        Dni::formatted(&self.r.review.application.dni)
    }

    fn short_id(&self) -> String {
        self.r.review.application.id.chars().take(8).collect()
    }

    fn viewable(&self, d: &Document) -> bool {
        d.purged_at.is_none()
    }

    fn actor<'a>(&self, name: &'a Option<String>) -> &'a str {
        name.as_deref().unwrap_or("")
    }

    fn internal(&self, e: &ApplicationEvent) -> bool {
        e.internal
    }

    fn next_link(&self, before: &i64) -> String {
        format!("/commissioner/applications/{}?before={before}", self.r.review.application.id)
    }
}

#[get("/commissioner/applications/{id}")]
async fn application(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    id: Path<ApplicationId>,
    q: Query<BeforeQuery>,
) -> AppResult<HttpResponse> {
    let mut r =
        records::open_application(&state, actor(&user), ctx.locale, id.into_inner(), parse_before(&q.before)).await?;
    let log = std::mem::replace(&mut r.log, AuditPage { lines: Vec::new(), next_before: None });
    let status = r.review.application.status;
    ok(&ApplicationPage { ctx, r, log, status })
}

#[derive(Template)]
#[template(path = "commissioner/person.html")]
struct PersonPage {
    ctx: PageContext,
    p: PersonRecord,
    log: AuditPage,
}

impl PersonPage {
    fn next_link(&self, before: &i64) -> String {
        format!("/commissioner/people/{}?before={before}", self.p.user.id)
    }

    /// The name of the officer who took one of the person's applications at the desk.
    fn desk_taker(&self, id: &UserId) -> String {
        self.p.desk_takers.iter().find(|(t, _)| t == id).map(|(_, n)| n.clone()).unwrap_or_else(|| id.to_string())
    }

    fn by_actor_link(&self) -> String {
        format!("/commissioner/audit?actor={}", self.p.user.id)
    }
}

#[get("/commissioner/people/{user_id}")]
async fn person(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    id: Path<UserId>,
    q: Query<BeforeQuery>,
) -> AppResult<HttpResponse> {
    let mut p =
        records::open_person(&state, actor(&user), ctx.locale, id.into_inner(), parse_before(&q.before)).await?;
    let log = std::mem::replace(&mut p.log, AuditPage { lines: Vec::new(), next_before: None });
    ok(&PersonPage { ctx, p, log })
}
