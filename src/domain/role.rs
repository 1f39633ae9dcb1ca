//! The three kinds of account.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    Resident,
    Officer,
    Commissioner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Resident, Role::Officer, Role::Commissioner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Officer => "officer",
            Role::Commissioner => "commissioner",
        }
    }

    /// Where a signed-in account lands.
    pub fn home(self) -> &'static str {
        match self {
            Role::Resident => "/me",
            Role::Officer => "/officer",
            Role::Commissioner => "/commissioner",
        }
    }

    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Resident)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown role '{s}'"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn each_role_has_its_own_home() {
        assert_eq!(Role::Resident.home(), "/me");
        assert_eq!(Role::Officer.home(), "/officer");
        assert_eq!(Role::Commissioner.home(), "/commissioner");
        assert!(!Role::Resident.is_staff() && Role::Officer.is_staff() && Role::Commissioner.is_staff());
    }
}
