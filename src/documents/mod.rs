//! Residents' documents: checked by content, hashed and encrypted before any transaction,
//! stored in the database in the transaction of the application they belong to, and served only to the people
//! allowed to see them, each view audited.

pub mod analysis;
pub mod crypto;
pub mod keys;
pub mod sniff;

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::{Document, DocumentChunk};
use crate::db::schema::{
    document_analyses, document_blobs, document_chunks, document_renditions, document_sweeps, documents,
};
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

/// An upload hashed and encrypted, ready to insert: the file work is done before the
/// transaction that stores it, so no write lock is held while 30 MiB are hashed and
/// encrypted.
pub struct SealedUpload {
    id: DocumentId,
    kind: DocumentKind,
    media: MediaType,
    display_name: String,
    size_bytes: i64,
    sha256: String,
    /// The key it was encrypted with: [`insert`] checks it is still the current one.
    key: keys::DocumentKey,
    sealed: crypto::Sealed,
}

impl std::fmt::Debug for SealedUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedUpload({}, {:?}, {} bytes)", self.id, self.kind, self.size_bytes)
    }
}

/// Hashes `upload` and encrypts it in its own buffer under the current key (the key file
/// read again). CPU work: call it on the blocking pool ([`seal_all`]).
pub fn seal(keys: &KeyRing, upload: Upload) -> anyhow::Result<SealedUpload> {
    let id = DocumentId::generate();
    let key = keys.current_fresh()?;
    let size_bytes = upload.bytes.len() as i64;
    let sha256 = hex::encode(Sha256::digest(&upload.bytes));
    let sealed = crypto::seal_in_place(&key, &id, upload.kind.as_str(), upload.bytes)?;
    Ok(SealedUpload {
        id,
        kind: upload.kind,
        media: upload.media,
        display_name: upload.display_name,
        size_bytes,
        sha256,
        key,
        sealed,
    })
}

/// [`seal`] for each upload, as file work (see [`file_work`]).
pub async fn seal_all(keys: &KeyRing, uploads: Vec<Upload>) -> anyhow::Result<Vec<SealedUpload>> {
    let keys = keys.clone();
    file_work(move || uploads.into_iter().map(|u| seal(&keys, u)).collect()).await?
}

/// Runs CPU-heavy work on files (content checks, hashing, encryption) on the blocking pool,
/// at most one task per core but one at a time: however many residents upload at once,
/// one core stays for the pages (officers reviewing while 8 applications of 30 MB came in
/// waited 134 ms at the 99th percentile when every core parsed and encrypted; see
/// docs/PERFORMANCE.md). Uploads queue here instead, which costs them little next to
/// their transfer time. A single-core machine runs one at a time.
///
/// The queue is served one task after another, so what a task costs beyond its work is
/// paid by every task behind it: callers give a form's files as one task (not one per
/// file), and the place is given up on the blocking thread as soon as the work ends, not
/// when the waiting request's worker thread next runs (on a busy machine that wake-up
/// took longer than the checks of small files themselves).
pub async fn file_work<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    static FILE_WORK: std::sync::LazyLock<Arc<tokio::sync::Semaphore>> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)))
    });
    let permit = FILE_WORK.clone().acquire_owned().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let done = f();
        drop(permit);
        done
    })
    .await?)
}

/// Inserts a sealed document. Call inside the transaction of its application.
///
/// The current key is read from the key file again here, under the lock a key rotation
/// waits for (see `rotation`): a document sealed before a rotation began, under a key the
/// rotation is moving away from, is re-encrypted under the new key here (the rare case
/// where file work happens inside the transaction), so no document is ever stored under a
/// key the rotation already left behind.
pub fn insert(
    conn: &mut DbConn,
    keys: &KeyRing,
    application_id: &ApplicationId,
    upload: &mut SealedUpload,
    now: NaiveDateTime,
) -> anyhow::Result<DocumentId> {
    dialect::lock_document_keys_shared(conn)?;
    let current = keys.current_fresh()?;
    if current.id != upload.key.id {
        let kind = upload.kind.as_str();
        let plain = crypto::open(&upload.key, &upload.id, kind, &upload.sealed.nonce, &upload.sealed.ciphertext)?;
        upload.sealed = crypto::seal_in_place(&current, &upload.id, kind, plain)?;
        upload.key = current;
    }
    diesel::insert_into(documents::table)
        .values(Document {
            id: upload.id.clone(),
            application_id: application_id.clone(),
            kind: upload.kind.as_str().to_string(),
            media_type: upload.media.as_str().to_string(),
            size_bytes: upload.size_bytes,
            sha256: upload.sha256.clone(),
            original_name: upload.display_name.clone(),
            key_id: upload.key.id.clone(),
            uploaded_at: now,
            replaced_at: None,
            purged_at: None,
        })
        .execute(conn)?;
    diesel::insert_into(document_blobs::table)
        .values((
            document_blobs::document_id.eq(upload.id.as_str()),
            document_blobs::nonce.eq(upload.sealed.nonce.as_slice()),
        ))
        .execute(conn)?;
    insert_chunks(conn, upload.id.as_str(), &upload.sealed.ciphertext)?;
    // Every stored file is read for the officer by the background job (the queue entry is
    // written here, the work happens after the commit: see `services::analysis`).
    diesel::insert_into(document_analyses::table)
        .values((
            document_analyses::document_id.eq(upload.id.as_str()),
            document_analyses::application_id.eq(application_id.as_str()),
            document_analyses::state.eq("pending"),
            document_analyses::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(upload.id.clone())
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
    let Some(StoredFile { key_id, nonce, ciphertext }) = sealed(conn, &doc.id)? else { return Ok(None) };
    let key = keys
        .find(&key_id)?
        .ok_or_else(|| anyhow::anyhow!("document {} needs key {key_id}, which is not in the key ring", doc.id))?;
    let plain = crypto::open(&key, &doc.id, &doc.kind, &nonce, &ciphertext)?;
    Ok(Some(plain))
}

/// How long the pieces of a stored ciphertext are: deleting one frees 64 pages of 4 KiB,
/// about a millisecond on SQLite, so a file's deletion can be split into short write
/// transactions.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// `ciphertext` cut into the pieces it is stored as.
pub fn chunks(document_id: &str, ciphertext: &[u8]) -> Vec<DocumentChunk> {
    ciphertext
        .chunks(CHUNK_BYTES)
        .enumerate()
        .map(|(seq, bytes)| DocumentChunk {
            document_id: document_id.to_string(),
            seq: seq as i32,
            bytes: bytes.to_vec(),
        })
        .collect()
}

fn insert_chunks(conn: &mut DbConn, document_id: &str, ciphertext: &[u8]) -> QueryResult<()> {
    for (seq, bytes) in ciphertext.chunks(CHUNK_BYTES).enumerate() {
        diesel::insert_into(document_chunks::table)
            .values((
                document_chunks::document_id.eq(document_id),
                document_chunks::seq.eq(seq as i32),
                document_chunks::bytes.eq(bytes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A stored document as sealed: the id of its key, its nonce and its ciphertext.
pub struct StoredFile {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// A stored document as sealed, or `None` when its file was deleted. One statement (each
/// piece's row carries the key id and the nonce): a key rotation may re-encrypt the
/// document between two statements.
pub fn sealed(conn: &mut DbConn, document_id: &str) -> QueryResult<Option<StoredFile>> {
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> = document_blobs::table
        .inner_join(documents::table)
        .inner_join(document_chunks::table.on(document_chunks::document_id.eq(document_blobs::document_id)))
        .filter(document_blobs::document_id.eq(document_id))
        .select((documents::key_id, document_blobs::nonce, document_chunks::bytes))
        .order(document_chunks::seq.asc())
        .load(conn)?;
    let mut rows = rows.into_iter();
    let Some((key_id, nonce, first)) = rows.next() else { return Ok(None) };
    let mut ciphertext = first;
    for (_, _, bytes) in rows {
        ciphertext.extend_from_slice(&bytes);
    }
    Ok(Some(StoredFile { key_id, nonce, ciphertext }))
}

/// Replaces a stored document's nonce and ciphertext (the key rotation's step). Call inside
/// a write transaction.
pub fn rewrite_sealed(conn: &mut DbConn, document_id: &str, sealed: &crypto::Sealed) -> QueryResult<()> {
    diesel::update(document_blobs::table.find(document_id))
        .set(document_blobs::nonce.eq(&sealed.nonce))
        .execute(conn)?;
    diesel::delete(document_chunks::table.filter(document_chunks::document_id.eq(document_id))).execute(conn)?;
    insert_chunks(conn, document_id, &sealed.ciphertext)
}

/// Whether the document's file is still stored (not purged).
pub fn has_file(conn: &mut DbConn, document_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(document_blobs::table.filter(document_blobs::document_id.eq(document_id))))
        .get_result(conn)
}

/// Deletes the files of these documents and marks them purged; the metadata stays.
/// Returns how many files were deleted, so a second call for the same documents returns 0.
///
/// What was derived from the files goes with them: the pages drawn, and the values read
/// (DNI number and names, QR codes); the verdict stays, as the checklist does.
///
/// From the commit on, nothing serves the file or its pages (both need the `document_blobs`
/// row deleted here); their bytes are queued in `document_sweeps` and deleted by
/// [`sweep`] in short transactions, so a purge never holds the write lock while megabytes
/// are freed.
pub fn delete_files(conn: &mut DbConn, document_ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    let stored: Vec<String> = document_blobs::table
        .filter(document_blobs::document_id.eq_any(document_ids))
        .select(document_blobs::document_id)
        .load(conn)?;
    // A file is queued once: only while its `document_blobs` row exists, deleted below.
    for id in &stored {
        diesel::insert_into(document_sweeps::table).values(document_sweeps::document_id.eq(id)).execute(conn)?;
    }
    let deleted =
        diesel::delete(document_blobs::table.filter(document_blobs::document_id.eq_any(&stored))).execute(conn)?;
    diesel::update(document_analyses::table.filter(document_analyses::document_id.eq_any(document_ids)))
        .set((
            document_analyses::dni_number.eq(None::<String>),
            document_analyses::dni_surname.eq(None::<String>),
            document_analyses::dni_names.eq(None::<String>),
            document_analyses::dni_words_missing.eq(None::<String>),
            document_analyses::codes.eq("[]"),
            document_analyses::pages.eq(0),
        ))
        .execute(conn)?;
    diesel::update(documents::table.filter(documents::id.eq_any(document_ids)).filter(documents::purged_at.is_null()))
        .set(documents::purged_at.eq(Some(now)))
        .execute(conn)?;
    Ok(deleted)
}

/// Pieces (1 MiB) or pages deleted per write transaction by [`sweep`].
const SWEEP_ROWS: i64 = 4;

/// Deletes the bytes of deleted files, queued by [`delete_files`]: their pieces and drawn
/// pages, a few rows per write transaction, read outside it. Returns how many files were
/// finished. Safe to run on several instances at once (each delete names its rows).
pub fn sweep(conn: &mut DbConn) -> QueryResult<usize> {
    let mut done = 0;
    loop {
        let queued: Vec<String> = document_sweeps::table
            .select(document_sweeps::document_id)
            .order(document_sweeps::document_id.asc())
            .limit(100)
            .load(conn)?;
        if queued.is_empty() {
            return Ok(done);
        }
        for id in &queued {
            loop {
                let pieces: Vec<i32> = document_chunks::table
                    .filter(document_chunks::document_id.eq(id))
                    .select(document_chunks::seq)
                    .order(document_chunks::seq.asc())
                    .limit(SWEEP_ROWS)
                    .load(conn)?;
                let pages: Vec<i32> = document_renditions::table
                    .filter(document_renditions::document_id.eq(id))
                    .select(document_renditions::page)
                    .order(document_renditions::page.asc())
                    .limit(if pieces.is_empty() { SWEEP_ROWS } else { 0 })
                    .load(conn)?;
                if pieces.is_empty() && pages.is_empty() {
                    conn.write_tx(|c| diesel::delete(document_sweeps::table.find(id)).execute(c))?;
                    done += 1;
                    break;
                }
                conn.write_tx(|c| -> QueryResult<()> {
                    diesel::delete(
                        document_chunks::table
                            .filter(document_chunks::document_id.eq(id))
                            .filter(document_chunks::seq.eq_any(&pieces)),
                    )
                    .execute(c)?;
                    diesel::delete(
                        document_renditions::table
                            .filter(document_renditions::document_id.eq(id))
                            .filter(document_renditions::page.eq_any(&pages)),
                    )
                    .execute(c)?;
                    Ok(())
                })?;
            }
        }
    }
}

/// The associated data's id for a page drawn from a document: never a document id (those
/// are bare UUIDs), so a page's ciphertext cannot pass for a document's or another page's.
fn rendition_aad_id(document_id: &str, page: i32) -> String {
    format!("{document_id}/page/{page}")
}

/// A page drawn from a document, encrypted before the transaction that stores it.
pub struct SealedRendition {
    page: i32,
    width: i32,
    height: i32,
    size_bytes: i64,
    key: keys::DocumentKey,
    sealed: crypto::Sealed,
}

/// Encrypts the pages drawn from `doc` (numbered from 1) under the current key. CPU work:
/// call it on the blocking pool.
pub fn seal_renditions(
    keys: &KeyRing,
    doc: &Document,
    pages: Vec<analysis::PageImage>,
) -> anyhow::Result<Vec<SealedRendition>> {
    let key = keys.current_fresh()?;
    let mut out = Vec::new();
    for (i, page) in pages.into_iter().enumerate() {
        let n = i as i32 + 1;
        let size_bytes = page.png.len() as i64;
        let sealed = crypto::seal_in_place(&key, &rendition_aad_id(&doc.id, n), &doc.kind, page.png)?;
        out.push(SealedRendition {
            page: n,
            width: page.width as i32,
            height: page.height as i32,
            size_bytes,
            key: key.clone(),
            sealed,
        });
    }
    Ok(out)
}

/// Stores the pages drawn from `doc`, replacing any stored before. Call inside a write
/// transaction; as [`insert`], under the shared document-keys lock, re-encrypting a page
/// sealed under a key a rotation has since left.
pub fn insert_renditions(
    conn: &mut DbConn,
    keys: &KeyRing,
    doc: &Document,
    pages: &mut [SealedRendition],
) -> anyhow::Result<()> {
    dialect::lock_document_keys_shared(conn)?;
    diesel::delete(document_renditions::table.filter(document_renditions::document_id.eq(&doc.id))).execute(conn)?;
    // A file deleted since it was read keeps no pages.
    if pages.is_empty() || !has_file(conn, &doc.id)? {
        return Ok(());
    }
    let current = keys.current_fresh()?;
    for page in pages.iter_mut() {
        if current.id != page.key.id {
            let aad_id = rendition_aad_id(&doc.id, page.page);
            let plain = crypto::open(&page.key, &aad_id, &doc.kind, &page.sealed.nonce, &page.sealed.ciphertext)?;
            page.sealed = crypto::seal_in_place(&current, &aad_id, &doc.kind, plain)?;
            page.key = current.clone();
        }
        diesel::insert_into(document_renditions::table)
            .values((
                document_renditions::document_id.eq(doc.id.as_str()),
                document_renditions::page.eq(page.page),
                document_renditions::width.eq(page.width),
                document_renditions::height.eq(page.height),
                document_renditions::size_bytes.eq(page.size_bytes),
                document_renditions::key_id.eq(&page.key.id),
                document_renditions::nonce.eq(page.sealed.nonce.as_slice()),
                document_renditions::ciphertext.eq(page.sealed.ciphertext.as_slice()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A page drawn from `doc`, decrypted (PNG); `None` when there is no such page (never
/// drawn, or deleted with the file: its pages may wait for the sweep a moment longer).
pub fn read_rendition(conn: &mut DbConn, keys: &KeyRing, doc: &Document, page: i32) -> anyhow::Result<Option<Vec<u8>>> {
    let row: Option<(String, Vec<u8>, Vec<u8>)> = document_renditions::table
        .filter(document_renditions::document_id.eq(&doc.id))
        .filter(document_renditions::page.eq(page))
        .filter(diesel::dsl::exists(document_blobs::table.filter(document_blobs::document_id.eq(&doc.id))))
        .select((document_renditions::key_id, document_renditions::nonce, document_renditions::ciphertext))
        .first(conn)
        .optional()?;
    let Some((key_id, nonce, ciphertext)) = row else { return Ok(None) };
    let key = keys.find(&key_id)?.ok_or_else(|| {
        anyhow::anyhow!("a page of document {} needs key {key_id}, which is not in the key ring", doc.id)
    })?;
    Ok(Some(crypto::open(&key, &rendition_aad_id(&doc.id, page), &doc.kind, &nonce, &ciphertext)?))
}

/// Re-encrypts a stored page under `new`: the rotation's step for derived documents.
pub fn rekey_rendition(
    conn: &mut DbConn,
    keys: &KeyRing,
    new: &keys::DocumentKey,
    document_id: &str,
    kind: &str,
    page: i32,
) -> anyhow::Result<bool> {
    let row: Option<(String, Vec<u8>, Vec<u8>)> = document_renditions::table
        .filter(document_renditions::document_id.eq(document_id))
        .filter(document_renditions::page.eq(page))
        .select((document_renditions::key_id, document_renditions::nonce, document_renditions::ciphertext))
        .first(conn)
        .optional()?;
    let Some((key_id, nonce, ciphertext)) = row else { return Ok(false) };
    if key_id == new.id {
        return Ok(false);
    }
    let old = keys.find(&key_id)?.ok_or_else(|| anyhow::anyhow!("key {key_id} is not in the key ring"))?;
    let aad_id = rendition_aad_id(document_id, page);
    let plain = crypto::open(&old, &aad_id, kind, &nonce, &ciphertext)?;
    let sealed = crypto::seal_in_place(new, &aad_id, kind, plain)?;
    diesel::update(
        document_renditions::table
            .filter(document_renditions::document_id.eq(document_id))
            .filter(document_renditions::page.eq(page))
            .filter(document_renditions::key_id.eq(&key_id)),
    )
    .set((
        document_renditions::key_id.eq(&new.id),
        document_renditions::nonce.eq(sealed.nonce.as_slice()),
        document_renditions::ciphertext.eq(sealed.ciphertext.as_slice()),
    ))
    .execute(conn)?;
    Ok(true)
}
