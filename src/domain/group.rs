//! Neighbourhood groups: their identifiers and rules.

use std::fmt;

/// A group's short name in URLs and membership numbers: 2–40 characters of lower-case
/// ASCII letters, digits and inner hyphens ("chacra-ii").
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GroupSlug(String);

impl GroupSlug {
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim();
        let ok = (2..=40).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for GroupSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupSlug({})", self.0)
    }
}

impl fmt::Display for GroupSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The chat invite link: an absolute `https://` URL. Shown only to active members.
pub fn parse_invite_link(raw: &str) -> Option<String> {
    let s = raw.trim();
    let u = url::Url::parse(s).ok()?;
    (u.scheme() == "https"
        && u.host_str().is_some()
        && s.len() <= 500
        && u.username().is_empty()
        && u.password().is_none())
    .then(|| u.to_string())
}

pub const DEFAULT_VALIDITY_DAYS: i32 = 365;
pub const DEFAULT_CERTIFICATE_MAX_AGE_DAYS: i32 = 90;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_with_hyphens() {
        assert_eq!(GroupSlug::parse(" chacra-ii ").unwrap().as_str(), "chacra-ii");
        assert!(GroupSlug::parse("centro").is_some());
        for bad in
            ["", "a", "Centro", "centro norte", "-centro", "centro-", "cen--tro", "cañadón", &"a".repeat(41), "../x"]
        {
            assert!(GroupSlug::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn invite_links_must_be_https() {
        assert_eq!(
            parse_invite_link("https://chat.example.org/invite/abc").as_deref(),
            Some("https://chat.example.org/invite/abc")
        );
        for bad in [
            "http://chat.example.org/x",
            "javascript:alert(1)",
            "chat.example.org",
            "",
            "https://user:pw@chat.example.org/",
        ] {
            assert!(parse_invite_link(bad).is_none(), "{bad:?}");
        }
    }
}
