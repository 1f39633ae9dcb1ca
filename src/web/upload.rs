//! Reading multipart forms with limits. Files are read into memory only (never to disk),
//! each up to the configured size; a larger one ends the request with 413 before anything
//! is stored. The CSRF token, the first field, was checked by the middleware.
//!
//! The bodies held in memory at once are bounded by an [`UploadBudget`]: a form reserves
//! its declared length (the largest form when it declares none) before its body is read,
//! and keeps the reservation until it is dropped, after its files were checked, encrypted
//! and stored. Eight residents sending three 10 MiB files at once would otherwise hold
//! 240 MiB of bodies plus their copies; the others wait, their bodies still in the
//! kernel's socket buffers, under the same body deadline as any request.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use futures_util::StreamExt;
use std::collections::HashMap;
use tokio::sync::OwnedSemaphorePermit;

use crate::app::upload_budget::UploadBudget;
use crate::error::AppError;

/// Text fields are short: addresses, dates, messages.
const MAX_TEXT_BYTES: usize = 8 * 1024;
const MAX_FIELDS: usize = 32;

pub struct UploadedFile {
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct MultipartForm {
    texts: HashMap<String, Vec<String>>,
    files: HashMap<String, UploadedFile>,
    /// This form's share of the upload budget, given back when the form is dropped.
    _reserved: Option<OwnedSemaphorePermit>,
}

impl MultipartForm {
    /// The first value of a text field, or "".
    pub fn text(&self, name: &str) -> &str {
        self.texts.get(name).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }

    /// Every value of a repeated text field.
    pub fn texts(&self, name: &str) -> &[String] {
        self.texts.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A file field that carried a non-empty file.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.get(name).filter(|f| !f.bytes.is_empty())
    }

    /// Takes a non-empty file out of the form, so its bytes move on without a copy.
    pub fn take_file(&mut self, name: &str) -> Option<UploadedFile> {
        self.file(name)?;
        self.files.remove(name)
    }

    /// Whether the field was sent with an empty file (chosen but empty).
    pub fn empty_file(&self, name: &str) -> bool {
        self.files.get(name).is_some_and(|f| f.bytes.is_empty() && f.filename.as_deref().is_some_and(|n| !n.is_empty()))
    }
}

/// Reads the whole form, once `budget` has room for its declared length. `file_fields`
/// names the fields that may carry files; each file is capped at `max_file_bytes`. The
/// wait and the reading together are bounded by the request's body deadline
/// (`web::body`): 408 once it passes, whatever the parser is waiting for.
pub async fn read(
    budget: &UploadBudget,
    req: &HttpRequest,
    multipart: Multipart,
    file_fields: &[&str],
    max_file_bytes: usize,
) -> Result<MultipartForm, AppError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let permits = budget.permits();
    let wanted = budget.reservation(declared);
    crate::web::body::bound(async move {
        let reserved = permits.acquire_many_owned(wanted).await.map_err(AppError::internal)?;
        let mut form = read_all(multipart, file_fields, max_file_bytes, declared).await?;
        form._reserved = Some(reserved);
        Ok(form)
    })
    .await
}

async fn read_all(
    mut multipart: Multipart,
    file_fields: &[&str],
    max_file_bytes: usize,
    declared: Option<usize>,
) -> Result<MultipartForm, AppError> {
    let mut form = MultipartForm::default();
    let mut count = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("malformed multipart body"))?;
        count += 1;
        if count > MAX_FIELDS {
            return Err(AppError::BadRequest("too many fields"));
        }
        let name = field.name().unwrap_or("").to_string();
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        let is_file = file_fields.contains(&name.as_str());
        let limit = if is_file { max_file_bytes } else { MAX_TEXT_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("malformed multipart body"))?;
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge);
            }
            if is_file && bytes.is_empty() {
                // Room for the largest file the body can hold (and the 16-byte tag its
                // encryption appends) at once: no reallocation copies it while it grows.
                // Pages never written to cost no memory.
                bytes.reserve_exact(limit.min(declared.unwrap_or(limit)).max(chunk.len()) + 16);
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if form.files.insert(name, UploadedFile { filename, bytes }).is_some() {
                return Err(AppError::BadRequest("a file field was sent twice"));
            }
        } else if name != "csrf_token" {
            let text = String::from_utf8(bytes).map_err(|_| AppError::BadRequest("text field is not UTF-8"))?;
            form.texts.entry(name).or_default().push(text);
        }
    }
    Ok(form)
}
