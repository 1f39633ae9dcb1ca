//! What a file is, decided from its first bytes, never from its name or the type the
//! browser claims: a renamed HTML page stays an HTML page.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MediaType::Pdf, MediaType::Jpeg, MediaType::Png].into_iter().find(|m| m.as_str() == s)
    }

    pub fn is_image(self) -> bool {
        !matches!(self, MediaType::Pdf)
    }
}

/// The accepted type of `bytes`, if it is one.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.len() > 3 {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(MediaType::Png)
    } else {
        None
    }
}

/// A file name fit for display and for `Content-Disposition`: the last path component,
/// letters, digits and `._-()` and spaces only, never empty, and always ending in the
/// extension of the detected type — an uploader cannot make staff download
/// `certificado.hta` whose bytes merely start like a PDF.
pub fn display_name(raw: Option<&str>, media: MediaType) -> String {
    let last = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let stem = match last.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => last,
    };
    let cleaned: String = stem
        .chars()
        .filter(|c| c.is_alphanumeric() || "._-() ".contains(*c))
        .collect::<String>()
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .chars()
        .take(72)
        .collect();
    let stem = if cleaned.is_empty() { "documento" } else { cleaned.as_str() };
    format!("{stem}.{}", media.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_types_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(MediaType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(MediaType::Jpeg));
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some(MediaType::Png));
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            &b"<!doctype html><script>alert(1)</script>"[..],
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"PK\x03\x04zip",
            b"GIF89a",
            b"#!/bin/sh\nrm -rf /",
            b"",
            b" %PDF-1.4",
            &[0xFF, 0xD8, 0xFF],
        ] {
            assert_eq!(sniff(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn display_names_are_tamed() {
        assert_eq!(display_name(Some("C:\\Users\\ana\\dni frente.JPG"), MediaType::Jpeg), "dni frente.jpg");
        assert_eq!(display_name(Some("../../etc/passwd"), MediaType::Pdf), "passwd.pdf");
        assert_eq!(display_name(Some("a\"b<script>.pdf"), MediaType::Pdf), "abscript.pdf");
        assert_eq!(
            display_name(Some("certificado.hta"), MediaType::Pdf),
            "certificado.pdf",
            "the type decides the extension"
        );
        assert_eq!(display_name(Some("foto.png.exe"), MediaType::Png), "foto.png.png");
        assert_eq!(display_name(Some("..."), MediaType::Png), "documento.png");
        assert_eq!(display_name(None, MediaType::Pdf), "documento.pdf");
        assert_eq!(display_name(Some(&"x".repeat(200)), MediaType::Pdf).chars().count(), 76);
    }
}
