//! The commissioner's audit log (`/commissioner/audit`): search by actor, action, subject
//! and days, and the verification of the whole chain.

use actix_web::web::{self, Data, Query};
use actix_web::{HttpResponse, get};
use askama::Template;
use serde::Deserialize;

use super::parse_before;
use crate::app::AppState;
use crate::audit::ChainStatus;
use crate::domain::Day;
use crate::error::AppResult;
use crate::services::oversight::log::{self, ACTIONS, AuditFilter, AuditPage, SUBJECT_TYPES};
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(audit_log).service(audit_verify);
}

#[derive(Template)]
#[template(path = "commissioner/audit.html")]
struct AuditSearchPage {
    ctx: PageContext,
    log: AuditPage,
    actor: String,
    action: String,
    subject_type: String,
    subject_id: String,
    from: String,
    to: String,
    unknown_actor: bool,
    bad_date: bool,
}

impl AuditSearchPage {
    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn subject_types(&self) -> [&'static str; 5] {
        SUBJECT_TYPES
    }

    fn is_action(&self, a: &str) -> bool {
        a == self.action
    }

    fn is_subject_type(&self, t: &str) -> bool {
        t == self.subject_type
    }

    /// The next page's link, keeping the filters.
    fn next_link(&self, before: &i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject_type", &self.subject_type),
            ("subject_id", &self.subject_id),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("before", &before.to_string());
        format!("/commissioner/audit?{}", q.finish())
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

fn trimmed(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

/// A day typed as YYYY-MM-DD within the range a request may name; `Err` for anything else
/// but an empty field (the page says so and searches without it).
fn parse_day(raw: &str) -> Result<Option<Day>, ()> {
    if raw.is_empty() {
        return Ok(None);
    }
    Day::parse(raw).map(Some).map_err(|_| ())
}

/// Verifying walks the whole chain, so this page does not: it checks each shown entry's
/// own hash and links to `/commissioner/audit/verify` for the full walk.
#[get("/commissioner/audit")]
async fn audit_log(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let (actor, subject_id) = (trimmed(&q.actor), trimmed(&q.subject_id));
    let action = trimmed(&q.action);
    let action = if ACTIONS.contains(&action.as_str()) { action } else { String::new() };
    let subject_type = trimmed(&q.subject_type);
    let subject_type = if SUBJECT_TYPES.contains(&subject_type.as_str()) { subject_type } else { String::new() };
    let (from, to) = (trimmed(&q.from), trimmed(&q.to));
    let (from_day, to_day) = (parse_day(&from), parse_day(&to));
    let bad_date = from_day.is_err() || to_day.is_err();
    let filter = AuditFilter {
        action: (!action.is_empty()).then(|| action.clone()),
        subject_type: (!subject_type.is_empty()).then(|| subject_type.clone()),
        subject_id: (!subject_id.is_empty()).then(|| subject_id.clone()),
        from: from_day.ok().flatten().map(|d| d.start_in(state.settings.zone)),
        until: to_day.ok().flatten().map(|d| d.end_in(state.settings.zone)),
        ..AuditFilter::default()
    };
    let before = parse_before(&q.before);
    let (locale, raw_actor) = (ctx.locale, actor.clone());
    let found = log::browse_page(&state, locale, raw_actor, filter, before).await?;
    ok(&AuditSearchPage {
        ctx,
        log: found.page,
        actor,
        action,
        subject_type,
        subject_id,
        from,
        to,
        unknown_actor: found.unknown_actor,
        bad_date,
    })
}

#[derive(Template)]
#[template(path = "commissioner/audit_verify.html")]
struct VerifyPage {
    ctx: PageContext,
    chain: ChainStatus,
}

impl VerifyPage {
    fn chain_ok(&self) -> bool {
        matches!(self.chain, ChainStatus::Intact { .. })
    }

    fn chain_entries(&self) -> String {
        match self.chain {
            ChainStatus::Intact { entries } => entries.to_string(),
            ChainStatus::Broken { seq, .. } => seq.to_string(),
        }
    }
}

/// Walks the whole audit chain, batch by batch; on demand, not on every dashboard view.
#[get("/commissioner/audit/verify")]
async fn audit_verify(state: Data<AppState>, ctx: PageContext, _user: Commissioner) -> AppResult<HttpResponse> {
    let chain = crate::services::oversight::log::verify_chain(&state).await?;
    ok(&VerifyPage { ctx, chain })
}
