//! `vecinal keys rotate`: a new key for the key file, every stored document re-encrypted
//! under it, and the keys no document needs any more removed from the file. Servers keep
//! serving throughout.
//!
//! The steps, and why each is safe to interrupt:
//!
//! 1. **Add the key.** A new last line in the key file (replaced atomically). Old keys stay,
//!    so every document still opens; servers read the file again when they meet a key id
//!    they do not hold, and before encrypting each new document.
//! 2. **Barrier.** One write transaction that waits for every transaction encrypting a
//!    document with a key read before step 1 (PostgreSQL: an exclusive advisory lock against
//!    the shared one `documents::insert` holds; SQLite: the write lock). After it, every new
//!    document is encrypted under the new key, and every older one is visible here.
//! 3. **Re-encrypt in batches**: documents with a file whose `key_id` is not the current
//!    key, each batch one transaction (decrypt with the old key, encrypt with the new one
//!    with a fresh nonce, store the ciphertext and the new `key_id` together). A crash loses
//!    at most the batch in flight, which rolled back.
//! 4. **Retire** every key but the current one that no stored file uses: its line leaves
//!    the file.
//!
//! Resuming: a run that finds files under an older key, or old keys still in the file, is
//! finishing an interrupted rotation (or a key appended by hand) and adds no key of its own;
//! the next run starts a new rotation.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::app::config::Settings;
use crate::audit::{self, Actor};
use crate::db::schema::{document_blobs, document_renditions, documents};
use crate::db::{DbConn, dialect};
use crate::documents::keys::{self, DocumentKey, KeyRing};
use crate::documents::{self as files, crypto};

/// Why rotation needs the key file, for the refusal when the key comes from the
/// environment. `key_id` is the id stored documents name the key by; the key file must use
/// the same one.
pub fn env_key_refusal(key_id: &str) -> String {
    format!(
        "VECINAL_DOCUMENT_KEY holds exactly one key, so a rotation cannot keep the old key available while \
         documents move to a new one. Use the key file instead: write the line '{key_id} <the base64 value of \
         VECINAL_DOCUMENT_KEY>' into DATA_DIR/document-keys (mode 0600; the id {key_id} is the one stored \
         documents use), unset VECINAL_DOCUMENT_KEY on every instance, restart them, and run \
         'vecinal keys rotate' again."
    )
}

#[derive(Debug, Clone, Copy)]
pub struct RotationOptions {
    /// Documents per transaction.
    pub batch_size: i64,
    /// Stop after this many batches, leaving the rest for the next run (tests use it to
    /// interrupt a rotation half-way).
    pub max_batches: Option<usize>,
}

impl Default for RotationOptions {
    fn default() -> Self {
        Self { batch_size: 50, max_batches: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The key every document is (or is being) moved to.
    pub key_id: String,
    /// An earlier, unfinished rotation was completed instead of starting a new one.
    pub resumed: bool,
    /// Documents re-encrypted by this run.
    pub reencrypted: usize,
    /// Documents still under an older key (when stopped by `max_batches`).
    pub remaining: i64,
    /// Key ids removed from the key file.
    pub retired: Vec<String>,
    pub finished: bool,
}

/// Documents that still have a file encrypted under a key other than `key_id`, and pages
/// drawn from documents (derived files, encrypted the same way) likewise.
pub fn documents_not_under(conn: &mut DbConn, key_id: &str) -> QueryResult<i64> {
    let files: i64 = documents::table
        .inner_join(document_blobs::table)
        .filter(documents::key_id.ne(key_id))
        .count()
        .get_result(conn)?;
    let pages: i64 =
        document_renditions::table.filter(document_renditions::key_id.ne(key_id)).count().get_result(conn)?;
    Ok(files + pages)
}

/// The key ids that stored files (documents and the pages drawn from them) are encrypted
/// under.
pub fn key_ids_in_use(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> =
        documents::table.inner_join(document_blobs::table).select(documents::key_id).distinct().load(conn)?;
    let pages: Vec<String> = document_renditions::table.select(document_renditions::key_id).distinct().load(conn)?;
    for id in pages {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Runs (or resumes) a rotation. Only one runs at a time: a lock on `document-keys.lock`
/// beside the key file, released by the operating system if the process dies.
pub fn rotate(
    conn: &mut DbConn,
    settings: &Settings,
    now: impl Fn() -> NaiveDateTime,
    options: RotationOptions,
) -> anyhow::Result<RotationReport> {
    if let Some(key) = &settings.document_key {
        bail!(env_key_refusal(&DocumentKey::from_bytes(key.0).id));
    }
    if options.batch_size < 1 {
        bail!("the batch size must be at least 1");
    }
    std::fs::create_dir_all(&settings.data_dir)?;
    let ring = KeyRing::load(None, &settings.data_dir)?;
    let path = ring.source().context("the key ring has no key file")?.to_path_buf();
    let _lock = lock(&path)?;
    ring.reload()?;

    let current = ring.current();
    let pending = documents_not_under(conn, &current.id)?;
    let unused_old = unused_old_keys(conn, &ring, &current.id)?;
    let resumed = pending > 0 || !unused_old.is_empty();
    let key = if resumed {
        current
    } else {
        let key = DocumentKey::generate();
        keys::append_key(&path, &key)?;
        ring.reload()?;
        key
    };
    let to_move = documents_not_under(conn, &key.id)?;
    conn.write_tx(|c| -> anyhow::Result<()> {
        audit::record(
            c,
            now(),
            &Actor::system("cli"),
            "keys.rotation_started",
            None,
            json!({ "key_id": key.id, "resumed": resumed, "documents": to_move }),
        )?;
        Ok(())
    })?;

    // Step 2: no transaction that read the key file before the new key was added is still
    // running once this one got its lock.
    conn.write_tx(dialect::lock_document_keys_exclusive)?;

    let mut reencrypted = 0;
    let mut batches = 0;
    loop {
        if options.max_batches.is_some_and(|max| batches >= max) {
            let remaining = documents_not_under(conn, &key.id)?;
            if remaining > 0 {
                return Ok(RotationReport {
                    key_id: key.id,
                    resumed,
                    reencrypted,
                    remaining,
                    retired: vec![],
                    finished: false,
                });
            }
        }
        let mut moved = conn.write_tx(|c| reencrypt_batch(c, &ring, &key, options.batch_size))?;
        if moved == 0 {
            moved = conn.write_tx(|c| reencrypt_pages_batch(c, &ring, &key, options.batch_size))?;
        }
        batches += 1;
        reencrypted += moved;
        if moved == 0 {
            break;
        }
    }

    let retired = unused_old_keys(conn, &ring, &key.id)?;
    if !retired.is_empty() {
        keys::remove_keys(&path, &retired)?;
        ring.reload()?;
    }
    conn.write_tx(|c| -> anyhow::Result<()> {
        audit::record(
            c,
            now(),
            &Actor::system("cli"),
            "keys.rotation_finished",
            None,
            json!({ "key_id": key.id, "documents_reencrypted": reencrypted, "retired": retired }),
        )?;
        Ok(())
    })?;
    Ok(RotationReport { key_id: key.id, resumed, reencrypted, remaining: 0, retired, finished: true })
}

/// Keys in the file other than `current` that no stored file uses.
fn unused_old_keys(conn: &mut DbConn, ring: &KeyRing, current: &str) -> QueryResult<Vec<String>> {
    let used = key_ids_in_use(conn)?;
    Ok(ring.ids().into_iter().filter(|id| id != current && !used.contains(id)).collect())
}

/// Moves up to `limit` documents to `key`; returns how many moved.
fn reencrypt_batch(conn: &mut DbConn, ring: &KeyRing, key: &DocumentKey, limit: i64) -> anyhow::Result<usize> {
    let rows: Vec<(String, String)> = documents::table
        .inner_join(document_blobs::table)
        .filter(documents::key_id.ne(&key.id))
        .order(documents::id.asc())
        .limit(limit)
        .select((documents::id, documents::kind))
        .load(conn)?;
    for (id, kind) in &rows {
        let files::StoredFile { key_id: old_id, nonce, ciphertext } =
            files::sealed(conn, id)?.with_context(|| format!("document {id} lost its file during the rotation"))?;
        let old = ring.find(&old_id)?.with_context(|| {
            format!("document {id} is encrypted under key {old_id}, which is not in the key file; restore that key")
        })?;
        let plain = crypto::open(&old, id, kind, &nonce, &ciphertext)?;
        let sealed = crypto::seal(key, id, kind, &plain)?;
        files::rewrite_sealed(conn, id, &sealed)?;
        diesel::update(documents::table.find(id)).set(documents::key_id.eq(&key.id)).execute(conn)?;
    }
    Ok(rows.len())
}

/// Moves up to `limit` pages drawn from documents to `key`; returns how many moved.
fn reencrypt_pages_batch(conn: &mut DbConn, ring: &KeyRing, key: &DocumentKey, limit: i64) -> anyhow::Result<usize> {
    let rows: Vec<(String, i32, String)> = document_renditions::table
        .inner_join(documents::table)
        .filter(document_renditions::key_id.ne(&key.id))
        .order((document_renditions::document_id.asc(), document_renditions::page.asc()))
        .limit(limit)
        .select((document_renditions::document_id, document_renditions::page, documents::kind))
        .load(conn)?;
    for (id, page, kind) in &rows {
        crate::documents::rekey_rendition(conn, ring, key, id, kind, *page)?;
    }
    Ok(rows.len())
}

/// An exclusive lock on `document-keys.lock`; dropped with the file handle.
fn lock(key_file: &Path) -> anyhow::Result<File> {
    let path = key_file.with_extension("lock");
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let f = options.open(&path).with_context(|| format!("opening {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("another key rotation is running (it holds {})", path.display())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}
