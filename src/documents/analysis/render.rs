//! PDF pages as pictures, with hayro (pure Rust). Each page is drawn on white at a width
//! good for reading on a laptop and kept as PNG; a grey copy goes to the barcode reader.
//!
//! Limits: the first [`MAX_PAGES`] pages only; a page larger than [`MAX_PAGE_POINTS`] on a
//! side, or whose picture would exceed [`MAX_PAGE_HEIGHT`] pixels, is not drawn; past the
//! deadline no further page is started. What one page's drawing may cost in time and memory
//! is bounded by the process it runs in (see `isolate`), not here.

use std::time::Instant;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use image::{GrayImage, RgbImage};

pub const MAX_PAGES: usize = 5;
/// The width pages are drawn at, in pixels.
pub const PAGE_WIDTH: u32 = 1200;
/// The tallest picture drawn: a page more than four times as tall as wide is not a document.
pub const MAX_PAGE_HEIGHT: u32 = PAGE_WIDTH * 4;
/// 200 inches: the largest page the PDF format itself allows (without a user unit).
pub const MAX_PAGE_POINTS: f32 = 14_400.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotRendered {
    /// The renderer could not read the file, or drew nothing.
    Unreadable,
    /// Encrypted: hayro opens none, and uploads refuse them; kept for files stored before.
    Encrypted,
    /// A page out of proportion or size.
    PageTooLarge,
    /// The time allowed ran out, or the process drawing it was stopped.
    TooSlow,
}

/// One page, drawn.
pub struct Page {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub gray: GrayImage,
}

/// The pages drawn, and how many the document has.
pub struct Rendered {
    pub pages: Vec<Page>,
    pub total_pages: usize,
}

/// Draws the first pages of a PDF, each [`PAGE_WIDTH`] pixels wide.
pub fn render(bytes: &[u8], deadline: Instant) -> Result<Rendered, NotRendered> {
    let pdf = Pdf::new(bytes.to_vec()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => NotRendered::Encrypted,
        _ => NotRendered::Unreadable,
    })?;
    let all = pdf.pages();
    let total_pages = all.len();
    if total_pages == 0 {
        return Err(NotRendered::Unreadable);
    }
    let cache = RenderCache::new();
    let interpreter = InterpreterSettings::default();
    let settings = RenderSettings::default();
    let mut pages = Vec::new();
    for page in all.iter().take(MAX_PAGES) {
        if Instant::now() >= deadline {
            return Err(NotRendered::TooSlow);
        }
        let (w, h) = page.render_dimensions();
        if !(w.is_finite() && h.is_finite()) || w <= 0.0 || h <= 0.0 || w > MAX_PAGE_POINTS || h > MAX_PAGE_POINTS {
            return Err(NotRendered::PageTooLarge);
        }
        let scale = PAGE_WIDTH as f32 / w;
        if h * scale > MAX_PAGE_HEIGHT as f32 {
            return Err(NotRendered::PageTooLarge);
        }
        let pixmap = hayro::render(
            page,
            &cache,
            &interpreter,
            &settings,
            &PixmapSettings { x_scale: scale, y_scale: scale, bg_color: WHITE },
        );
        let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        if pw == 0 || ph == 0 {
            return Err(NotRendered::Unreadable);
        }
        // On a white background every pixel is opaque, so premultiplied is plain RGB.
        let rgba = pixmap.data_as_u8_slice();
        let rgb = RgbImage::from_fn(pw, ph, |x, y| {
            let i = ((y * pw + x) * 4) as usize;
            image::Rgb([rgba[i], rgba[i + 1], rgba[i + 2]])
        });
        let gray = image::DynamicImage::ImageRgb8(rgb.clone()).into_luma8();
        let mut png = Vec::new();
        rgb.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|_| NotRendered::Unreadable)?;
        pages.push(Page { png, width: pw, height: ph, gray });
    }
    Ok(Rendered { pages, total_pages })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};

    /// A PDF of `n` A4 pages, each with a filled square, made with lopdf's writer; `image`
    /// (grey, 8-bit) is drawn on the first page when given.
    pub fn pdf(n: usize, image: Option<&GrayImage>) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut kids = Vec::new();
        for i in 0..n {
            let mut ops = vec![
                Operation::new("0 0 0 rg", vec![]),
                Operation::new("re", vec![50.into(), (700 - 20 * i as i64).into(), 200.into(), 100.into()]),
                Operation::new("f", vec![]),
            ];
            let mut resources = dictionary! {};
            if let (0, Some(img)) = (i, image) {
                let xobject = Stream::new(
                    dictionary! {
                        "Type" => "XObject", "Subtype" => "Image",
                        "Width" => img.width() as i64, "Height" => img.height() as i64,
                        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
                    },
                    img.as_raw().clone(),
                );
                let id = doc.add_object(xobject);
                resources = dictionary! { "XObject" => dictionary! { "Im0" => id } };
                let w = 495.0;
                let h = w * img.height() as f32 / img.width() as f32;
                ops.extend([
                    Operation::new("q", vec![]),
                    Operation::new("cm", vec![w.into(), 0.into(), 0.into(), h.into(), 50.into(), 60.into()]),
                    Operation::new("Do", vec![Object::Name(b"Im0".to_vec())]),
                    Operation::new("Q", vec![]),
                ]);
            }
            let content = doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap()));
            kids.push(
                doc.add_object(dictionary! {
                    "Type" => "Page", "Parent" => pages_id, "Contents" => content,
                    "Resources" => resources, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
                })
                .into(),
            );
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => n as i64, "Kids" => kids }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    fn later() -> Instant {
        Instant::now() + std::time::Duration::from_secs(60)
    }

    #[test]
    fn renders_the_first_pages_as_png() {
        let r = render(&pdf(7, None), later()).unwrap();
        assert_eq!((r.total_pages, r.pages.len()), (7, MAX_PAGES));
        let first = &r.pages[0];
        assert_eq!(first.width, PAGE_WIDTH);
        assert_eq!(first.height, (842.0f32 * PAGE_WIDTH as f32 / 595.0) as u32);
        let png = image::load_from_memory_with_format(&first.png, image::ImageFormat::Png).unwrap().into_luma8();
        // The square is drawn black near the top left; the corner stays white.
        let s = PAGE_WIDTH as f32 / 595.0;
        assert!(png.get_pixel((100.0 * s) as u32, ((842.0 - 750.0) * s) as u32)[0] < 30);
        assert!(png.get_pixel(5, 5)[0] > 240);
    }

    #[test]
    fn a_broken_file_is_not_rendered() {
        assert_eq!(render(b"%PDF-1.4\nnothing here", later()).err(), Some(NotRendered::Unreadable));
        let mut cut = pdf(2, None);
        cut.truncate(cut.len() / 3);
        assert!(render(&cut, later()).is_err());
    }

    #[test]
    fn a_huge_page_is_not_rendered() {
        let bytes = pdf(1, None);
        let text = String::from_utf8_lossy(&bytes).replace("/MediaBox[0 0 595 842]", "/MediaBox[0 0 99999 99999]");
        assert!(text.contains("99999"), "the test must change the page size");
        assert_eq!(render(text.as_bytes(), later()).err(), Some(NotRendered::PageTooLarge));
        let tall = String::from_utf8_lossy(&bytes).replace("/MediaBox[0 0 595 842]", "/MediaBox[0 0 100 14000]");
        assert_eq!(render(tall.as_bytes(), later()).err(), Some(NotRendered::PageTooLarge));
    }

    #[test]
    fn past_the_deadline_no_page_starts() {
        assert_eq!(render(&pdf(1, None), Instant::now()).err(), Some(NotRendered::TooSlow));
    }
}
