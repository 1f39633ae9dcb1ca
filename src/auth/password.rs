//! Argon2id hashing on the blocking pool, at most one hash per core at a time, so a burst
//! of sign-ins neither stalls the async workers nor exhausts memory (19 MiB per hash).

use std::sync::Arc;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when no account matches, so an unknown email takes as long as a
    /// wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let dummy_hash = hash_blocking("vecinal dummy password for timing")?;
        Ok(Self { permits: Arc::new(Semaphore::new(cores)), dummy_hash: Arc::new(dummy_hash) })
    }

    pub async fn hash(&self, password: &Password) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let plain = password.expose().to_string();
        tokio::task::spawn_blocking(move || hash_blocking(&plain)).await?.map_err(AppError::Internal)
    }

    /// Whether `plain` matches `stored`. With no stored hash a dummy one is checked and the
    /// answer is always `false`.
    pub async fn verify(&self, plain: &str, stored: Option<String>) -> AppResult<bool> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let plain = plain.to_string();
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str().to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&plain, &hash)).await?;
        Ok(ok && real)
    }
}

fn hash_blocking(plain: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

fn verify_blocking(plain: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(plain.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Hashes synchronously; for the command line, where no runtime is involved.
pub fn hash_now(password: &Password) -> anyhow::Result<String> {
    hash_blocking(password.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_blocking("una clave cualquiera").unwrap();
        let b = hash_blocking("una clave cualquiera").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_blocking("una clave cualquiera", &a));
        assert!(!verify_blocking("otra clave", &a));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
