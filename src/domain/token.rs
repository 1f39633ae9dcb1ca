//! Single-use secret tokens sent by mail or printed to the log. Only their SHA-256 is
//! stored, so a database leak does not hand out working links.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    ConfirmEmail,
    ResetPassword,
    Invite,
    Setup,
    /// Confirms a new e-mail address; the token row holds the address.
    ChangeEmail,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::ConfirmEmail => "confirm_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::Invite => "invite",
            TokenPurpose::Setup => "setup",
            TokenPurpose::ChangeEmail => "change_email",
        }
    }

    /// How long a token of this purpose stays usable.
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::ConfirmEmail => Duration::hours(48),
            TokenPurpose::ResetPassword => Duration::hours(1),
            TokenPurpose::Invite => Duration::days(7),
            TokenPurpose::Setup => Duration::hours(24),
            TokenPurpose::ChangeEmail => Duration::hours(24),
        }
    }
}

/// 256 random bits, URL-safe. Its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as it arrives in a URL or cookie. Anything that could not have been
    /// generated is refused before it reaches the database.
    pub fn from_untrusted(raw: &str) -> Option<Self> {
        (raw.len() == 43 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert!(SecretToken::from_untrusted(a.expose()).is_some());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(SecretToken::from_untrusted("").is_none());
        assert!(SecretToken::from_untrusted("short").is_none());
        assert!(SecretToken::from_untrusted(&"a".repeat(42)).is_none());
        assert!(SecretToken::from_untrusted(&format!("{}'", "a".repeat(42))).is_none());
    }

    #[test]
    fn hash_is_stable_and_differs_from_the_token() {
        let t = SecretToken::generate();
        assert_eq!(t.hash(), t.hash());
        assert_eq!(t.hash().len(), 64);
        assert!(!t.hash().contains(t.expose()));
    }

    #[test]
    fn lifetimes_follow_the_purpose() {
        assert_eq!(TokenPurpose::ConfirmEmail.lifetime(), Duration::hours(48));
        assert!(TokenPurpose::ResetPassword.lifetime() < TokenPurpose::ConfirmEmail.lifetime());
    }
}
