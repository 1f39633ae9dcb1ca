//! Document encryption keys. A key ring holds every key still needed to read stored
//! documents; the newest encrypts. Keys come from `VECINAL_DOCUMENT_KEY` (one key, for
//! deployments that keep secrets outside the data folder) or from the key file
//! `DATA_DIR/document-keys`, created with mode 0600 on first start.
//!
//! Key file format: one key per line, `ID BASE64`, oldest first; `#` starts a comment.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Settings;

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

    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }
}

impl fmt::Debug for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentKey({}, ***)", self.id)
    }
}

#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Vec<DocumentKey>,
    source: Option<PathBuf>,
}

impl KeyRing {
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(bytes) = &settings.document_key {
            return Ok(Self { keys: vec![DocumentKey::from_bytes(bytes.0)], source: None });
        }
        let path = settings.data_dir.join(KEY_FILE);
        if !path.exists() {
            create_key_file(&path)?;
            tracing::info!(path = %path.display(), "created the document key file; back it up apart from the database");
        }
        Self::read_file(&path)
    }

    fn read_file(path: &Path) -> anyhow::Result<Self> {
        check_permissions(path)?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (id, b64) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("{}:{}: expected 'ID BASE64'", path.display(), n + 1))?;
            let bytes: [u8; 32] = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{}:{}: the key is not 32 bytes of base64", path.display(), n + 1))?;
            keys.push(DocumentKey { id: id.to_string(), bytes });
        }
        if keys.is_empty() {
            bail!("{} holds no key", path.display());
        }
        Ok(Self { keys, source: Some(path.to_path_buf()) })
    }

    /// The key new documents are encrypted with.
    pub fn current(&self) -> &DocumentKey {
        self.keys.last().expect("a key ring is never empty")
    }

    pub fn get(&self, id: &str) -> Option<&DocumentKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
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
}
