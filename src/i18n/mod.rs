//! Translations. Each language is a folder of TOML files (one per area of the service) with
//! texts under the same keys; all are compiled in, and a test fails when a key exists in
//! one language and not the other.
//!
//! Placeholders are `{name}`; values are inserted before the template escapes the text, so
//! user data in a placeholder is escaped like any other output.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::Locale;

/// Every catalogue file of each language. A key may appear in only one file.
macro_rules! catalogue {
    ($lang:literal) => {
        &[
            include_str!(concat!($lang, "/core.toml")),
            include_str!(concat!($lang, "/groups.toml")),
            include_str!(concat!($lang, "/applications.toml")),
            include_str!(concat!($lang, "/privacy.toml")),
            include_str!(concat!($lang, "/review.toml")),
            include_str!(concat!($lang, "/memberships.toml")),
            include_str!(concat!($lang, "/oversight.toml")),
            include_str!(concat!($lang, "/lifecycle.toml")),
            include_str!(concat!($lang, "/desk.toml")),
            include_str!(concat!($lang, "/analysis.toml")),
        ]
    };
}

/// Names a translation key in code, so the test that checks every used key exists can
/// find it.
#[macro_export]
macro_rules! tk {
    ($key:literal) => {
        $key
    };
}

const SOURCES: [(Locale, &[&str]); 2] = [(Locale::Es, catalogue!("es")), (Locale::En, catalogue!("en"))];

pub struct Catalog {
    texts: HashMap<Locale, HashMap<String, String>>,
}

/// Compiled-in, read-only data, so one shared instance is no hidden configuration.
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::from_sources(&SOURCES).expect("translation files parse"));

impl Catalog {
    pub fn get() -> &'static Catalog {
        &CATALOG
    }

    fn from_sources(sources: &[(Locale, &[&str])]) -> Result<Self, String> {
        let mut texts = HashMap::new();
        for (locale, files) in sources {
            let mut flat = HashMap::new();
            for src in *files {
                let table: toml::Table = src.parse().map_err(|e| format!("{}: {e}", locale.as_str()))?;
                flatten("", &table, &mut flat)?;
            }
            texts.insert(*locale, flat);
        }
        Ok(Self { texts })
    }

    pub fn lookup(&self, locale: Locale, key: &str) -> Option<&str> {
        self.texts.get(&locale).and_then(|m| m.get(key)).map(String::as_str)
    }

    pub fn has(&self, locale: Locale, key: &str) -> bool {
        self.texts.get(&locale).is_some_and(|m| m.contains_key(key))
    }

    pub fn keys(&self, locale: Locale) -> Vec<&str> {
        let mut keys: Vec<&str> =
            self.texts.get(&locale).map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
        keys.sort_unstable();
        keys
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                if out.insert(key.clone(), s.clone()).is_some() {
                    return Err(format!("{key} is defined twice"));
                }
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("{key}: only strings and tables are allowed")),
        }
    }
    Ok(())
}

/// `t(locale, key)` with `{name}` placeholders filled in.
pub fn format(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(locale, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The text for `key`, or the key itself when missing (a test keeps that from happening).
pub fn t(locale: Locale, key: &str) -> &str {
    match Catalog::get().lookup(locale, key) {
        Some(s) => s,
        None => {
            tracing::warn!(key, locale = locale.as_str(), "missing translation");
            key
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let c = Catalog::get();
        let es = c.keys(Locale::Es);
        let en = c.keys(Locale::En);
        let only_es: Vec<_> = es.iter().filter(|k| !c.has(Locale::En, k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !c.has(Locale::Es, k)).collect();
        assert!(only_es.is_empty(), "missing in en.toml: {only_es:?}");
        assert!(only_en.is_empty(), "missing in es.toml: {only_en:?}");
        assert!(es.len() > 50);
    }

    #[test]
    fn placeholders_match_between_languages() {
        let c = Catalog::get();
        for key in c.keys(Locale::Es) {
            let names = |l| {
                let text = t(l, key);
                let mut v: Vec<String> =
                    text.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string())).collect();
                v.sort();
                v
            };
            assert_eq!(names(Locale::Es), names(Locale::En), "placeholders differ for {key}");
        }
    }

    #[test]
    fn texts_differ_between_languages_where_they_are_words() {
        // A copied, untranslated text is the usual slip; names and symbols may coincide.
        let c = Catalog::get();
        let same: Vec<_> = c
            .keys(Locale::Es)
            .into_iter()
            .filter(|k| t(Locale::Es, k) == t(Locale::En, k))
            .filter(|k| t(Locale::Es, k).split_whitespace().count() > 2)
            .collect();
        assert!(same.is_empty(), "untranslated: {same:?}");
    }

    #[test]
    fn every_status_and_document_kind_has_its_texts() {
        use crate::domain::application::{DocumentKind, Status};
        for locale in Locale::ALL {
            for s in Status::ALL {
                for prefix in ["status.", "status_help."] {
                    let key = format!("{prefix}{}", s.as_str());
                    assert!(Catalog::get().has(locale, &key), "{key} in {}", locale.as_str());
                }
            }
            for k in DocumentKind::ALL {
                assert!(Catalog::get().has(locale, k.label_key()));
            }
        }
    }

    #[test]
    fn format_fills_placeholders() {
        let s = format(Locale::En, "mail.greeting", &[("name", "Ana")]);
        assert!(s.contains("Ana"));
        assert!(!s.contains("{name}"));
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        for dir in ["templates", "src"] {
            visit(&root.join(dir), &mut |path, text| {
                for key in used_keys(text) {
                    if !Catalog::get().has(Locale::Es, &key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            });
        }
        assert!(missing.is_empty(), "keys used but not translated: {missing:#?}");
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, f);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                f(&path, &text);
            }
        }
    }

    /// Keys appear as the first argument of `t(…)`, `tf(…)` or `tk!(…)`, as a string literal.
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in ["t(\"", "tf(\"", "tk!(\""] {
            let mut rest = text;
            while let Some(i) = rest.find(marker) {
                let before = rest[..i].chars().last();
                rest = &rest[i + marker.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(end) = rest.find('"') {
                    let key = &rest[..end];
                    if key.contains('.') && !key.contains(' ') && !key.contains('{') {
                        keys.push(key.to_string());
                    }
                }
            }
        }
        keys
    }
}
