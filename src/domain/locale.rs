//! The two languages of the service. Spanish (Argentina) is the default.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Locale {
    #[default]
    Es,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Es, Locale::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Es => "es",
            Locale::En => "en",
        }
    }

    /// The `lang` attribute of the HTML page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Locale::Es => "es-AR",
            Locale::En => "en",
        }
    }

    /// The language's name in that language, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::Es => "Español",
            Locale::En => "English",
        }
    }

    /// The preferred supported language of an `Accept-Language` header, if any.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (index, part) in header.split(',').enumerate() {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Ok(locale) = primary.parse::<Locale>() else { continue };
            if q <= 0.0 {
                continue;
            }
            // Highest q wins; among equals, the first listed.
            let better = match best {
                None => true,
                Some((bq, bi, _)) => q > bq || (q == bq && index < bi),
            };
            if better {
                best = Some((q, index, locale));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

impl FromStr for Locale {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "es" => Ok(Locale::Es),
            "en" => Ok(Locale::En),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Locale::from_accept_language("en-US,en;q=0.9,es;q=0.8"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("fr-FR, es-AR;q=0.7, en;q=0.5"), Some(Locale::Es));
        assert_eq!(Locale::from_accept_language("en;q=0.2, es;q=0.9"), Some(Locale::Es));
        assert_eq!(Locale::from_accept_language("de, fr"), None);
        assert_eq!(Locale::from_accept_language("en;q=0"), None);
        assert_eq!(Locale::from_accept_language(""), None);
    }
}
