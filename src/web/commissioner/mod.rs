//! The commissioner's pages, under `/commissioner`: the dashboard, the audit log, the
//! read-only records, the membership search, the CSV exports, groups and staff.
//! Commissioners only; each handler parses its query, calls one service and renders or
//! redirects.

pub mod audit;
pub mod dashboard;
pub mod duplicates;
pub mod exports;
pub mod groups;
pub mod memberships;
pub mod records;
pub mod staff;

use actix_web::HttpResponse;
use actix_web::web;
use serde::Deserialize;

use crate::app::AppState;
use crate::audit::Actor;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::web::cookies;
use crate::web::extract::Commissioner;
use crate::web::page::see_other;

pub fn configure(cfg: &mut web::ServiceConfig) {
    dashboard::configure(cfg);
    duplicates::configure(cfg);
    audit::configure(cfg);
    records::configure(cfg);
    memberships::configure(cfg);
    exports::configure(cfg);
    groups::configure(cfg);
    staff::configure(cfg);
}

/// The commissioner as the audit log names them.
fn actor(user: &Commissioner) -> Actor {
    Actor::user(&user.user_id, Role::Commissioner, user.ip.as_deref())
}

/// A 303 to `to` with a flash message.
fn flash(state: &AppState, to: &str, key: &str) -> AppResult<HttpResponse> {
    let mut res = see_other(to);
    res.add_cookie(&cookies::flash(&state.settings, key)).map_err(AppError::internal)?;
    Ok(res)
}

/// `?days=`: the dashboard's period and the decisions export's span.
#[derive(Deserialize)]
struct PeriodQuery {
    days: Option<String>,
}

/// `?before=`: the audit entries' page, by sequence number.
fn parse_before(raw: &Option<String>) -> Option<i64> {
    raw.as_deref().and_then(|b| b.trim().parse::<i64>().ok()).filter(|b| *b > 0)
}
