//! Email addresses and personal names as entered in forms.

use std::fmt;

/// A syntactically plausible email address, trimmed and lower-cased so that one mailbox is
/// one account whatever the capitalisation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProblem {
    Empty,
    TooLong,
    Invalid,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, EmailProblem> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailProblem::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(EmailProblem::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailProblem::Invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(Self(s)) } else { Err(EmailProblem::Invalid) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    // Addresses are personal data: logs get the domain only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.rsplit_once('@') {
            Some((_, domain)) => write!(f, "Email(***@{domain})"),
            None => f.write_str("Email(***)"),
        }
    }
}

/// A person's full name: 2 to 120 characters after trimming, inner white space folded, no
/// control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    TooShort,
    TooLong,
    Invalid,
}

impl PersonName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, NameProblem> {
        if raw.chars().any(char::is_control) {
            return Err(NameProblem::Invalid);
        }
        let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = folded.chars().count();
        if n < 2 {
            return Err(NameProblem::TooShort);
        }
        if n > Self::MAX_CHARS {
            return Err(NameProblem::TooLong);
        }
        if !folded.chars().any(char::is_alphabetic) {
            return Err(NameProblem::Invalid);
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised() {
        assert_eq!(Email::parse("  Ana.Gomez@Example.COM ").unwrap().as_str(), "ana.gomez@example.com");
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "ana..b@example.com",
            ".ana@example.com",
            "ana@-example.com",
            "ana gomez@example.com",
            "ana@exa mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(Email::parse(""), Err(EmailProblem::Empty));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailProblem::TooLong));
    }

    #[test]
    fn email_accepts_common_forms() {
        for ok in ["a@b.co", "juan+vecinal@correo.com.ar", "maría@ejemplo.ar".replace('í', "i").as_str()] {
            assert!(Email::parse(ok).is_ok(), "{ok:?} should be accepted");
        }
    }

    #[test]
    fn email_debug_hides_the_mailbox() {
        let e = Email::parse("secret.person@example.com").unwrap();
        assert!(!format!("{e:?}").contains("secret"));
    }

    #[test]
    fn names_are_folded_and_bounded() {
        assert_eq!(PersonName::parse("  María   José  Pérez ").unwrap().as_str(), "María José Pérez");
        assert_eq!(PersonName::parse("A"), Err(NameProblem::TooShort));
        assert_eq!(PersonName::parse(&"a".repeat(121)), Err(NameProblem::TooLong));
        assert_eq!(PersonName::parse("Ana\u{0}Gómez"), Err(NameProblem::Invalid));
        assert_eq!(PersonName::parse("12345"), Err(NameProblem::Invalid));
    }
}
