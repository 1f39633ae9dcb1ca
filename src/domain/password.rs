//! Password policy: length bounds and a strength estimate, no composition rules
//! (NIST SP 800-63B). Common and guessable passwords are refused using zxcvbn, which
//! carries frequency lists of leaked passwords, names and words.

use std::fmt;

/// A password that passed the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    TooCommon,
}

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;
    /// zxcvbn score (0–4) a password must reach: 3 means "safely unguessable" against
    /// offline attacks on a slow hash.
    const MIN_SCORE: u8 = 3;

    /// Checks a new password. `personal` holds the person's own data (email, name), which
    /// must not be the basis of the password.
    pub fn parse(raw: &str, personal: &[&str]) -> Result<Self, PasswordProblem> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(PasswordProblem::TooShort);
        }
        if n > Self::MAX_CHARS {
            return Err(PasswordProblem::TooLong);
        }
        let mut inputs: Vec<&str> = personal.iter().copied().filter(|s| !s.is_empty()).collect();
        inputs.extend(["vecinal", "vecinos", "barrio", "policia", "rio grande", "tierra del fuego"]);
        // Email local parts and name words are where people start from.
        let extra: Vec<String> = personal
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect();
        inputs.extend(extra.iter().map(String::as_str));
        let score: u8 = zxcvbn::zxcvbn(raw, &inputs).score().into();
        if score < Self::MIN_SCORE {
            return Err(PasswordProblem::TooCommon);
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_bounded() {
        assert_eq!(Password::parse("short-Pw1!", &[]).unwrap_err(), PasswordProblem::TooShort);
        assert_eq!(Password::parse(&"x".repeat(129), &[]).unwrap_err(), PasswordProblem::TooLong);
        // Counted in characters, not bytes: 12 accented letters are long enough.
        assert_ne!(Password::parse("ñandúñandúñá", &[]).err(), Some(PasswordProblem::TooShort));
    }

    #[test]
    fn common_passwords_are_refused() {
        for weak in ["password1234", "123456789012", "qwertyuiop12", "aaaaaaaaaaaa", "contraseña123"] {
            assert_eq!(Password::parse(weak, &[]).unwrap_err(), PasswordProblem::TooCommon, "{weak}");
        }
    }

    #[test]
    fn personal_data_is_not_a_password() {
        let personal = ["juan.perez@example.com", "Juan Pérez"];
        assert_eq!(
            Password::parse("juanperez2024", &personal).unwrap_err(),
            PasswordProblem::TooCommon
        );
    }

    #[test]
    fn long_unusual_passphrases_pass_without_composition_rules() {
        assert!(Password::parse("glaciar tortuga bandoneón mate", &[]).is_ok());
        assert!(Password::parse("vk3-lumbre-ocho-quillay", &[]).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::parse("vk3-lumbre-ocho-quillay", &[]).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
