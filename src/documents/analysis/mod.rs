//! Reading the residents' documents for the officer: PDF pages drawn as pictures, the DNI's
//! PDF417 barcode read and compared with the application, QR codes on the certificate read.
//! The officer still judges; this only reads.
//!
//! Everything here is CPU work on untrusted files. [`analyse`] is the pure function; the
//! service never calls it in its own process but through [`isolate`], which runs it in a
//! child process with a memory limit, a CPU limit and a deadline, so a hostile file can
//! neither hang nor exhaust the server, and a panic or a crash there is a plain "not read".

pub mod barcode;
pub mod dni;
pub mod isolate;
pub mod render;

use std::time::Instant;

use image::GrayImage;

use crate::documents::sniff::MediaType;
use crate::domain::application::DocumentKind;
use dni::DniRead;
use render::NotRendered;

/// At most this many QR codes are kept per certificate, each at most this many characters.
pub const MAX_CODES: usize = 8;
pub const MAX_CODE_CHARS: usize = 2000;
/// Pictures whose decoding would need more memory than this are not read.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// A page of a PDF drawn as PNG.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct PageImage {
    #[serde(with = "b64")]
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for PageImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PageImage({}×{}, {} bytes)", self.width, self.height, self.png.len())
    }
}

/// What reading one document found.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Findings {
    /// A PDF's first pages as pictures (empty for photos and for PDFs not drawn).
    pub pages: Vec<PageImage>,
    /// How many pages the PDF has.
    pub total_pages: usize,
    /// Why a PDF was not drawn.
    pub not_rendered: Option<NotRendered>,
    /// The identity document's barcode, when one was read and is a DNI's.
    pub dni: Option<DniRead>,
    /// The certificate's QR codes, as text.
    pub codes: Vec<String>,
}

impl Findings {
    /// A file that could not be read at all (the process failed or ran out of time).
    pub fn failed(media: MediaType, why: NotRendered) -> Self {
        Findings { not_rendered: (media == MediaType::Pdf).then_some(why), ..Default::default() }
    }
}

/// Reads one document: draws a PDF's pages; on the identity document looks for the DNI
/// barcode, on the certificate for QR codes, in the photo or in each page drawn. Nothing is
/// read past `deadline`. A panic in any reader leaves that part empty.
pub fn analyse(kind: DocumentKind, media: MediaType, bytes: &[u8], deadline: Instant) -> Findings {
    let mut findings = Findings::default();
    let pictures: Vec<GrayImage> = match media {
        MediaType::Pdf => {
            if crate::documents::sniff::names_encrypt(bytes) {
                findings.not_rendered = Some(NotRendered::Encrypted);
                return findings;
            }
            match std::panic::catch_unwind(|| render::render(bytes, deadline)) {
                Ok(Ok(rendered)) => {
                    findings.total_pages = rendered.total_pages;
                    let mut grays = Vec::new();
                    for page in rendered.pages {
                        findings.pages.push(PageImage { png: page.png, width: page.width, height: page.height });
                        grays.push(page.gray);
                    }
                    grays
                }
                Ok(Err(why)) => {
                    findings.not_rendered = Some(why);
                    return findings;
                }
                Err(_) => {
                    findings.not_rendered = Some(NotRendered::Unreadable);
                    return findings;
                }
            }
        }
        MediaType::Jpeg | MediaType::Png => match std::panic::catch_unwind(|| decode_photo(bytes, media)) {
            Ok(Some(gray)) => vec![gray],
            _ => return findings,
        },
    };
    for picture in &pictures {
        if Instant::now() >= deadline {
            break;
        }
        match kind {
            DocumentKind::IdentityDocument if findings.dni.is_none() => {
                let text = std::panic::catch_unwind(|| barcode::read_pdf417(picture)).ok().flatten();
                findings.dni = text.as_deref().and_then(dni::parse);
            }
            DocumentKind::CriminalRecord if findings.codes.len() < MAX_CODES => {
                let code = std::panic::catch_unwind(|| barcode::read_qr_code(picture)).ok().flatten();
                if let Some(code) = code {
                    let code: String = code.chars().filter(|c| !c.is_control()).take(MAX_CODE_CHARS).collect();
                    if !code.is_empty() && !findings.codes.contains(&code) && findings.codes.len() < MAX_CODES {
                        findings.codes.push(code);
                    }
                }
            }
            _ => {}
        }
    }
    findings
}

/// A photo's pixels in grey, within the upload limits and a memory bound.
fn decode_photo(bytes: &[u8], media: MediaType) -> Option<GrayImage> {
    let format = match media {
        MediaType::Jpeg => image::ImageFormat::Jpeg,
        MediaType::Png => image::ImageFormat::Png,
        MediaType::Pdf => return None,
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(crate::documents::sniff::MAX_IMAGE_SIDE);
    limits.max_image_height = Some(crate::documents::sniff::MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let (w, h) = reader.into_dimensions().ok()?;
    if u64::from(w) * u64::from(h) > crate::documents::sniff::MAX_IMAGE_PIXELS {
        return None;
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    reader.decode().ok().map(|img| img.into_luma8())
}

/// Bytes as base64 in the child process's answer.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::barcode::tests::{CARD, card_with, pdf417_image, qr_image};
    use super::*;
    use image::{DynamicImage, ImageFormat, imageops};
    use imageproc::geometric_transformations::{Interpolation, rotate_about_center};

    const BOOKLET: &str =
        "@12345678    @A@1@PEREZ@JUAN CARLOS@ARGENTINA@01/02/1960@M@15/03/2005@00123456789@7055 @15/03/2020@421";

    fn later() -> Instant {
        Instant::now() + std::time::Duration::from_secs(120)
    }

    fn encode(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageLuma8(img.clone()).write_to(&mut std::io::Cursor::new(&mut out), format).unwrap();
        out
    }

    fn dni_card(text: &str) -> GrayImage {
        let code = pdf417_image(text, 3);
        card_with(&code, code.width() + 240, code.height() + 320, 120, 220)
    }

    #[test]
    fn reads_both_dni_layouts_from_png_and_jpeg_in_any_orientation() {
        for (text, number, surname) in [(CARD, "23456789", "GÓMEZ PEÑA"), (BOOKLET, "12345678", "PEREZ")] {
            let card = dni_card(text);
            let askew = rotate_about_center(&card, 2f32.to_radians(), Interpolation::Bilinear, image::Luma([235]));
            for (name, picture) in [
                ("upright", card.clone()),
                ("90°", imageops::rotate90(&card)),
                ("180°", imageops::rotate180(&card)),
                ("2° askew", askew),
            ] {
                for format in [ImageFormat::Png, ImageFormat::Jpeg] {
                    let media = if format == ImageFormat::Png { MediaType::Png } else { MediaType::Jpeg };
                    let f = analyse(DocumentKind::IdentityDocument, media, &encode(&picture, format), later());
                    let read = f.dni.unwrap_or_else(|| panic!("{surname} {name} {format:?}: not read"));
                    assert_eq!((read.number.as_str(), read.surname.as_str()), (number, surname), "{name} {format:?}");
                }
            }
        }
    }

    #[test]
    fn reads_the_dni_from_a_one_page_pdf() {
        let pdf = render::tests::pdf(1, Some(&dni_card(CARD)));
        let f = analyse(DocumentKind::IdentityDocument, MediaType::Pdf, &pdf, later());
        assert_eq!(f.pages.len(), 1);
        assert_eq!(f.dni.map(|d| d.number).as_deref(), Some("23456789"));
    }

    #[test]
    fn a_photo_without_barcode_reads_nothing() {
        let plain = card_with(&GrayImage::from_pixel(40, 40, image::Luma([120])), 900, 600, 50, 50);
        let f = analyse(DocumentKind::IdentityDocument, MediaType::Png, &encode(&plain, ImageFormat::Png), later());
        assert!(f.dni.is_none() && f.pages.is_empty() && f.not_rendered.is_none());
    }

    #[test]
    fn a_pdf417_that_is_not_a_dni_reads_as_nothing() {
        let f = analyse(
            DocumentKind::IdentityDocument,
            MediaType::Png,
            &encode(&dni_card("hola mundo"), ImageFormat::Png),
            later(),
        );
        assert!(f.dni.is_none());
    }

    #[test]
    fn reads_the_certificate_qr_from_a_pdf_page() {
        let qr = qr_image("https://reincidencia.example/verificar?codigo=XYZ", 4);
        let page = card_with(&qr, 1190, 1684, 800, 1200);
        let pdf = render::tests::pdf(2, Some(&page));
        let f = analyse(DocumentKind::CriminalRecord, MediaType::Pdf, &pdf, later());
        assert_eq!(f.codes, vec!["https://reincidencia.example/verificar?codigo=XYZ".to_string()]);
        assert_eq!((f.pages.len(), f.total_pages), (2, 2));
    }

    #[test]
    fn an_encrypted_pdf_is_not_rendered() {
        // An encryption dictionary named in the file: hayro opens none, and the service
        // does not try.
        let mut pdf = render::tests::pdf(1, None);
        pdf.extend_from_slice(b"\n<< /Encrypt 99 0 R >>\n");
        let f = analyse(DocumentKind::ResidencyProof, MediaType::Pdf, &pdf, later());
        assert_eq!(f.not_rendered, Some(NotRendered::Encrypted));
        assert!(f.pages.is_empty());
    }

    #[test]
    fn findings_travel_as_json() {
        let pdf = render::tests::pdf(1, None);
        let f = analyse(DocumentKind::ResidencyProof, MediaType::Pdf, &pdf, later());
        let back: Findings = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.pages[0].png, f.pages[0].png);
    }
}
