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
    /// Estimated guesses (log10) a password must need. zxcvbn's score 3 starts at 8
    /// ("safely unguessable" against offline attacks on a slow hash); one order of magnitude
    /// more keeps out name-plus-year passwords that sit right at that edge.
    const MIN_GUESSES_LOG10: f64 = 9.0;

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
        inputs.extend(SPANISH_COMMON);
        // Email local parts and name words are where people start from.
        let extra: Vec<String> = personal
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect();
        inputs.extend(extra.iter().map(String::as_str));
        if zxcvbn::zxcvbn(raw, &inputs).guesses_log10() < Self::MIN_GUESSES_LOG10 {
            return Err(PasswordProblem::TooCommon);
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// zxcvbn's dictionaries are English; these are words Spanish-speaking users here build
/// weak passwords from (leaked-password lists of Argentina and Spain, local names).
const SPANISH_COMMON: [&str; 48] = [
    "contraseña",
    "contrasena",
    "clave",
    "password",
    "hola",
    "holamundo",
    "teamo",
    "amor",
    "amorcito",
    "argentina",
    "boca",
    "bocajuniors",
    "river",
    "riverplate",
    "racing",
    "independiente",
    "sanlorenzo",
    "futbol",
    "messi",
    "maradona",
    "mama",
    "papa",
    "familia",
    "dios",
    "jesus",
    "bienvenido",
    "secreto",
    "usuario",
    "tesoro",
    "princesa",
    "estrella",
    "mariposa",
    "corazon",
    "chocolate",
    "gatito",
    "perrito",
    "vecinal",
    "vecinos",
    "vecino",
    "barrio",
    "policia",
    "comisaria",
    "riogrande",
    "rio grande",
    "tierradelfuego",
    "tierra del fuego",
    "ushuaia",
    "malvinas",
];

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
        assert_eq!(Password::parse("juanperez2024", &personal).unwrap_err(), PasswordProblem::TooCommon);
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
