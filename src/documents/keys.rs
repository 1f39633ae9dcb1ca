//! Document encryption keys. A key ring holds every key still needed to read stored
//! documents; the newest encrypts. Keys come from `VECINAL_DOCUMENT_KEY` (one key, for
//! deployments that keep secrets outside the data folder) or from the key file
//! `DATA_DIR/document-keys`, created with mode 0600 on first start.
//!
//! Key file format: one key per line, `ID BASE64`, oldest first; `#` starts a comment.
//!
//! A ring read from the key file is shared by every clone and re-reads the file when asked
//! for a key it does not hold, and before each new document is encrypted: `vecinal keys
//! rotate` changes the file while servers run, and they must read documents re-encrypted
//! under the new key and encrypt new ones with it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_FILE: &str = "document-keys";

#[derive(Clone)]
pub struct DocumentKey {
    pub id: String,
    bytes: [u8; 32],
}

impl DocumentKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// A key named after its own fingerprint, so the same key always has the same id.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let id = format!("k{}", &hex::encode(Sha256::digest(bytes))[..12]);
        Self { id, bytes }
    }

    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    fn line(&self) -> String {
        format!("{} {}", self.id, STANDARD.encode(self.bytes))
    }
}

impl fmt::Debug for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentKey({}, ***)", self.id)
    }
}

#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Arc<RwLock<Vec<DocumentKey>>>,
    source: Option<PathBuf>,
}

impl KeyRing {
    /// The ring of a fixed key (`VECINAL_DOCUMENT_KEY`), else of the key file in `data_dir`,
    /// created on first use.
    pub fn load(fixed: Option<[u8; 32]>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(bytes) = fixed {
            return Ok(Self::fixed(vec![DocumentKey::from_bytes(bytes)]));
        }
        let path = key_file_path(data_dir);
        if !path.exists() {
            create_key_file(&path)?;
            tracing::info!(path = %path.display(), "created the document key file; back it up apart from the database");
        }
        Self::read_file(&path)
    }

    /// A ring of these keys that never changes (the environment variable, tests).
    pub fn fixed(keys: Vec<DocumentKey>) -> Self {
        assert!(!keys.is_empty(), "a key ring is never empty");
        Self { keys: Arc::new(RwLock::new(keys)), source: None }
    }

    pub(crate) fn read_file(path: &Path) -> anyhow::Result<Self> {
        let keys = read_keys(path)?;
        Ok(Self { keys: Arc::new(RwLock::new(keys)), source: Some(path.to_path_buf()) })
    }

    /// Re-reads the key file, if the ring came from one. Every clone sees the result.
    pub fn reload(&self) -> anyhow::Result<()> {
        if let Some(path) = &self.source {
            let fresh = read_keys(path)?;
            *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        Ok(())
    }

    /// The key new documents are encrypted with, as last loaded.
    pub fn current(&self) -> DocumentKey {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).last().expect("a key ring is never empty").clone()
    }

    /// The key new documents are encrypted with, after re-reading the key file, so that a
    /// rotation started elsewhere is followed at once.
    pub fn current_fresh(&self) -> anyhow::Result<DocumentKey> {
        self.reload()?;
        Ok(self.current())
    }

    /// The key with this id as loaded, without looking at the file again.
    pub fn get(&self, id: &str) -> Option<DocumentKey> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).iter().find(|k| k.id == id).cloned()
    }

    /// The key with this id; when it is not loaded, the key file is read again first
    /// (a rotation elsewhere may have added it).
    pub fn find(&self, id: &str) -> anyhow::Result<Option<DocumentKey>> {
        if let Some(k) = self.get(id) {
            return Ok(Some(k));
        }
        self.reload()?;
        Ok(self.get(id))
    }

    /// The ids of the loaded keys, oldest first.
    pub fn ids(&self) -> Vec<String> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).iter().map(|k| k.id.clone()).collect()
    }

    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
}

pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

fn read_keys(path: &Path) -> anyhow::Result<Vec<DocumentKey>> {
    check_permissions(path)?;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((id, bytes)) = parse_line(line).with_context(|| format!("{}:{}", path.display(), n + 1))? else {
            continue;
        };
        keys.push(DocumentKey { id, bytes });
    }
    if keys.is_empty() {
        bail!("{} holds no key", path.display());
    }
    Ok(keys)
}

/// One line of the key file: `None` for blank lines and comments.
fn parse_line(line: &str) -> anyhow::Result<Option<(String, [u8; 32])>> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let (id, b64) = line.split_once(char::is_whitespace).context("expected 'ID BASE64'")?;
    let bytes: [u8; 32] = STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("the key is not 32 bytes of base64")?;
    Ok(Some((id.to_string(), bytes)))
}

/// Adds `key` as the new last line, so it encrypts from now on. The file is replaced
/// atomically: a reader sees the old file or the new one, never half of it.
pub fn append_key(path: &Path, key: &DocumentKey) -> anyhow::Result<()> {
    let mut text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&key.line());
    text.push('\n');
    replace_file(path, &text)
}

/// Removes the lines of the keys in `retired`, keeping comments and every other line.
/// Refuses to remove the last key.
pub fn remove_keys(path: &Path, retired: &[String]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut kept = String::new();
    let mut remaining = 0;
    for line in text.lines() {
        if let Ok(Some((id, _))) = parse_line(line) {
            if retired.contains(&id) {
                continue;
            }
            remaining += 1;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    if remaining == 0 {
        bail!("refusing to remove every key from {}", path.display());
    }
    replace_file(path, &kept)
}

/// Writes `text` to a private temporary file beside `path`, syncs it and renames it over
/// `path`.
fn replace_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn create_key_file(path: &Path) -> anyhow::Result<()> {
    let key = DocumentKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "# Vecinal document keys: ID BASE64, oldest first; the last one encrypts new documents.")?;
    writeln!(f, "# Without this file stored documents cannot be read. Back it up apart from the database.")?;
    writeln!(f, "{} {}", key.id, STANDARD.encode(key.bytes))?;
    f.sync_all()?;
    Ok(())
}

/// Refuses a key file that other users can read.
fn check_permissions(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by other users (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        create_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let ring = KeyRing::read_file(&path).unwrap();
        assert!(ring.get(&ring.current().id).is_some());
        assert_eq!(ring.ids().len(), 1);
        assert!(create_key_file(&path).is_err(), "an existing key file is never overwritten");
    }

    #[test]
    fn the_last_key_is_current() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let (a, b) = (DocumentKey::generate(), DocumentKey::generate());
        std::fs::write(
            &path,
            format!("# c\n{} {}\n{} {}\n", a.id, STANDARD.encode(a.bytes), b.id, STANDARD.encode(b.bytes)),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let ring = KeyRing::read_file(&path).unwrap();
        assert_eq!(ring.current().id, b.id);
        assert!(ring.get(&a.id).is_some());
    }

    #[test]
    fn a_world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        create_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(KeyRing::read_file(&path).is_err());
        }
    }

    #[test]
    fn appending_and_retiring_keys_keep_comments_and_the_file_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        create_key_file(&path).unwrap();
        let ring = KeyRing::read_file(&path).unwrap();
        let first = ring.current();
        let clone = ring.clone();

        let second = DocumentKey::generate();
        append_key(&path, &second).unwrap();
        assert_eq!(clone.current().id, first.id, "nothing changes until the file is read again");
        assert_eq!(clone.find(&second.id).unwrap().map(|k| k.id), Some(second.id.clone()), "a miss reads the file");
        assert_eq!(ring.current().id, second.id, "every clone shares the reloaded keys");
        assert_eq!(ring.ids(), [first.id.clone(), second.id.clone()]);

        remove_keys(&path, std::slice::from_ref(&first.id)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Vecinal document keys"), "comments stay");
        assert!(!text.contains(&first.id));
        assert_eq!(ring.current_fresh().unwrap().id, second.id);
        assert_eq!(ring.ids(), std::slice::from_ref(&second.id));
        assert!(remove_keys(&path, std::slice::from_ref(&second.id)).is_err(), "the last key never goes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(!path.with_extension("tmp").exists());
    }

    #[test]
    fn a_fixed_ring_never_reads_a_file() {
        let key = DocumentKey::from_bytes([7; 32]);
        let ring = KeyRing::fixed(vec![key.clone()]);
        assert!(ring.source().is_none());
        assert_eq!(ring.current_fresh().unwrap().id, key.id);
        assert!(ring.find("k000000000000").unwrap().is_none());
    }
}
