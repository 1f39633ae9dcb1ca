//! Secrets and personal data that must never reach a log.

/// A value that never prints: its `Debug` is `***` (SMTP URLs carry passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(pub T);

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `text` with every word that holds an `@` replaced by `[address]`: error messages from a
/// mail server quote the recipient (`550 5.1.1 <ana@example.com>: unknown user`), and such a
/// message goes to the log.
pub fn without_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str("[address]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || "<>,;:\"'()[]".contains(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_never_print() {
        assert_eq!(format!("{:?}", Sensitive("smtp://u:secret@host")), "***");
    }

    #[test]
    fn addresses_are_taken_out_of_messages() {
        assert_eq!(
            without_addresses(
                "SMTP delivery: permanent error (550): 5.1.1 <ana.perez@example.com>: Recipient rejected"
            ),
            "SMTP delivery: permanent error (550): 5.1.1 <[address]>: Recipient rejected"
        );
        assert_eq!(without_addresses("to ana@x.org, bob@y.org"), "to [address], [address]");
        assert_eq!(without_addresses("connection refused (os error 111)"), "connection refused (os error 111)");
        assert_eq!(without_addresses(""), "");
    }
}
