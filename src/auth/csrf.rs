//! CSRF protection by signed double submit: the browser holds a random value in an
//! HttpOnly cookie, and every form carries HMAC(server secret, that value). A page on
//! another site can make the browser send the cookie but can neither read it nor compute
//! the matching token. The secret lives in the database, so every instance agrees on it.
//! Form posts are also refused when their `Origin` names another site.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::token::SecretToken;

#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The token forms carry for a browser holding `cookie_value`.
    pub fn token_for(&self, cookie_value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length works for HMAC");
        mac.update(b"vecinal csrf v1\0");
        mac.update(cookie_value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn verify(&self, cookie_value: &str, submitted: &str) -> bool {
        let expected = self.token_for(cookie_value);
        expected.as_bytes().ct_eq(submitted.as_bytes()).into()
    }
}

/// A fresh cookie value.
pub fn new_cookie_value() -> String {
    SecretToken::generate().expose().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_only_matches_its_own_cookie_and_key() {
        let key = CsrfKey::from_bytes([7; 32]);
        let other_key = CsrfKey::from_bytes([8; 32]);
        let cookie = new_cookie_value();
        let token = key.token_for(&cookie);
        assert!(key.verify(&cookie, &token));
        assert!(!key.verify(&new_cookie_value(), &token));
        assert!(!other_key.verify(&cookie, &token));
        assert!(!key.verify(&cookie, ""));
        assert!(!key.verify(&cookie, &cookie));
    }
}
