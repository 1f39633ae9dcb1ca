//! The officer's pages: the queue of their groups, one application, the decisions.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::models::{ApplicationEvent, Group};
use crate::domain::application::{Dni, DocumentKind, Status};
use crate::domain::{ApplicationId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::analysis::Verdict;
use crate::services::review::{self, Checklist, Cursor, Decision, QueueFilter, QueueRow, Review, Reviewer};
use crate::web::cookies;
use crate::web::extract::Officer;
use crate::web::forms::{FormErrors, Pairs};
use crate::web::page::{PageContext, ok, render, see_other};
use crate::web::readings::ReadingsView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(application).service(act);
}

#[derive(Template)]
#[template(path = "officer/home.html")]
struct HomePage {
    ctx: PageContext,
    groups: Vec<Group>,
    counts: Vec<(String, i64)>,
    rows: Vec<QueueRow>,
    next: Option<String>,
    filter_group: String,
    filter_status: String,
    mine: bool,
    filter_verdict: String,
    sla_days: i64,
    today: chrono::NaiveDateTime,
}

impl HomePage {
    fn count(&self, status: &Status) -> i64 {
        self.counts.iter().find(|(s, _)| s == status.as_str()).map(|(_, n)| *n).unwrap_or(0)
    }

    fn age_days(&self, row: &QueueRow) -> i64 {
        (self.today - row.submitted_at).num_days()
    }

    fn overdue(&self, row: &QueueRow) -> bool {
        self.age_days(row) > self.sla_days
    }

    fn open_statuses(&self) -> [Status; 4] {
        Status::OPEN
    }

    fn verdicts(&self) -> [&'static str; 3] {
        ["match", "mismatch", "unread"]
    }

    /// The next page's link, keeping the filters.
    fn next_link(&self, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !self.filter_group.is_empty() {
            q.append_pair("group", &self.filter_group);
        }
        if !self.filter_status.is_empty() {
            q.append_pair("status", &self.filter_status);
        }
        if self.mine {
            q.append_pair("mine", "1");
        }
        if !self.filter_verdict.is_empty() {
            q.append_pair("dni", &self.filter_verdict);
        }
        q.append_pair("after", cursor);
        format!("/officer?{}", q.finish())
    }
}

#[derive(Deserialize)]
struct QueueQuery {
    group: Option<String>,
    status: Option<String>,
    mine: Option<String>,
    dni: Option<String>,
    after: Option<String>,
}

#[get("/officer")]
async fn home(state: Data<AppState>, ctx: PageContext, user: Officer, q: Query<QueueQuery>) -> AppResult<HttpResponse> {
    let filter = QueueFilter {
        group_id: q.group.clone().filter(|g| !g.is_empty()),
        status: q.status.as_deref().and_then(|s| s.parse().ok()).filter(|s: &Status| s.is_open()),
        claimed_by_me: q.mine.is_some(),
        verdict: q.dni.as_deref().and_then(Verdict::parse),
    };
    let after = q.after.as_deref().and_then(Cursor::decode);
    let home = review::queue_page(&state, user.user_id.clone(), filter.clone(), after).await?;
    ok(&HomePage {
        ctx,
        groups: home.groups,
        counts: home.counts,
        rows: home.page.rows,
        next: home.page.next.map(|c| c.encode()),
        filter_group: filter.group_id.unwrap_or_default(),
        filter_status: filter.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        mine: filter.claimed_by_me,
        filter_verdict: filter.verdict.map(|v| v.as_str().to_string()).unwrap_or_default(),
        sla_days: state.settings.review_sla_days,
        today: state.clock.now(),
    })
}

#[derive(Template)]
#[template(path = "officer/application.html")]
struct ApplicationPage {
    ctx: PageContext,
    r: Review,
    status: Status,
    me: UserId,
    claim_lapsed: bool,
    errors: FormErrors,
    reasons: [&'static str; 7],
    kinds: [DocumentKind; 3],
}

impl ReadingsView for ApplicationPage {
    fn page_ctx(&self) -> &PageContext {
        &self.ctx
    }

    fn review(&self) -> &Review {
        &self.r
    }

    fn record_prefix(&self) -> &'static str {
        "/officer/applications/"
    }
}

impl ApplicationPage {
    fn dni(&self) -> String {
        Dni::formatted(&self.r.application.dni)
    }

    fn claimed_by_me(&self) -> bool {
        self.r.application.claimed_by.as_deref() == Some(self.me.as_str())
    }

    fn can_claim(&self) -> bool {
        self.status == Status::Submitted
            || (self.status == Status::InReview && self.claim_lapsed && !self.claimed_by_me())
    }

    fn deciding(&self) -> bool {
        self.status == Status::InReview && self.claimed_by_me()
    }

    fn can_confirm(&self) -> bool {
        self.status == Status::AwaitingSecond
            && self.r.application.first_approver.as_deref() != Some(self.me.as_str())
            && !self.took_it()
    }

    /// This officer took the application at the desk, so another officer must approve it.
    fn took_it(&self) -> bool {
        self.r.application.taken_by.as_deref() == Some(self.me.as_str())
    }

    fn claimer(&self) -> String {
        let Some(id) = self.r.application.claimed_by.clone() else { return String::new() };
        self.r
            .events
            .iter()
            .rev()
            .find(|(e, _)| e.kind == "claimed" && e.actor_id.as_deref() == Some(id.as_str()))
            .and_then(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    fn actor<'a>(&self, name: &'a Option<String>) -> &'a str {
        name.as_deref().unwrap_or("")
    }

    fn event_is_internal(&self, e: &ApplicationEvent) -> bool {
        e.internal
    }
}

async fn load(
    state: &AppState,
    ctx: PageContext,
    user: &Officer,
    id: ApplicationId,
    errors: FormErrors,
) -> AppResult<ApplicationPage> {
    let r = review::review(state, id, user.user_id.clone()).await?;
    let status: Status = r.application.status;
    let claim_lapsed = review::claim_lapsed(r.application.claimed_at, state.clock.now(), state.settings.claim_hours);
    Ok(ApplicationPage {
        ctx,
        r,
        status,
        me: user.user_id.clone(),
        claim_lapsed,
        errors,
        reasons: review::REJECT_REASONS,
        kinds: DocumentKind::ALL,
    })
}

/// The application with the applicant's data. Opening it is recorded: it shows a
/// person's DNI and address.
#[get("/officer/applications/{id}")]
async fn application(
    state: Data<AppState>,
    ctx: PageContext,
    user: Officer,
    id: Path<ApplicationId>,
) -> AppResult<HttpResponse> {
    let page = load(&state, ctx, &user, id.into_inner(), FormErrors::default()).await?;
    review::record_viewed(&state, page.r.application.id.clone(), reviewer(&user)).await?;
    ok(&page)
}

fn reviewer(user: &Officer) -> Reviewer {
    Reviewer { user_id: user.user_id.clone(), ip: user.ip.clone() }
}

/// Reads a decision from its form, or the messages that say what is missing.
fn parse_decision(action: &str, form: &Pairs) -> Result<Decision, FormErrors> {
    let mut errors = FormErrors::default();
    let decision = match action {
        "claim" => Decision::Claim,
        "release" => Decision::Release,
        "confirm" => Decision::Confirm,
        "approve" => {
            let checklist = Checklist {
                address: form.has("check_address"),
                identity: form.has("check_identity"),
                certificate_date: form.has("check_certificate_date"),
                no_record: form.has("check_no_record"),
            };
            if !checklist.complete() {
                errors.add("checklist", "review.error.checklist");
            }
            Decision::Approve(checklist)
        }
        "reject" => {
            let reason = review::REJECT_REASONS.iter().find(|r| **r == form.get("reason_code")).copied();
            let note = form.get("note").trim().to_string();
            let internal = form.get("internal_note").trim().to_string();
            if reason.is_none() {
                errors.add("reason_code", "review.error.reason");
            }
            if reason == Some("other") && note.is_empty() {
                errors.add("note", "review.error.note_required");
            }
            if note.chars().count() > 2000 || internal.chars().count() > 2000 {
                errors.add("note", "review.error.too_long");
            }
            Decision::Reject {
                reason: reason.unwrap_or("other"),
                note,
                internal_note: (!internal.is_empty()).then_some(internal),
            }
        }
        "request-info" => {
            let message = form.get("message").trim().to_string();
            let kinds: Vec<DocumentKind> = form.all("kinds").into_iter().filter_map(|k| k.parse().ok()).collect();
            if message.is_empty() {
                errors.add("message", "review.error.message_required");
            }
            if message.chars().count() > 2000 {
                errors.add("message", "review.error.too_long");
            }
            if kinds.is_empty() {
                errors.add("kinds", "review.error.kinds_required");
            }
            Decision::RequestInfo { message, kinds }
        }
        _ => return Err(FormErrors::default()),
    };
    if errors.is_empty() { Ok(decision) } else { Err(errors) }
}

#[post("/officer/applications/{id}/{action}")]
async fn act(
    state: Data<AppState>,
    ctx: PageContext,
    user: Officer,
    path: Path<(ApplicationId, String)>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    if !["claim", "release", "approve", "confirm", "reject", "request-info"].contains(&action.as_str()) {
        return Err(AppError::NotFound);
    }
    let version: i32 = form.get("version").trim().parse().map_err(|_| AppError::BadRequest("version"))?;
    let decision = match parse_decision(&action, &form) {
        Ok(d) => d,
        Err(errors) => {
            let page = load(&state, ctx, &user, id, errors).await?;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let reviewer = reviewer(&user);
    let next = review::decide(&state, id.clone(), version, reviewer, decision).await?;
    let to = if next.is_open() && next != Status::NeedsInfo {
        format!("/officer/applications/{id}")
    } else {
        "/officer".to_string()
    };
    let mut res = see_other(&to);
    let flash = match action.as_str() {
        "claim" => "review_claimed",
        "release" => "review_released",
        "approve" | "confirm" if next == Status::Approved => "review_approved",
        "approve" => "review_first_approval",
        "reject" => "review_rejected",
        _ => "review_info_requested",
    };
    res.add_cookie(&cookies::flash(&state.settings, flash)).map_err(AppError::internal)?;
    Ok(res)
}
