//! The staff's membership pages, under `/officer`: the members of their groups, one
//! membership and its status changes, and the list of people to take out of the chat
//! groups. Commissioners use the list and the membership page too (all groups); their own
//! routes for the status changes and the removal list, in `commissioner/memberships.rs`,
//! call the same code.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::{Group, Membership, User};
use crate::domain::MembershipId;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::services::desk;
use crate::services::memberships::{self, Removal, Staff, StatusChange};
use crate::web::cookies;
use crate::web::extract::StaffUser;
use crate::web::forms::{FormErrors, Pairs};
use crate::web::page::{PageContext, ok, render, see_other};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(staff_list)
        .service(staff_view)
        .service(officer_change)
        .service(officer_removals)
        .service(officer_removed);
}

fn flash(state: &AppState, to: &str, key: &str) -> AppResult<HttpResponse> {
    let mut res = see_other(to);
    res.add_cookie(&cookies::flash(&state.settings, key)).map_err(AppError::internal)?;
    Ok(res)
}

pub(crate) fn staff_of(user: &StaffUser) -> Staff {
    Staff { user_id: user.user_id.clone(), role: user.role, ip: user.ip.clone() }
}

/// Where a staff member's pages live: officers under /officer, commissioners under
/// /commissioner.
fn base(role: Role) -> &'static str {
    if role == Role::Commissioner { "/commissioner" } else { "/officer" }
}

#[derive(Template)]
#[template(path = "officer/memberships.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<(Membership, String, String)>,
    q: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[get("/officer/memberships")]
async fn staff_list(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    query: Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let staff = staff_of(&user);
    let q = query.q.clone().unwrap_or_default();
    let (q2, after) = (q.clone(), query.after.clone());
    let rows = memberships::staff_list(state.get_ref(), staff, q2, after).await?;
    let next = (rows.len() == 50).then(|| rows.last().map(|(m, _, _)| m.number.clone())).flatten();
    ok(&ListPage { ctx, rows, q, next })
}

#[derive(Template)]
#[template(path = "officer/membership.html")]
struct StaffPage {
    ctx: PageContext,
    m: Membership,
    group: Group,
    member: User,
    base: &'static str,
    errors: FormErrors,
    /// An officer may take this member's renewal at the desk (they cannot renew online).
    desk_renewal: bool,
}

async fn staff_page(
    state: &AppState,
    ctx: PageContext,
    user: &StaffUser,
    id: MembershipId,
    errors: FormErrors,
) -> AppResult<StaffPage> {
    let staff = staff_of(user);
    let (m, group, member) = memberships::staff_view(state, id, staff).await?;
    let today = state.today();
    let desk_renewal = user.role == Role::Officer && desk::renewable_at_desk(&member, &m, &group, today);
    Ok(StaffPage { ctx, m, group, member, base: base(user.role), errors, desk_renewal })
}

#[get("/officer/memberships/{id}")]
async fn staff_view(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    id: Path<MembershipId>,
) -> AppResult<HttpResponse> {
    ok(&staff_page(&state, ctx, &user, id.into_inner(), FormErrors::default()).await?)
}

pub(crate) async fn change(
    state: &AppState,
    ctx: PageContext,
    user: StaffUser,
    id: MembershipId,
    action: &str,
    form: &Pairs,
) -> AppResult<HttpResponse> {
    let change = StatusChange::parse(action).ok_or(AppError::NotFound)?;
    let reason = form.get("reason").trim().to_string();
    if change.needs_reason() && (reason.is_empty() || reason.chars().count() > 500) {
        let mut errors = FormErrors::default();
        errors.add("reason", "membership.error.reason");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &staff_page(state, ctx, &user, id, errors).await?);
    }
    let reason = (!reason.is_empty()).then_some(reason);
    memberships::change_status(state, staff_of(&user), id.clone(), change, reason).await?;
    flash(state, &format!("/officer/memberships/{id}"), &format!("membership_{action}"))
}

#[post("/officer/memberships/{id}/{action}")]
async fn officer_change(
    state: Data<AppState>,
    ctx: PageContext,
    user: StaffUser,
    path: Path<(MembershipId, String)>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    change(&state, ctx, user, id, &action, &form).await
}

#[derive(Template)]
#[template(path = "officer/removals.html")]
struct RemovalsPage {
    ctx: PageContext,
    rows: Vec<Removal>,
    base: &'static str,
}

pub(crate) async fn removals_page(state: &AppState, ctx: PageContext, user: StaffUser) -> AppResult<HttpResponse> {
    let staff = staff_of(&user);
    let rows = memberships::removal_list(state, staff).await?;
    ok(&RemovalsPage { ctx, rows, base: base(user.role) })
}

#[get("/officer/removals")]
async fn officer_removals(
    state: Data<AppState>,
    ctx: PageContext,
    user: crate::web::extract::Officer,
) -> AppResult<HttpResponse> {
    removals_page(&state, ctx, StaffUser(user.0)).await
}

#[post("/officer/removals/{id}/done")]
async fn officer_removed(
    state: Data<AppState>,
    user: crate::web::extract::Officer,
    id: Path<MembershipId>,
) -> AppResult<HttpResponse> {
    let user = StaffUser(user.0);
    memberships::mark_removed(&state, staff_of(&user), id.into_inner()).await?;
    flash(&state, "/officer/removals", "membership_removed")
}
