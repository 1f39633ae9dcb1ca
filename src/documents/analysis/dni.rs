//! The text of the Argentine DNI's PDF417 barcode, and how it compares with what the
//! applicant typed and the account's name. Pure: no I/O.
//!
//! Two layouts exist. The card (since 2012) starts with the trámite number:
//! `TRÁMITE@APELLIDO@NOMBRES@SEXO@NÚMERO@EJEMPLAR@NACIMIENTO@EMISIÓN@…`. The older booklet
//! starts with `@`: `@NÚMERO@EJEMPLAR@…@APELLIDO@NOMBRES@NACIONALIDAD@NACIMIENTO@SEXO@…`.
//! Only the number and the names are kept: the review needs nothing else, and the birth date
//! and trámite number never leave this function.

/// What the barcode says that the review needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DniRead {
    /// Digits only, without leading zeros.
    pub number: String,
    pub surname: String,
    pub names: String,
}

/// Reads the barcode's text; `None` when it is not a DNI barcode of either layout.
pub fn parse(text: &str) -> Option<DniRead> {
    let fields: Vec<&str> = text.trim().split('@').map(str::trim).collect();
    let (number, surname, names) = if fields.first().is_some_and(|f| f.is_empty()) {
        // Booklet: "", number, ejemplar, ?, surname, names, …
        if fields.len() < 9 {
            return None;
        }
        (fields[1], fields[4], fields[5])
    } else {
        // Card: trámite, surname, names, sex, number, …
        if fields.len() < 8 || !fields[0].chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        (fields[4], fields[1], fields[2])
    };
    let number = dni_digits(number)?;
    let valid_name = |s: &str| !s.is_empty() && s.chars().count() <= 100 && s.chars().any(char::is_alphabetic);
    if !valid_name(surname) || !valid_name(names) {
        return None;
    }
    Some(DniRead { number, surname: surname.to_string(), names: names.to_string() })
}

/// The digits of a DNI number (dots or spaces around them are ignored) without leading
/// zeros; `None` unless 7 or 8 digits remain.
pub fn dni_digits(s: &str) -> Option<String> {
    if !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ' ') {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_start_matches('0');
    (7..=8).contains(&trimmed.len()).then(|| trimmed.to_string())
}

/// How a barcode compares with the application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub number_matches: bool,
    /// Words of the barcode's surname and names that the account's name lacks, as read.
    pub words_missing: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.number_matches && self.words_missing.is_empty()
    }
}

/// Compares a barcode with the DNI typed in the application and the account's full name:
/// the number by its digits; the names word by word, ignoring case, accents and order.
/// Every word read must be in the account's name (an account may carry a second name the
/// card abbreviates, not the other way round).
pub fn compare(read: &DniRead, typed_dni: &str, full_name: &str) -> Comparison {
    let number_matches = dni_digits(typed_dni).is_some_and(|typed| typed == read.number);
    let account: Vec<String> = words(full_name);
    let mut words_missing = Vec::new();
    for word in read.surname.split_whitespace().chain(read.names.split_whitespace()) {
        for folded in words(word) {
            if !account.contains(&folded) && !words_missing.contains(&word.to_string()) {
                words_missing.push(word.to_string());
            }
        }
    }
    Comparison { number_matches, words_missing }
}

/// The words of a name, lower-cased and without accents; hyphens and apostrophes separate.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold).collect())
        .collect()
}

fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = "00512345678@GÓMEZ PEÑA@MARÍA JOSÉ@F@23456789@B@14/02/1985@10/05/2016@209";
    const BOOKLET: &str = "@12345678    @A@1@PEREZ@JUAN CARLOS@ARGENTINA@01/02/1960@M@15/03/2005@00123456789@7055 @15/03/2020@421@0@ILR:2.01 C:050222.01 (No Cap.)@UNIDAD #01 || S/N: 0040>2008>>0001";

    #[test]
    fn reads_the_card_layout() {
        let read = parse(CARD).unwrap();
        assert_eq!(
            read,
            DniRead { number: "23456789".into(), surname: "GÓMEZ PEÑA".into(), names: "MARÍA JOSÉ".into() }
        );
    }

    #[test]
    fn reads_the_booklet_layout() {
        let read = parse(BOOKLET).unwrap();
        assert_eq!(read, DniRead { number: "12345678".into(), surname: "PEREZ".into(), names: "JUAN CARLOS".into() });
    }

    #[test]
    fn keeps_neither_birth_date_nor_tramite() {
        let kept = serde_json::to_string(&parse(CARD).unwrap()).unwrap();
        assert!(!kept.contains("1985") && !kept.contains("512345678") && !kept.contains("2016"), "{kept}");
    }

    #[test]
    fn refuses_other_texts() {
        for text in [
            "",
            "hola",
            "https://example.org",
            "@@@@@@@@@",
            "abc@PEREZ@JUAN@M@12345678@A@x@y",
            "1@PEREZ@JUAN@M@12@A@x@y",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn compares_number_by_digits() {
        let read = parse(CARD).unwrap();
        assert!(compare(&read, "23.456.789", "María José Gómez Peña").matches());
        assert!(compare(&read, "023456789", "María José Gómez Peña").number_matches);
        let other = compare(&read, "23456780", "María José Gómez Peña");
        assert!(!other.number_matches && other.words_missing.is_empty());
    }

    #[test]
    fn compares_names_ignoring_case_accents_and_order() {
        let read = parse(CARD).unwrap();
        assert!(compare(&read, "23456789", "gomez pena maria jose").matches());
        assert!(compare(&read, "23456789", "PEÑA, Gómez — Jose Maria").matches());
        let c = compare(&read, "23456789", "María Gómez Peña");
        assert_eq!(c.words_missing, vec!["JOSÉ".to_string()]);
        let c = compare(&read, "23456789", "Juan Pérez");
        assert_eq!(c.words_missing, vec!["GÓMEZ", "PEÑA", "MARÍA", "JOSÉ"]);
    }

    #[test]
    fn digits_rule() {
        assert_eq!(dni_digits("1.234.567").as_deref(), Some("1234567"));
        assert_eq!(dni_digits("12345678  ").as_deref(), Some("12345678"));
        assert_eq!(dni_digits("123456"), None);
        assert_eq!(dni_digits("123456789"), None);
        assert_eq!(dni_digits("12a45678"), None);
    }
}
