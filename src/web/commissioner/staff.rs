//! Staff management for commissioners: the list, invitations, group assignments,
//! deactivation. The invitation link new staff open is in `web/auth.rs`.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path};
use actix_web::{HttpResponse, get, post};
use askama::Template;

use super::{actor, flash};
use crate::app::AppState;
use crate::db::models::Group;
use crate::domain::Role;
use crate::domain::{GroupId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::staff::{self, ActiveOutcome, Invitation, InviteOutcome, StaffMember};
use crate::web::auth::{parse_email, parse_name};
use crate::web::extract::Commissioner;
use crate::web::forms::{FormErrors, Pairs};
use crate::web::page::{PageContext, ok, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(invite).service(edit).service(save_groups).service(deactivate).service(activate);
}

#[derive(Template)]
#[template(path = "commissioner/staff.html")]
struct ListPage {
    ctx: PageContext,
    staff: Vec<StaffMember>,
    groups: Vec<Group>,
    full_name: String,
    email: String,
    role: String,
    chosen: Vec<String>,
    errors: FormErrors,
}

impl ListPage {
    fn chose(&self, id: &str) -> bool {
        self.chosen.iter().any(|c| c == id)
    }
}

async fn all_groups(state: &AppState) -> AppResult<Vec<Group>> {
    staff::assignable_groups(state).await
}

async fn list_page(state: &AppState, ctx: PageContext) -> AppResult<ListPage> {
    let staff = staff::list_all(state).await?;
    Ok(ListPage {
        ctx,
        staff,
        groups: all_groups(state).await?,
        full_name: String::new(),
        email: String::new(),
        role: "officer".into(),
        chosen: Vec::new(),
        errors: FormErrors::default(),
    })
}

#[get("/commissioner/staff")]
async fn list(state: Data<AppState>, ctx: PageContext, _user: Commissioner) -> AppResult<HttpResponse> {
    ok(&list_page(&state, ctx).await?)
}

#[post("/commissioner/staff")]
async fn invite(state: Data<AppState>, ctx: PageContext, user: Commissioner, form: Pairs) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let full_name = parse_name(form.get("full_name"), &mut errors);
    let email = parse_email(form.get("email"), &mut errors);
    let role = match form.get("role") {
        "officer" => Some(Role::Officer),
        "commissioner" => Some(Role::Commissioner),
        _ => {
            errors.add("role", "staff.error.role");
            None
        }
    };
    let group_ids: Vec<GroupId> = form.all("groups").into_iter().filter_map(GroupId::parse).collect();
    if role == Some(Role::Officer) && group_ids.is_empty() {
        errors.add("groups", "staff.error.groups");
    }
    let mut page = list_page(&state, ctx.clone()).await?;
    page.full_name = form.get("full_name").to_string();
    page.email = form.get("email").to_string();
    page.role = form.get("role").to_string();
    page.chosen = group_ids.iter().map(|g| g.to_string()).collect();
    let (Some(full_name), Some(email), Some(role)) = (full_name, email, role) else {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if !errors.is_empty() {
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let inv = Invitation { full_name, email, role, group_ids, locale: ctx.locale };
    match staff::invite(&state, actor(&user), inv).await? {
        InviteOutcome::Invited { .. } => flash(&state, "/commissioner/staff", "staff_invited"),
        InviteOutcome::EmailTaken => {
            page.errors.add("email", "form.email.taken");
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "commissioner/staff_edit.html")]
struct EditPage {
    ctx: PageContext,
    member: StaffMember,
    groups: Vec<Group>,
    is_me: bool,
}

impl EditPage {
    fn assigned(&self, id: &str) -> bool {
        self.member.groups.iter().any(|g| g.id == id)
    }

    fn is_officer(&self) -> bool {
        self.member.user.role == crate::domain::Role::Officer
    }

    fn invited(&self) -> bool {
        self.member.user.password_hash.is_none()
    }
}

#[get("/commissioner/staff/{id}")]
async fn edit(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let is_me = id == user.user_id;
    let member = staff::member(&state, id).await?;
    ok(&EditPage { ctx, member, groups: all_groups(&state).await?, is_me })
}

#[post("/commissioner/staff/{id}/groups")]
async fn save_groups(
    state: Data<AppState>,
    user: Commissioner,
    id: Path<UserId>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let groups = form.all("groups").into_iter().filter_map(GroupId::parse).collect();
    staff::set_groups(&state, actor(&user), id.clone(), groups).await?;
    flash(&state, &format!("/commissioner/staff/{id}"), "staff_groups_saved")
}

#[post("/commissioner/staff/{id}/deactivate")]
async fn deactivate(state: Data<AppState>, user: Commissioner, id: Path<UserId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    match staff::set_active(&state, actor(&user), id.clone(), false).await? {
        ActiveOutcome::Done => flash(&state, &format!("/commissioner/staff/{id}"), "staff_deactivated"),
        ActiveOutcome::NotYourself => Err(AppError::Conflict),
    }
}

#[post("/commissioner/staff/{id}/activate")]
async fn activate(state: Data<AppState>, user: Commissioner, id: Path<UserId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    staff::set_active(&state, actor(&user), id.clone(), true).await?;
    flash(&state, &format!("/commissioner/staff/{id}"), "staff_activated")
}
