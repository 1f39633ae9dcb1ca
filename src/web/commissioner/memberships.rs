//! The commissioner's memberships: the search (`/commissioner/memberships`) by DNI, number
//! or name, group and status, across every group; status changes and the removal list of
//! every group, with the staff's pages and code in `officer/memberships.rs`.

use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;

use super::flash;
use crate::app::AppState;
use crate::db::models::Group;
use crate::domain::MembershipId;
use crate::domain::application::Dni;
use crate::domain::export::MAX_EXPORT_ROWS;
use crate::domain::membership::MembershipStatus;
use crate::error::AppResult;
use crate::services::memberships;
use crate::services::oversight::records::{self, MemberSearch, MembershipFilter, MembershipRow};
use crate::services::review::Cursor;
use crate::web::extract::{Commissioner, StaffUser};
use crate::web::forms::Pairs;
use crate::web::officer::memberships::{change, removals_page, staff_of};
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(search).service(commissioner_change).service(commissioner_removals).service(commissioner_removed);
}

#[derive(Deserialize)]
pub(super) struct MembershipQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    after: Option<String>,
}

impl MembershipQuery {
    pub(super) fn filter(&self) -> MembershipFilter {
        MembershipFilter {
            search: self.q.as_deref().and_then(MemberSearch::parse),
            group_id: self.group.clone().map(|g| g.trim().to_string()).filter(|g| !g.is_empty()),
            status: self.status.as_deref().and_then(|s| s.parse().ok()),
        }
    }

    /// The filters as a query string, for the next page and the export.
    fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("q", &self.q), ("group", &self.group), ("status", &self.status)] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

#[derive(Template)]
#[template(path = "commissioner/memberships.html")]
struct MembershipsPage {
    ctx: PageContext,
    rows: Vec<MembershipRow>,
    groups: Vec<Group>,
    next: Option<String>,
    q: String,
    group: String,
    status: String,
    query: String,
}

impl MembershipsPage {
    fn statuses(&self) -> [MembershipStatus; 5] {
        MembershipStatus::ALL
    }

    fn dni(&self, r: &MembershipRow) -> String {
        Dni::formatted(&r.dni)
    }

    fn export_link(&self) -> String {
        if self.query.is_empty() {
            "/commissioner/memberships.csv".into()
        } else {
            format!("/commissioner/memberships.csv?{}", self.query)
        }
    }

    fn next_link(&self, cursor: &str) -> String {
        let after = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>();
        if self.query.is_empty() {
            format!("/commissioner/memberships?after={after}")
        } else {
            format!("/commissioner/memberships?{}&after={after}", self.query)
        }
    }

    fn max_rows(&self) -> String {
        MAX_EXPORT_ROWS.to_string()
    }
}

#[get("/commissioner/memberships")]
async fn search(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<MembershipQuery>,
) -> AppResult<HttpResponse> {
    let filter = q.filter();
    let after = q.after.as_deref().and_then(Cursor::decode);
    let (groups, page) = records::membership_search(&state, filter.clone(), after).await?;
    ok(&MembershipsPage {
        ctx,
        rows: page.rows,
        groups,
        next: page.next.map(|c| c.encode()),
        q: q.q.clone().unwrap_or_default(),
        group: filter.group_id.unwrap_or_default(),
        status: filter.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        query: q.query_string(),
    })
}

#[post("/commissioner/memberships/{id}/{action}")]
async fn commissioner_change(
    state: Data<AppState>,
    ctx: PageContext,
    user: Commissioner,
    path: Path<(MembershipId, String)>,
    form: Pairs,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    change(&state, ctx, StaffUser(user.0), id, &action, &form).await
}

#[get("/commissioner/removals")]
async fn commissioner_removals(state: Data<AppState>, ctx: PageContext, user: Commissioner) -> AppResult<HttpResponse> {
    removals_page(&state, ctx, StaffUser(user.0)).await
}

#[post("/commissioner/removals/{id}/done")]
async fn commissioner_removed(
    state: Data<AppState>,
    user: Commissioner,
    id: Path<MembershipId>,
) -> AppResult<HttpResponse> {
    let user = StaffUser(user.0);
    memberships::mark_removed(&state, staff_of(&user), id.into_inner()).await?;
    flash(&state, "/commissioner/removals", "membership_removed")
}
