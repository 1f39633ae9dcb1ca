//! Reading multipart forms with limits. Files are read into memory only (never to disk),
//! each up to the configured size; a larger one ends the request with 413 before anything
//! is stored. The CSRF token, the first field, was checked by the middleware.

use std::collections::HashMap;

use actix_multipart::Multipart;
use futures_util::StreamExt;

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

    /// Whether the field was sent with an empty file (chosen but empty).
    pub fn empty_file(&self, name: &str) -> bool {
        self.files.get(name).is_some_and(|f| f.bytes.is_empty() && f.filename.as_deref().is_some_and(|n| !n.is_empty()))
    }
}

/// Reads the whole form. `file_fields` names the fields that may carry files; each file is
/// capped at `max_file_bytes`. The reading as a whole is bounded by the request's body
/// deadline (`web::body`): 408 once it passes, whatever the parser is waiting for.
pub async fn read(
    multipart: Multipart,
    file_fields: &[&str],
    max_file_bytes: usize,
) -> Result<MultipartForm, AppError> {
    crate::web::body::bound(read_all(multipart, file_fields, max_file_bytes)).await
}

async fn read_all(
    mut multipart: Multipart,
    file_fields: &[&str],
    max_file_bytes: usize,
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
