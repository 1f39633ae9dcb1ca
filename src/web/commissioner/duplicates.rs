//! The commissioners' list of current duplicate signals (`/commissioner/duplicates`): pairs
//! of applications of two accounts that share a DNI or a file, each open or holding a
//! current membership, newest found first, with links to both records.

use actix_web::web::{self, Data, Query};
use actix_web::{HttpResponse, get};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::duplicates::{PairKey, Side};
use crate::domain::application::Dni;
use crate::error::AppResult;
use crate::services::analysis::{self, Signal};
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list);
}

#[derive(Deserialize)]
struct AfterQuery {
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "commissioner/duplicates.html")]
struct DuplicatesPage {
    ctx: PageContext,
    signals: Vec<Signal>,
    next: Option<String>,
    /// A later page: the empty state then says the list ends here.
    paged: bool,
}

impl DuplicatesPage {
    fn dni(&self, s: &Signal) -> String {
        Dni::formatted(&s.pair.first.dni)
    }

    /// Where the side stands: its current membership, or its open status.
    fn standing(&self, side: &Side) -> String {
        match side.membership.as_deref() {
            Some(m) => self.ctx.tf("oversight.duplicates.member", "status", &self.ctx.tp("membership.status.", m)),
            None => self.ctx.tp("status.", side.status.as_str()),
        }
    }

    fn sides<'a>(&self, s: &'a Signal) -> [&'a Side; 2] {
        [&s.pair.first, &s.pair.second]
    }

    fn next_link(&self, cursor: &str) -> String {
        format!("/commissioner/duplicates?after={cursor}")
    }
}

#[get("/commissioner/duplicates")]
async fn list(
    state: Data<AppState>,
    ctx: PageContext,
    _user: Commissioner,
    q: Query<AfterQuery>,
) -> AppResult<HttpResponse> {
    let after = q.after.as_deref().and_then(PairKey::decode);
    let paged = after.is_some();
    let page = analysis::current_duplicates(&state, after).await?;
    ok(&DuplicatesPage { ctx, signals: page.signals, next: page.next.map(|k| k.encode()), paged })
}
