//! What a desk notice tells a resident who has no confirmed e-mail address: the decisions
//! on an application and the changes to a membership that would otherwise be mailed.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum NoticeKind {
    Approved,
    Rejected,
    InfoRequested,
    Suspended,
    Reinstated,
    Revoked,
    /// The membership's last day is near (the 30- and 7-day reminders) or has passed.
    RenewalDue,
}

impl NoticeKind {
    /// The table's CHECK lists the same.
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::Approved,
        NoticeKind::Rejected,
        NoticeKind::InfoRequested,
        NoticeKind::Suspended,
        NoticeKind::Reinstated,
        NoticeKind::Revoked,
        NoticeKind::RenewalDue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Approved => "approved",
            NoticeKind::Rejected => "rejected",
            NoticeKind::InfoRequested => "info_requested",
            NoticeKind::Suspended => "suspended",
            NoticeKind::Reinstated => "reinstated",
            NoticeKind::Revoked => "revoked",
            NoticeKind::RenewalDue => "renewal_due",
        }
    }

    /// Whether the notice is about a membership (and names it) rather than an application.
    pub fn about_membership(self) -> bool {
        !matches!(self, NoticeKind::Approved | NoticeKind::Rejected | NoticeKind::InfoRequested)
    }
}

impl std::fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoticeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown notice kind '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written() {
        for k in NoticeKind::ALL {
            assert_eq!(k.as_str().parse::<NoticeKind>(), Ok(k));
        }
        assert!("expired".parse::<NoticeKind>().is_err());
    }

    #[test]
    fn both_migrations_allow_exactly_these_kinds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for backend in ["sqlite", "postgres"] {
            let up = std::fs::read_to_string(root.join(backend).join("2026-11-30-000070_membership_notices/up.sql"))
                .unwrap();
            for k in NoticeKind::ALL {
                assert!(up.contains(&format!("'{}'", k.as_str())), "{backend}: {k}");
            }
        }
    }
}
