//! The commissioner's audit-chain verification. The dashboard and the other oversight
//! pages are in `web/oversight.rs`.

use actix_web::web::{self, Data};
use actix_web::{HttpResponse, get};
use askama::Template;

use crate::app::AppState;
use crate::audit::ChainStatus;
use crate::error::AppResult;
use crate::web::extract::Commissioner;
use crate::web::page::{PageContext, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(audit_verify);
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
