//! The commissioner's CSV exports: the membership search's selection and the decisions of a
//! period; each export is audited.

use actix_web::http::header;
use actix_web::web::{self, Data, Query};
use actix_web::{HttpResponse, get};

use super::memberships::MembershipQuery;
use super::{PeriodQuery, actor};
use crate::app::AppState;
use crate::domain::day::parse_day_count;
use crate::domain::export::DECISIONS_EXPORT_DAYS;
use crate::domain::stats::Period;
use crate::error::AppResult;
use crate::services::oversight::exports::{self, Csv};
use crate::web::extract::Commissioner;
use crate::web::page::PageContext;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(memberships_csv).service(decisions_csv);
}

fn csv_response(csv: Csv, file_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .insert_header(("X-Export-Rows", csv.rows.to_string()))
        .insert_header(("X-Export-Truncated", csv.truncated.to_string()))
        .body(csv.bytes)
}

#[get("/commissioner/memberships.csv")]
async fn memberships_csv(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    q: Query<MembershipQuery>,
) -> AppResult<HttpResponse> {
    let csv = exports::memberships(&state, actor(&user), ctx.locale, q.filter()).await?;
    Ok(csv_response(csv, &exports::file_name(ctx.locale, "oversight.csv.file_memberships", state.today())))
}

/// `?days=N`: any period of 1 to 3660 days, 30 by default.
#[get("/commissioner/decisions.csv")]
async fn decisions_csv(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    q: Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let days = parse_day_count(q.days.as_deref(), DECISIONS_EXPORT_DAYS).unwrap_or(Period::default().days());
    let csv = exports::decisions(&state, actor(&user), ctx.locale, days).await?;
    Ok(csv_response(csv, &exports::file_name(ctx.locale, "oversight.csv.file_decisions", state.today())))
}
