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

/// Slugs that are path segments of the management pages (`/commissioner/groups/new`), so a
/// group with one could never be opened for editing.
const RESERVED_SLUGS: [&str; 1] = ["new"];

/// A group's settings as a commissioner types them, before any check.
#[derive(Debug, Clone, Copy)]
pub struct RawGroup<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub description: &'a str,
    pub area: &'a str,
    pub invite_link: &'a str,
    pub validity_days: &'a str,
    pub certificate_max_age_days: &'a str,
    pub two_approvals: bool,
}

/// A group's settings that passed every rule (whether the slug is free is the database's
/// question, not this one's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettings {
    pub name: String,
    pub slug: GroupSlug,
    pub description: String,
    /// Streets and boundaries, free text, so residents can tell which group is theirs.
    pub area: String,
    pub invite_link: String,
    pub validity_days: i32,
    pub certificate_max_age_days: i32,
    pub two_approvals: bool,
}

/// One rule a field broke; a form shows every one at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupProblem {
    Name,
    Slug,
    SlugReserved,
    Description,
    Area,
    InviteLink,
    ValidityDays,
    CertificateMaxAgeDays,
}

impl GroupSettings {
    pub const NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=80;
    pub const DESCRIPTION_MAX_CHARS: usize = 500;
    pub const AREA_CHARS: std::ops::RangeInclusive<usize> = 1..=2000;
    /// The same bounds as the CHECK constraints of the `groups` table.
    pub const VALIDITY_DAYS: std::ops::RangeInclusive<i32> = 1..=3650;
    pub const CERTIFICATE_MAX_AGE_DAYS: std::ops::RangeInclusive<i32> = 1..=365;

    pub fn parse(raw: &RawGroup<'_>) -> Result<Self, Vec<GroupProblem>> {
        let mut problems = Vec::new();
        let name = raw.name.trim();
        if !Self::NAME_CHARS.contains(&name.chars().count()) || name.chars().any(char::is_control) {
            problems.push(GroupProblem::Name);
        }
        let slug = GroupSlug::parse(raw.slug);
        match &slug {
            None => problems.push(GroupProblem::Slug),
            Some(s) if RESERVED_SLUGS.contains(&s.as_str()) => problems.push(GroupProblem::SlugReserved),
            Some(_) => {}
        }
        let description = multiline(raw.description);
        if description.chars().count() > Self::DESCRIPTION_MAX_CHARS || has_stray_control(&description) {
            problems.push(GroupProblem::Description);
        }
        let area = multiline(raw.area);
        if !Self::AREA_CHARS.contains(&area.chars().count()) || has_stray_control(&area) {
            problems.push(GroupProblem::Area);
        }
        let invite_link = parse_invite_link(raw.invite_link);
        if invite_link.is_none() {
            problems.push(GroupProblem::InviteLink);
        }
        let validity_days = days(raw.validity_days, Self::VALIDITY_DAYS);
        if validity_days.is_none() {
            problems.push(GroupProblem::ValidityDays);
        }
        let certificate_max_age_days = days(raw.certificate_max_age_days, Self::CERTIFICATE_MAX_AGE_DAYS);
        if certificate_max_age_days.is_none() {
            problems.push(GroupProblem::CertificateMaxAgeDays);
        }
        match (slug, invite_link, validity_days, certificate_max_age_days) {
            (Some(slug), Some(invite_link), Some(validity_days), Some(certificate_max_age_days))
                if problems.is_empty() =>
            {
                Ok(Self {
                    name: name.to_string(),
                    slug,
                    description,
                    area,
                    invite_link,
                    validity_days,
                    certificate_max_age_days,
                    two_approvals: raw.two_approvals,
                })
            }
            _ => Err(problems),
        }
    }
}

/// Text from a textarea: trimmed, with the browser's CRLF line ends made LF so the length
/// limit counts what the person wrote.
fn multiline(raw: &str) -> String {
    raw.trim().replace("\r\n", "\n")
}

/// Control characters other than line breaks and tabs (PostgreSQL refuses NUL in text).
fn has_stray_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn days(raw: &str, bounds: std::ops::RangeInclusive<i32>) -> Option<i32> {
    raw.trim().parse::<i32>().ok().filter(|n| bounds.contains(n))
}

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

    fn raw() -> RawGroup<'static> {
        RawGroup {
            name: " Chacra II ",
            slug: "chacra-ii",
            description: "Grupo de alerta del barrio.",
            area: "Entre Av. Santa Fe,\r\nAv. Belgrano y la costa.",
            invite_link: "https://chat.example.org/invite/chacra-ii",
            validity_days: "365",
            certificate_max_age_days: " 90 ",
            two_approvals: true,
        }
    }

    #[test]
    fn group_settings_are_trimmed_and_typed() {
        let g = GroupSettings::parse(&raw()).unwrap();
        assert_eq!(g.name, "Chacra II");
        assert_eq!(g.slug.as_str(), "chacra-ii");
        assert_eq!(g.area, "Entre Av. Santa Fe,\nAv. Belgrano y la costa.");
        assert_eq!((g.validity_days, g.certificate_max_age_days, g.two_approvals), (365, 90, true));
        let no_description = GroupSettings::parse(&RawGroup { description: "  ", ..raw() }).unwrap();
        assert_eq!(no_description.description, "");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = RawGroup {
            name: "X",
            slug: "Chacra II",
            description: &"d".repeat(501),
            area: " ",
            invite_link: "http://chat.example.org/x",
            validity_days: "0",
            certificate_max_age_days: "noventa",
            two_approvals: false,
        };
        use GroupProblem::*;
        assert_eq!(
            GroupSettings::parse(&bad).unwrap_err(),
            vec![Name, Slug, Description, Area, InviteLink, ValidityDays, CertificateMaxAgeDays]
        );
    }

    #[test]
    fn group_limits_sit_where_the_rules_say() {
        let ok = |r: RawGroup<'_>| GroupSettings::parse(&r).is_ok();
        let a80 = "a".repeat(80);
        let a81 = "a".repeat(81);
        assert!(ok(RawGroup { name: "Ab", ..raw() }) && ok(RawGroup { name: &a80, ..raw() }));
        assert!(!ok(RawGroup { name: &a81, ..raw() }) && !ok(RawGroup { name: "A\u{0}b", ..raw() }));
        let d500 = "d".repeat(500);
        assert!(ok(RawGroup { description: &d500, ..raw() }));
        let a2000 = "a".repeat(2000);
        let a2001 = "a".repeat(2001);
        assert!(ok(RawGroup { area: "x", ..raw() }) && ok(RawGroup { area: &a2000, ..raw() }));
        assert!(!ok(RawGroup { area: &a2001, ..raw() }) && !ok(RawGroup { area: "a\u{0}b", ..raw() }));
        for (v, good) in [("1", true), ("3650", true), ("3651", false), ("-5", false), ("1.5", false), ("", false)] {
            assert_eq!(ok(RawGroup { validity_days: v, ..raw() }), good, "validity {v:?}");
        }
        for (v, good) in [("1", true), ("365", true), ("366", false), ("0", false)] {
            assert_eq!(ok(RawGroup { certificate_max_age_days: v, ..raw() }), good, "certificate {v:?}");
        }
    }

    #[test]
    fn the_slug_of_the_new_group_page_is_reserved() {
        assert_eq!(
            GroupSettings::parse(&RawGroup { slug: "new", ..raw() }).unwrap_err(),
            vec![GroupProblem::SlugReserved]
        );
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
