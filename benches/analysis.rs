//! The document analysis's own cost, on one core: reading the DNI barcode in a generated
//! 12-megapixel phone-like JPEG (decode, search, parse) and drawing a generated 3-page PDF,
//! as `documents::analysis::analyse` does inside the child process, called here directly on
//! this thread. Prints the median and the slowest of several runs; the figures go to
//! docs/PERFORMANCE.md. Run: `cargo bench --bench analysis` (a release build).

use std::time::{Duration, Instant};

use image::{GrayImage, Luma};
use vecinal::documents::analysis::{analyse, render};
use vecinal::documents::sniff::MediaType;
use vecinal::domain::application::DocumentKind;

const CARD: &str = "00512345678@GÓMEZ PEÑA@MARÍA JOSÉ@F@23456789@B@14/02/1985@10/05/2016@209";
const RUNS: usize = 7;

/// A 4000×3000 photo of a table with a DNI card on it, slightly noisy like a phone camera's,
/// as a JPEG at quality 90.
fn phone_photo() -> Vec<u8> {
    use rxing::{BarcodeFormat, EncodeHints, Writer};
    let hints = EncodeHints { CharacterSet: Some("ISO-8859-1".into()), Margin: Some("0".into()), ..Default::default() };
    let m = rxing::pdf417::PDF417Writer.encode_with_hints(CARD, &BarcodeFormat::PDF_417, 0, 0, &hints).unwrap();
    let (mw, mh) = (6, 18);
    let code = GrayImage::from_fn(m.width() * mw, m.height() * mh, |x, y| {
        Luma([if m.get(x / mw, y / mh) { 20 } else { 230 }])
    });
    // A pseudo-random texture (no dependency): the table's grain and the sensor's noise.
    let mut seed: u32 = 0x9e37_79b9;
    let mut photo = GrayImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = ((x / 7 + y / 3) % 23) as i32;
        Luma([(110 + grain + (seed % 17) as i32) as u8])
    });
    let card = GrayImage::from_fn(code.width() + 400, code.height() + 500, |x, y| {
        Luma([if y % 41 == 0 && x < 600 { 90 } else { 225 }])
    });
    image::imageops::overlay(&mut photo, &card, 900, 700);
    image::imageops::overlay(&mut photo, &code, 1100, 1000);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&photo).unwrap();
    out
}

/// A 3-page A4 certificate-like PDF: lines of text in a standard font, a table of rules, and
/// a picture on the first page.
fn three_page_pdf() -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let picture = GrayImage::from_fn(600, 400, |x, y| Luma([((x * 3 + y * 5) % 256) as u8]));
    let image = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 600, "Height" => 400,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        picture.into_raw(),
    ));
    let mut kids: Vec<Object> = Vec::new();
    for n in 0..3 {
        let mut ops = Vec::new();
        for line in 0..40 {
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec!["F1".into(), 10.into()]));
            ops.push(Operation::new("Td", vec![60.into(), (780 - line * 16).into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(format!(
                    "Registro Nacional de Reincidencia - pagina {} - renglon {line} - sin antecedentes",
                    n + 1
                ))],
            ));
            ops.push(Operation::new("ET", vec![]));
            ops.push(Operation::new("re", vec![50.into(), (776 - line * 16).into(), 495.into(), 0.5.into()]));
            ops.push(Operation::new("f", vec![]));
        }
        if n == 0 {
            ops.push(Operation::new("q", vec![]));
            ops.push(Operation::new("cm", vec![200.into(), 0.into(), 0.into(), 133.into(), 340.into(), 40.into()]));
            ops.push(Operation::new("Do", vec!["Im0".into()]));
            ops.push(Operation::new("Q", vec![]));
        }
        let mut stream = Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap());
        stream.compress().unwrap();
        let contents = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => contents,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Im0" => image } },
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(page.into());
    }
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => 3, "Kids" => kids }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Runs `f` [`RUNS`] times; (median, slowest).
fn timed(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[RUNS / 2], times[RUNS - 1])
}

fn main() {
    let photo = phone_photo();
    println!("photo: 4000×3000 JPEG, {} KiB", photo.len() / 1024);
    let (median, max) = timed(|| {
        let f =
            analyse(DocumentKind::IdentityDocument, MediaType::Jpeg, &photo, Instant::now() + Duration::from_secs(60));
        let read = f.dni.expect("the barcode is read");
        assert_eq!(read.number, "23456789");
    });
    println!("DNI barcode from the photo (decode, search, parse): median {median:.2?}, slowest {max:.2?}");

    let pdf = three_page_pdf();
    println!("pdf: 3 pages, {} KiB", pdf.len() / 1024);
    let (median, max) = timed(|| {
        let r = render::render(&pdf, Instant::now() + Duration::from_secs(60)).expect("drawn");
        assert_eq!(r.pages.len(), 3);
    });
    println!("3 pages drawn at 1200 px (PNG encoded): median {median:.2?}, slowest {max:.2?}");
    let (median, max) = timed(|| {
        let f = analyse(DocumentKind::CriminalRecord, MediaType::Pdf, &pdf, Instant::now() + Duration::from_secs(60));
        assert_eq!(f.pages.len(), 3);
    });
    println!("the same PDF as a certificate (drawn, then QR search per page): median {median:.2?}, slowest {max:.2?}");
}
