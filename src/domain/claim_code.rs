//! The claim code printed on a desk receipt: how a resident whose account an officer created
//! at the police station later sets an e-mail address and a password.
//!
//! Ten characters from an alphabet without look-alikes (no 0/O, 1/I/L), so it can be read
//! aloud and typed from paper: 31¹⁰ ≈ 2⁴⁹ codes. It is stored as an argon2id hash only,
//! works once, for [`LIFETIME_DAYS`] days, and guesses are throttled like sign-in.

use std::fmt;

use chrono::Duration;
use rand::Rng;

/// Letters and digits that cannot be mistaken for one another.
pub const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const LENGTH: usize = 10;
pub const LIFETIME_DAYS: i64 = 90;

pub fn lifetime() -> Duration {
    Duration::days(LIFETIME_DAYS)
}

/// A claim code. Its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimCode(String);

impl ClaimCode {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        Self((0..LENGTH).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect())
    }

    /// A code as a person typed it: case, spaces and hyphens do not matter. Anything that
    /// could not have been printed is refused before any hash is checked.
    pub fn parse(raw: &str) -> Option<Self> {
        let s: String =
            raw.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        (s.len() == LENGTH && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(Self(s))
    }

    /// The characters the hash is made of.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// How the receipt prints it: two groups of five, easier to read aloud.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl fmt::Debug for ClaimCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClaimCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_unambiguous_characters_and_random() {
        let a = ClaimCode::generate();
        assert_eq!(a.expose().len(), LENGTH);
        assert!(a.expose().bytes().all(|b| ALPHABET.contains(&b)));
        for c in "01OIL".bytes() {
            assert!(!ALPHABET.contains(&c), "{} is ambiguous", c as char);
        }
        assert_ne!(a, ClaimCode::generate());
    }

    #[test]
    fn typed_codes_are_read_leniently_but_never_outside_the_alphabet() {
        let a = ClaimCode::generate();
        assert_eq!(ClaimCode::parse(&a.display()), Some(a.clone()));
        assert_eq!(ClaimCode::parse(&format!(" {} ", a.display().to_lowercase())), Some(a.clone()));
        assert_eq!(ClaimCode::parse("ABCDE FGHJK").map(|c| c.display()), Some("ABCDE-FGHJK".to_string()));
        assert!(ClaimCode::parse("ABCDE-FGHJ").is_none(), "too short");
        assert!(ClaimCode::parse("ABCDE-FGHJKM").is_none(), "too long");
        assert!(ClaimCode::parse("ABCDE-FGHJ0").is_none(), "0 is never printed");
        assert!(ClaimCode::parse("ÁBCDE-FGHJK").is_none());
        assert!(ClaimCode::parse("").is_none());
    }

    #[test]
    fn debug_hides_the_code() {
        let a = ClaimCode::generate();
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
