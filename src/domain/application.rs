//! Applications: the data a resident gives and the life cycle an application goes through.
//!
//! ```text
//! submitted ─claim→ in_review ─approve→ approved (membership issued)
//!     ▲  ▲              │ │ └─reject→ rejected
//!     │  └──release─────┘ └─request info→ needs_info ─resubmit→ submitted
//!  any open state ─withdraw→ withdrawn
//!  two-approval groups: in_review ─approve→ awaiting_second ─confirm (another officer)→ approved
//!                                                          └─reject→ rejected
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::Day;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Status {
    Submitted,
    InReview,
    NeedsInfo,
    AwaitingSecond,
    Approved,
    Rejected,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Submitted,
        Status::InReview,
        Status::NeedsInfo,
        Status::AwaitingSecond,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
    ];
    pub const OPEN: [Status; 4] = [Status::Submitted, Status::InReview, Status::NeedsInfo, Status::AwaitingSecond];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::NeedsInfo => "needs_info",
            Status::AwaitingSecond => "awaiting_second",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| format!("unknown status '{s}'"))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on an application, as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The resident who applied.
    Applicant,
    /// An officer of the application's group.
    Officer {
        /// Holds the claim on the application.
        is_claimer: bool,
        /// Gave the first of two approvals.
        is_first_approver: bool,
        /// Took the application at the police station's desk: entering a person and
        /// admitting them are never one officer's act, whatever the group's rule.
        took_it_at_desk: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Withdraw,
    Resubmit,
    Claim,
    Release,
    /// `two_approvals`: the group needs a second officer to confirm.
    Approve {
        two_approvals: bool,
    },
    Confirm,
    Reject,
    RequestInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    /// The action does not apply in this state.
    NotAllowedNow,
    /// The action exists in this state but not for this actor.
    NotYours,
}

/// The state after `actor` does `action` to an application in `status`.
pub fn transition(status: Status, actor: Actor, action: Action) -> Result<Status, TransitionError> {
    use Action::*;
    use Status::*;
    use TransitionError::*;
    match (actor, action) {
        (Actor::Applicant, Withdraw) if status.is_open() => Ok(Withdrawn),
        (Actor::Applicant, Resubmit) if status == NeedsInfo => Ok(Submitted),
        (Actor::Applicant, _) if status.is_open() && !matches!(action, Withdraw | Resubmit) => Err(NotYours),
        (Actor::Applicant, _) => Err(NotAllowedNow),

        (Actor::Officer { .. }, Withdraw | Resubmit) => Err(NotYours),
        (Actor::Officer { .. }, Claim) if status == Submitted => Ok(InReview),
        (Actor::Officer { is_claimer, took_it_at_desk, .. }, Release | Approve { .. } | Reject | RequestInfo)
            if status == InReview =>
        {
            if !is_claimer || (took_it_at_desk && matches!(action, Approve { .. })) {
                return Err(NotYours);
            }
            Ok(match action {
                Release => Submitted,
                Approve { two_approvals: true } => AwaitingSecond,
                Approve { two_approvals: false } => Approved,
                Reject => Rejected,
                _ => NeedsInfo,
            })
        }
        (Actor::Officer { is_first_approver, took_it_at_desk, .. }, Confirm | Reject) if status == AwaitingSecond => {
            if is_first_approver || (took_it_at_desk && action == Confirm) {
                Err(NotYours)
            } else if action == Confirm {
                Ok(Approved)
            } else {
                Ok(Rejected)
            }
        }
        (Actor::Officer { .. }, _) => Err(NotAllowedNow),
    }
}

/// The kinds of document an application carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    ResidencyProof,
    CriminalRecord,
    IdentityDocument,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] =
        [DocumentKind::ResidencyProof, DocumentKind::CriminalRecord, DocumentKind::IdentityDocument];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ResidencyProof => "residency_proof",
            DocumentKind::CriminalRecord => "criminal_record",
            DocumentKind::IdentityDocument => "identity_document",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            DocumentKind::ResidencyProof => "document.kind.residency_proof",
            DocumentKind::CriminalRecord => "document.kind.criminal_record",
            DocumentKind::IdentityDocument => "document.kind.identity_document",
        }
    }

    /// Kinds as stored in `requested_kinds`: comma-separated, in a fixed order.
    pub fn join(kinds: &[DocumentKind]) -> String {
        let mut k = kinds.to_vec();
        k.sort();
        k.dedup();
        k.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
    }

    pub fn split(stored: &str) -> Vec<DocumentKind> {
        stored.split(',').filter_map(|s| s.parse().ok()).collect()
    }
}

impl FromStr for DocumentKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// An Argentine national identity number (DNI): 7 or 8 digits, dots allowed as
/// thousands separators ("30.123.456"). Stored as digits only.
#[derive(Clone, PartialEq, Eq)]
pub struct Dni(String);

impl Dni {
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim();
        if s.is_empty() || s.starts_with('.') || s.ends_with('.') || s.contains("..") {
            return None;
        }
        if s.contains('.') {
            // Dots must group thousands: 1–2 digits, then groups of exactly 3.
            let groups: Vec<&str> = s.split('.').collect();
            let first_ok = (1..=2).contains(&groups[0].len());
            if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
                return None;
            }
        }
        let digits: String = s.chars().filter(|c| *c != '.').collect();
        let ok =
            (7..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        ok.then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "30.123.456"
    pub fn formatted(digits: &str) -> String {
        let mut out = String::new();
        let n = digits.len();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (n - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for Dni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dni(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPhone;

/// An optional phone number: digits with spaces, dashes, parentheses and a leading `+`;
/// 6 to 15 digits.
pub fn parse_phone(raw: &str) -> Result<Option<String>, InvalidPhone> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let allowed = s.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -()".contains(c) || (c == '+' && i == 0));
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if allowed && (6..=15).contains(&digits) && s.len() <= 30 { Ok(Some(s.to_string())) } else { Err(InvalidPhone) }
}

/// A street address as typed: 5–200 characters after trimming, no control characters.
pub fn parse_address(raw: &str) -> Option<String> {
    let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = folded.chars().count();
    ((5..=200).contains(&n) && !raw.chars().any(|c| c.is_control() && !c.is_whitespace())).then_some(folded)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateDateProblem {
    InTheFuture,
    TooOld,
}

/// A criminal-record certificate counts when issued no later than `today` and no more
/// than `max_age_days` before it. The issue date is a [`Day`] from the form, so it lies in
/// the range a request may name, and the day count between the two is plain integer
/// arithmetic on day numbers.
pub fn check_certificate_date(
    issued_on: Day,
    today: NaiveDate,
    max_age_days: i32,
) -> Result<(), CertificateDateProblem> {
    let age = issued_on.days_until(today);
    if age < 0 {
        return Err(CertificateDateProblem::InTheFuture);
    }
    if age > i64::from(max_age_days) {
        return Err(CertificateDateProblem::TooOld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const OFFICER: Actor = Actor::Officer { is_claimer: false, is_first_approver: false, took_it_at_desk: false };
    const CLAIMER: Actor = Actor::Officer { is_claimer: true, is_first_approver: false, took_it_at_desk: false };
    const FIRST_APPROVER: Actor = Actor::Officer { is_claimer: true, is_first_approver: true, took_it_at_desk: false };
    const DESK_TAKER: Actor = Actor::Officer { is_claimer: false, is_first_approver: false, took_it_at_desk: true };
    const DESK_TAKER_CLAIMER: Actor =
        Actor::Officer { is_claimer: true, is_first_approver: false, took_it_at_desk: true };

    #[test]
    fn the_happy_paths() {
        use Action::*;
        use Status::*;
        assert_eq!(transition(Submitted, OFFICER, Claim), Ok(InReview));
        assert_eq!(transition(InReview, CLAIMER, Approve { two_approvals: false }), Ok(Approved));
        assert_eq!(transition(InReview, CLAIMER, Approve { two_approvals: true }), Ok(AwaitingSecond));
        assert_eq!(transition(AwaitingSecond, OFFICER, Confirm), Ok(Approved));
        assert_eq!(transition(AwaitingSecond, OFFICER, Reject), Ok(Rejected));
        assert_eq!(transition(InReview, CLAIMER, Reject), Ok(Rejected));
        assert_eq!(transition(InReview, CLAIMER, RequestInfo), Ok(NeedsInfo));
        assert_eq!(transition(NeedsInfo, Actor::Applicant, Resubmit), Ok(Submitted));
        assert_eq!(transition(InReview, CLAIMER, Release), Ok(Submitted));
    }

    #[test]
    fn the_applicant_can_withdraw_only_open_applications() {
        for s in Status::ALL {
            let r = transition(s, Actor::Applicant, Action::Withdraw);
            if s.is_open() {
                assert_eq!(r, Ok(Status::Withdrawn), "{s}");
            } else {
                assert_eq!(r, Err(TransitionError::NotAllowedNow), "{s}");
            }
        }
    }

    #[test]
    fn only_the_claimer_decides() {
        for action in [Action::Release, Action::Approve { two_approvals: false }, Action::Reject, Action::RequestInfo] {
            assert_eq!(transition(Status::InReview, OFFICER, action), Err(TransitionError::NotYours), "{action:?}");
        }
    }

    #[test]
    fn the_first_approver_cannot_confirm_their_own_approval() {
        assert_eq!(transition(Status::AwaitingSecond, FIRST_APPROVER, Action::Confirm), Err(TransitionError::NotYours));
        assert_eq!(transition(Status::AwaitingSecond, FIRST_APPROVER, Action::Reject), Err(TransitionError::NotYours));
    }

    #[test]
    fn the_officer_who_took_it_at_the_desk_never_approves_it() {
        use Action::*;
        use Status::*;
        for two_approvals in [false, true] {
            assert_eq!(
                transition(InReview, DESK_TAKER_CLAIMER, Approve { two_approvals }),
                Err(TransitionError::NotYours)
            );
        }
        assert_eq!(transition(AwaitingSecond, DESK_TAKER, Confirm), Err(TransitionError::NotYours));
        // Everything else stays open to them: claiming, asking, rejecting, letting go.
        assert_eq!(transition(Submitted, DESK_TAKER, Claim), Ok(InReview));
        assert_eq!(transition(InReview, DESK_TAKER_CLAIMER, RequestInfo), Ok(NeedsInfo));
        assert_eq!(transition(InReview, DESK_TAKER_CLAIMER, Reject), Ok(Rejected));
        assert_eq!(transition(InReview, DESK_TAKER_CLAIMER, Release), Ok(Submitted));
        assert_eq!(transition(AwaitingSecond, DESK_TAKER, Reject), Ok(Rejected));
    }

    #[test]
    fn closed_applications_do_not_move() {
        for s in [Status::Approved, Status::Rejected, Status::Withdrawn] {
            for action in [
                Action::Claim,
                Action::Release,
                Action::Approve { two_approvals: false },
                Action::Confirm,
                Action::Reject,
                Action::RequestInfo,
            ] {
                assert_eq!(transition(s, CLAIMER, action), Err(TransitionError::NotAllowedNow), "{s} {action:?}");
            }
            assert_eq!(transition(s, Actor::Applicant, Action::Resubmit), Err(TransitionError::NotAllowedNow));
        }
    }

    #[test]
    fn every_state_and_action_has_an_answer() {
        // Exhaustive: no combination panics, and only the listed ones succeed.
        let actions = [
            Action::Withdraw,
            Action::Resubmit,
            Action::Claim,
            Action::Release,
            Action::Approve { two_approvals: false },
            Action::Approve { two_approvals: true },
            Action::Confirm,
            Action::Reject,
            Action::RequestInfo,
        ];
        let mut ok = 0;
        for s in Status::ALL {
            for a in actions {
                for actor in [Actor::Applicant, OFFICER, CLAIMER, FIRST_APPROVER, DESK_TAKER, DESK_TAKER_CLAIMER] {
                    if transition(s, actor, a).is_ok() {
                        ok += 1;
                    }
                }
            }
        }
        // withdraw: 4 open states; resubmit: 1; claim: 3 officers; in_review decisions: 2 claimers × 5;
        // awaiting_second: 2 non-first officers × 2. The desk takers: claim (2), the claiming
        // one's release, reject and request (3), and rejection at awaiting_second (2).
        assert_eq!(ok, 4 + 1 + 3 + 10 + 4 + 2 + 3 + 2);
    }

    #[test]
    fn applicants_cannot_do_officer_actions() {
        assert_eq!(transition(Status::Submitted, Actor::Applicant, Action::Claim), Err(TransitionError::NotYours));
        assert_eq!(transition(Status::NeedsInfo, OFFICER, Action::Resubmit), Err(TransitionError::NotYours));
    }

    #[test]
    fn dni_accepts_digits_with_optional_thousands_dots() {
        assert_eq!(Dni::parse("30123456").unwrap().as_str(), "30123456");
        assert_eq!(Dni::parse(" 30.123.456 ").unwrap().as_str(), "30123456");
        assert_eq!(Dni::parse("5.123.456").unwrap().as_str(), "5123456");
        assert_eq!(Dni::parse("5123456").unwrap().as_str(), "5123456");
        for bad in [
            "",
            "123456",
            "123456789",
            "30.12.3456",
            "3012345a",
            ".30123456",
            "30123456.",
            "30..123456",
            "01234567",
            "30 123 456",
            "301.23.456",
        ] {
            assert!(Dni::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(Dni::formatted("30123456"), "30.123.456");
        assert_eq!(Dni::formatted("5123456"), "5.123.456");
    }

    #[test]
    fn certificate_dates() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let day = |d: NaiveDate| Day::new(d).unwrap();
        assert_eq!(check_certificate_date(day(today), today, 90), Ok(()));
        assert_eq!(check_certificate_date(day(today - Duration::days(90)), today, 90), Ok(()));
        assert_eq!(
            check_certificate_date(day(today - Duration::days(91)), today, 90),
            Err(CertificateDateProblem::TooOld)
        );
        assert_eq!(
            check_certificate_date(day(today + Duration::days(1)), today, 90),
            Err(CertificateDateProblem::InTheFuture)
        );
        // The ends of the range a form may send.
        let first = Day::parse("1900-01-01").unwrap();
        let last = Day::parse("2999-12-31").unwrap();
        assert_eq!(check_certificate_date(first, today, 365), Err(CertificateDateProblem::TooOld));
        assert_eq!(check_certificate_date(last, today, 365), Err(CertificateDateProblem::InTheFuture));
    }

    #[test]
    fn phones_and_addresses() {
        assert_eq!(parse_phone(""), Ok(None));
        assert_eq!(parse_phone("+54 2964 123456"), Ok(Some("+54 2964 123456".into())));
        assert!(parse_phone("12345").is_err());
        assert!(parse_phone("call me").is_err());
        assert!(parse_phone("54+123456").is_err());
        assert_eq!(parse_address("  Av.   San Martín 1234 ").as_deref(), Some("Av. San Martín 1234"));
        assert!(parse_address("abc").is_none());
        assert!(parse_address(&"x".repeat(201)).is_none());
    }

    #[test]
    fn requested_kinds_round_trip() {
        let s = DocumentKind::join(&[
            DocumentKind::IdentityDocument,
            DocumentKind::ResidencyProof,
            DocumentKind::IdentityDocument,
        ]);
        assert_eq!(s, "residency_proof,identity_document");
        assert_eq!(DocumentKind::split(&s), vec![DocumentKind::ResidencyProof, DocumentKind::IdentityDocument]);
        assert!(DocumentKind::split("").is_empty());
    }
}
