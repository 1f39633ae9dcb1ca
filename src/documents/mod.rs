//! Residents' documents: checked by content, hashed, encrypted, stored in the database in
//! the transaction of the application they belong to, and served only to the people
//! allowed to see them, each view audited.

pub mod crypto;
pub mod keys;
pub mod sniff;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::{Document, DocumentBlob};
use crate::db::schema::{document_blobs, documents};
use crate::db::{DbConn, dialect};
use crate::domain::application::DocumentKind;
use crate::domain::{ApplicationId, DocumentId};
use keys::KeyRing;
use sniff::MediaType;

/// A file as uploaded, already checked: its type comes from its content.
#[derive(Clone)]
pub struct Upload {
    pub kind: DocumentKind,
    pub media: MediaType,
    pub display_name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({:?}, {:?}, {} bytes)", self.kind, self.media, self.bytes.len())
    }
}

/// Encrypts and inserts a document. Call inside the transaction of its application.
///
/// The key is read from the key file inside the transaction, under the lock a key rotation
/// waits for (see `rotation`), so no document is ever encrypted under a key the rotation
/// already moved away from.
pub fn store(
    conn: &mut DbConn,
    keys: &KeyRing,
    application_id: &ApplicationId,
    upload: &Upload,
    now: NaiveDateTime,
) -> anyhow::Result<DocumentId> {
    let id = DocumentId::generate();
    dialect::lock_document_keys_shared(conn)?;
    let key = keys.current_fresh()?;
    let sealed = crypto::seal(&key, &id, upload.kind.as_str(), &upload.bytes)?;
    diesel::insert_into(documents::table)
        .values(Document {
            id: id.clone(),
            application_id: application_id.clone(),
            kind: upload.kind.as_str().to_string(),
            media_type: upload.media.as_str().to_string(),
            size_bytes: upload.bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&upload.bytes)),
            original_name: upload.display_name.clone(),
            key_id: key.id.clone(),
            uploaded_at: now,
            replaced_at: None,
            purged_at: None,
        })
        .execute(conn)?;
    diesel::insert_into(document_blobs::table)
        .values(DocumentBlob { document_id: id.to_string(), nonce: sealed.nonce, ciphertext: sealed.ciphertext })
        .execute(conn)?;
    Ok(id)
}

/// The current documents of an application (not replaced), by kind.
pub fn current_for_application(conn: &mut DbConn, application_id: &str) -> QueryResult<Vec<Document>> {
    documents::table
        .filter(documents::application_id.eq(application_id))
        .filter(documents::replaced_at.is_null())
        .order((documents::kind.asc(), documents::uploaded_at.desc()))
        .load(conn)
}

/// Marks the current documents of these kinds as replaced by newer uploads.
pub fn mark_replaced(
    conn: &mut DbConn,
    application_id: &str,
    kinds: &[DocumentKind],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    diesel::update(
        documents::table
            .filter(documents::application_id.eq(application_id))
            .filter(documents::kind.eq_any(kinds))
            .filter(documents::replaced_at.is_null()),
    )
    .set(documents::replaced_at.eq(now))
    .execute(conn)
}

/// Decrypts a stored document; `None` when its file was purged.
///
/// The ciphertext and the id of its key are read in one statement: a key rotation may
/// re-encrypt the document between two statements, and `doc.key_id` may be older than the
/// blob.
pub fn read(conn: &mut DbConn, keys: &KeyRing, doc: &Document) -> anyhow::Result<Option<Vec<u8>>> {
    let row: Option<(String, Vec<u8>, Vec<u8>)> = document_blobs::table
        .inner_join(documents::table)
        .filter(document_blobs::document_id.eq(&doc.id))
        .select((documents::key_id, document_blobs::nonce, document_blobs::ciphertext))
        .first(conn)
        .optional()?;
    let Some((key_id, nonce, ciphertext)) = row else { return Ok(None) };
    let key = keys
        .find(&key_id)?
        .ok_or_else(|| anyhow::anyhow!("document {} needs key {key_id}, which is not in the key ring", doc.id))?;
    let plain = crypto::open(&key, &doc.id, &doc.kind, &nonce, &ciphertext)?;
    Ok(Some(plain))
}

/// Deletes the files (ciphertexts) of these documents and marks them purged; the metadata
/// stays. Returns how many files were deleted, so a second call for the same documents
/// returns 0.
pub fn delete_files(conn: &mut DbConn, document_ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    let deleted =
        diesel::delete(document_blobs::table.filter(document_blobs::document_id.eq_any(document_ids))).execute(conn)?;
    diesel::update(documents::table.filter(documents::id.eq_any(document_ids)).filter(documents::purged_at.is_null()))
        .set(documents::purged_at.eq(Some(now)))
        .execute(conn)?;
    Ok(deleted)
}
