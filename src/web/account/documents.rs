//! Documents of an application, for any signed-in user who may see them: the applicant,
//! the officers of its group and commissioners (the rule is `applications::may_view`).

use actix_web::http::header;
use actix_web::web::{self, Data, Path};
use actix_web::{HttpResponse, get};

use crate::app::AppState;
use crate::db::models::Document;
use crate::documents::sniff::MediaType;
use crate::domain::{ApplicationId, DocumentId};
use crate::error::AppResult;
use crate::services::applications::{self, Viewer};
use crate::web::context::RequestContext;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(document).service(document_page);
}

/// Serves a document to whoever may see it. Everyone else, signed in or not, gets the
/// same 404 as for a document that does not exist.
#[get("/applications/{id}/documents/{document_id}")]
async fn document(
    state: Data<AppState>,
    ctx: RequestContext,
    path: Path<(ApplicationId, DocumentId)>,
) -> AppResult<HttpResponse> {
    let (id, document_id) = path.into_inner();
    let viewer =
        ctx.user.as_ref().map(|u| Viewer { user_id: u.user_id.clone(), role: u.role, ip: ctx.client_ip.clone() });
    let (doc, bytes) = applications::view_document(&state, id, document_id, viewer).await?;
    Ok(document_response(&doc, bytes))
}

/// A page drawn from a PDF document (PNG), to the same people, with the same headers.
#[get("/applications/{id}/documents/{document_id}/pages/{page}")]
async fn document_page(
    state: Data<AppState>,
    ctx: RequestContext,
    path: Path<(ApplicationId, DocumentId, String)>,
) -> AppResult<HttpResponse> {
    let (id, document_id, page) = path.into_inner();
    let page: i32 = page.parse().ok().filter(|n| (1..=100).contains(n)).ok_or(crate::error::AppError::NotFound)?;
    let viewer =
        ctx.user.as_ref().map(|u| Viewer { user_id: u.user_id.clone(), role: u.role, ip: ctx.client_ip.clone() });
    let (doc, png) = applications::view_document_page(&state, id, document_id, page, viewer).await?;
    Ok(page_response(&doc, page, png))
}

/// A page's response: the document's headers, as an inline PNG named after the document.
pub fn page_response(doc: &Document, page: i32, png: Vec<u8>) -> HttpResponse {
    let stem: String = doc
        .original_name
        .trim_end_matches(".pdf")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-() ".contains(c) { c } else { '_' })
        .collect();
    inert(HttpResponse::Ok(), "image/png", &format!("inline; filename=\"{stem}-{page}.png\"")).body(png)
}

/// The headers that keep a stored file inert: its detected type only, no sniffing, a
/// sandbox that runs nothing, and no caching.
pub fn document_response(doc: &Document, bytes: Vec<u8>) -> HttpResponse {
    let ascii_name: String = doc
        .original_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-() ".contains(c) { c } else { '_' })
        .collect();
    // Browsers refuse to run their PDF viewer inside a sandbox, so PDFs are downloaded and
    // opened by the device's viewer; images show inline.
    let disposition = if doc.media_type == MediaType::Pdf.as_str() { "attachment" } else { "inline" };
    inert(HttpResponse::Ok(), &doc.media_type, &format!("{disposition}; filename=\"{ascii_name}\"")).body(bytes)
}

fn inert(
    mut response: actix_web::HttpResponseBuilder,
    media_type: &str,
    disposition: &str,
) -> actix_web::HttpResponseBuilder {
    response
        .insert_header((header::CONTENT_TYPE, media_type.to_string()))
        .insert_header((header::CONTENT_DISPOSITION, disposition.to_string()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Security-Policy",
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        ))
        .insert_header(("X-Frame-Options", "SAMEORIGIN"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}
