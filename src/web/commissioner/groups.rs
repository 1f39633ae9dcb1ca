//! Group management for commissioners: list, create, edit, open and close groups.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Form, Path};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use super::{actor, flash};
use crate::app::AppState;
use crate::db::models::Group;
use crate::domain::group::{
    DEFAULT_CERTIFICATE_MAX_AGE_DAYS, DEFAULT_VALIDITY_DAYS, GroupProblem, GroupSettings, GroupSlug, RawGroup,
};
use crate::error::{AppError, AppResult};
use crate::services::groups::{self, SaveOutcome};
use crate::tk;
use crate::web::extract::Commissioner;
use crate::web::forms::FormErrors;
use crate::web::page::{PageContext, ok, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `new` before `{slug}`: the first matching route wins (and `new` is a reserved slug).
    cfg.service(list)
        .service(new_form)
        .service(create)
        .service(edit_form)
        .service(update)
        .service(deactivate)
        .service(activate);
}

const LIST: &str = "/commissioner/groups";

/// A slug from the path; one that could not exist looks like one that does not.
fn path_slug(raw: &str) -> AppResult<GroupSlug> {
    GroupSlug::parse(raw).filter(|s| s.as_str() == raw).ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "commissioner/groups/list.html")]
struct ListPage {
    ctx: PageContext,
    groups: Vec<Group>,
}

#[get("/commissioner/groups")]
async fn list(_user: Commissioner, state: Data<AppState>, ctx: PageContext) -> AppResult<HttpResponse> {
    let groups = groups::list_all(&state).await?;
    ok(&ListPage { ctx, groups })
}

/// The form's fields as typed. Missing fields are empty, so they get a message rather than
/// a bare 400; a checkbox is sent only when ticked.
#[derive(Deserialize, Default)]
#[serde(default)]
struct GroupForm {
    name: String,
    slug: String,
    description: String,
    area: String,
    invite_link: String,
    validity_days: String,
    certificate_max_age_days: String,
    two_approvals: Option<String>,
}

impl GroupForm {
    fn from_group(g: &Group) -> Self {
        Self {
            name: g.name.clone(),
            slug: g.slug.clone(),
            description: g.description.clone(),
            area: g.area.clone(),
            invite_link: g.invite_link.clone(),
            validity_days: g.validity_days.to_string(),
            certificate_max_age_days: g.certificate_max_age_days.to_string(),
            two_approvals: g.two_approvals.then(|| "on".into()),
        }
    }

    fn parse(&self) -> Result<GroupSettings, FormErrors> {
        GroupSettings::parse(&RawGroup {
            name: &self.name,
            slug: &self.slug,
            description: &self.description,
            area: &self.area,
            invite_link: &self.invite_link,
            validity_days: &self.validity_days,
            certificate_max_age_days: &self.certificate_max_age_days,
            two_approvals: self.two_approvals.is_some(),
        })
        .map_err(|problems| {
            let mut errors = FormErrors::default();
            for p in problems {
                let (field, key) = match p {
                    GroupProblem::Name => ("name", tk!("groups.error.name")),
                    GroupProblem::Slug => ("slug", tk!("groups.error.slug")),
                    GroupProblem::SlugReserved => ("slug", tk!("groups.error.slug_reserved")),
                    GroupProblem::Description => ("description", tk!("groups.error.description")),
                    GroupProblem::Area => ("area", tk!("groups.error.area")),
                    GroupProblem::InviteLink => ("invite_link", tk!("groups.error.invite_link")),
                    GroupProblem::ValidityDays => ("validity_days", tk!("groups.error.validity_days")),
                    GroupProblem::CertificateMaxAgeDays => {
                        ("certificate_max_age_days", tk!("groups.error.certificate_max_age_days"))
                    }
                };
                errors.add(field, key);
            }
            errors
        })
    }
}

#[derive(Template)]
#[template(path = "commissioner/groups/form.html")]
struct FormPage {
    ctx: PageContext,
    /// Where the form posts: the list for a new group, the group's current slug for an edit
    /// (which stays the target while the slug field is being changed).
    action: String,
    is_new: bool,
    form: GroupForm,
    errors: FormErrors,
}

impl FormPage {
    fn two_approvals(&self) -> bool {
        self.form.two_approvals.is_some()
    }
}

fn invalid(
    ctx: PageContext,
    action: String,
    is_new: bool,
    form: GroupForm,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    render(StatusCode::UNPROCESSABLE_ENTITY, &FormPage { ctx, action, is_new, form, errors })
}

fn slug_taken() -> FormErrors {
    let mut errors = FormErrors::default();
    errors.add("slug", tk!("groups.error.slug_taken"));
    errors
}

#[get("/commissioner/groups/new")]
async fn new_form(_user: Commissioner, ctx: PageContext) -> AppResult<HttpResponse> {
    let form = GroupForm {
        validity_days: DEFAULT_VALIDITY_DAYS.to_string(),
        certificate_max_age_days: DEFAULT_CERTIFICATE_MAX_AGE_DAYS.to_string(),
        ..GroupForm::default()
    };
    ok(&FormPage { ctx, action: LIST.into(), is_new: true, form, errors: FormErrors::default() })
}

#[post("/commissioner/groups")]
async fn create(
    user: Commissioner,
    state: Data<AppState>,
    ctx: PageContext,
    form: Form<GroupForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let settings = match form.parse() {
        Ok(s) => s,
        Err(errors) => return invalid(ctx, LIST.into(), true, form, errors),
    };
    match groups::create(&state, settings, actor(&user)).await? {
        SaveOutcome::Saved { .. } => flash(&state, LIST, "group_created"),
        SaveOutcome::SlugTaken => invalid(ctx, LIST.into(), true, form, slug_taken()),
    }
}

#[get("/commissioner/groups/{slug}")]
async fn edit_form(
    _user: Commissioner,
    state: Data<AppState>,
    ctx: PageContext,
    slug: Path<String>,
) -> AppResult<HttpResponse> {
    let slug = path_slug(&slug)?;
    let group = groups::find(&state, slug).await?;
    let action = format!("{LIST}/{}", group.slug);
    ok(&FormPage { ctx, action, is_new: false, form: GroupForm::from_group(&group), errors: FormErrors::default() })
}

#[post("/commissioner/groups/{slug}")]
async fn update(
    user: Commissioner,
    state: Data<AppState>,
    ctx: PageContext,
    slug: Path<String>,
    form: Form<GroupForm>,
) -> AppResult<HttpResponse> {
    let slug = path_slug(&slug)?;
    let action = format!("{LIST}/{slug}");
    let form = form.into_inner();
    let settings = match form.parse() {
        Ok(s) => s,
        Err(errors) => return invalid(ctx, action, false, form, errors),
    };
    match groups::update(&state, slug, settings, actor(&user)).await? {
        SaveOutcome::Saved { .. } => flash(&state, LIST, "group_updated"),
        SaveOutcome::SlugTaken => invalid(ctx, action, false, form, slug_taken()),
    }
}

#[post("/commissioner/groups/{slug}/deactivate")]
async fn deactivate(user: Commissioner, state: Data<AppState>, slug: Path<String>) -> AppResult<HttpResponse> {
    groups::set_active(&state, path_slug(&slug)?, false, actor(&user)).await?;
    flash(&state, LIST, "group_deactivated")
}

#[post("/commissioner/groups/{slug}/activate")]
async fn activate(user: Commissioner, state: Data<AppState>, slug: Path<String>) -> AppResult<HttpResponse> {
    groups::set_active(&state, path_slug(&slug)?, true, actor(&user)).await?;
    flash(&state, LIST, "group_activated")
}
