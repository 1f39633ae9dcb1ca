//! What a file is, decided from its content, never from its name or the type the browser
//! claims: a renamed HTML page stays an HTML page. The first bytes say what a file claims to
//! be ([`sniff`]); [`check`] then reads it as that type: a PDF must load (its
//! cross-reference data, its objects and a page tree of real pages), an image must have a
//! header its decoder reads with dimensions within [`MAX_IMAGE_PIXELS`]. `%PDF-` or a PNG
//! signature followed by HTML, or JPEG magic followed by SVG, is refused.
//!
//! A hostile file must not hang the check or exhaust memory, so the PDF loader works within
//! limits: each object or cross-reference stream may decompress to
//! [`MAX_PDF_STREAM_BYTES`], at most [`MAX_PDF_OBJECT_STREAMS`] object streams are decoded,
//! and the objects kept while loading may number [`MAX_PDF_OBJECTS`] and weigh about
//! [`MAX_PDF_MEMORY`]. Past any of these the file is refused. Encrypted PDFs are refused
//! before loading: lopdf loads them by another path that the limits do not reach. Images
//! are not decoded at all, only their headers. [`check_off_thread`] runs the check on the
//! blocking pool as file work (`documents::file_work`), leaving a core to the pages.

use std::cell::Cell;

use lopdf::{Document, LoadOptions, Object, ObjectId};

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

/// The accepted type `bytes` claim to be by their first bytes, if it is one. Says nothing
/// about the rest: [`check`] does.
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

/// Why an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentProblem {
    /// Not a PDF, JPEG or PNG, or it starts like one and is not one.
    NotAccepted,
    /// A PDF with encryption (a password, or only restrictions on printing and copying).
    ProtectedPdf,
}

/// Each object or cross-reference stream of a PDF may decompress to this much. Real ones
/// hold a few hundred small objects (kilobytes); lopdf's own default is 256 MiB.
pub const MAX_PDF_STREAM_BYTES: usize = 2 * 1024 * 1024;
/// At most this many object streams are decompressed per PDF (together at most 400 MiB of
/// inflating, a second or two of one core).
pub const MAX_PDF_OBJECT_STREAMS: usize = 200;
/// Objects a PDF may hold. A scanned document has a few per page.
pub const MAX_PDF_OBJECTS: usize = 100_000;
/// What the kept objects of a PDF may weigh, estimated from their contents plus a fixed
/// cost per object: a 10 MiB upload needs a little more than 10 MiB.
pub const MAX_PDF_MEMORY: usize = 128 * 1024 * 1024;
/// Pages a PDF may have.
pub const MAX_PDF_PAGES: usize = 1000;
/// Widest or tallest image accepted, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 20_000;
/// Largest image accepted, in pixels: 64 megapixels, above any phone camera's photo.
pub const MAX_IMAGE_PIXELS: u64 = 64_000_000;

/// What `bytes` are, after reading them as the type they claim to be.
pub fn check(bytes: &[u8]) -> Result<MediaType, ContentProblem> {
    let media = sniff(bytes).ok_or(ContentProblem::NotAccepted)?;
    match media {
        MediaType::Pdf => check_pdf(bytes)?,
        MediaType::Jpeg => check_image(bytes, image::ImageFormat::Jpeg)?,
        MediaType::Png => check_image(bytes, image::ImageFormat::Png)?,
    }
    Ok(media)
}

/// [`check`] for each of a form's files, as one piece of file work ([`super::file_work`]: on
/// the blocking pool, leaving a core to the pages, one place in its queue per form). A
/// panic inside a parser refuses the file. The bytes come back with the answers, in order.
pub async fn check_all_off_thread(files: Vec<Vec<u8>>) -> Vec<(Result<MediaType, ContentProblem>, Vec<u8>)> {
    let shared: Vec<_> = files.into_iter().map(std::sync::Arc::new).collect();
    let for_check = shared.clone();
    let verdicts = super::file_work(move || {
        for_check
            .iter()
            .map(|bytes| std::panic::catch_unwind(|| check(bytes)).unwrap_or(Err(ContentProblem::NotAccepted)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    shared
        .into_iter()
        .enumerate()
        .map(|(i, shared)| {
            let verdict = verdicts.get(i).cloned().unwrap_or(Err(ContentProblem::NotAccepted));
            (verdict, std::sync::Arc::try_unwrap(shared).unwrap_or_else(|shared| shared.as_ref().clone()))
        })
        .collect()
}

fn check_image(bytes: &[u8], format: image::ImageFormat) -> Result<(), ContentProblem> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    let (w, h) = reader.into_dimensions().map_err(|_| ContentProblem::NotAccepted)?;
    let fits = w > 0 && h > 0 && w <= MAX_IMAGE_SIDE && h <= MAX_IMAGE_SIDE;
    if fits && u64::from(w) * u64::from(h) <= MAX_IMAGE_PIXELS { Ok(()) } else { Err(ContentProblem::NotAccepted) }
}

fn check_pdf(bytes: &[u8]) -> Result<(), ContentProblem> {
    if names_encrypt(bytes) {
        return Err(ContentProblem::ProtectedPdf);
    }
    LOAD_BUDGET.with(|b| b.set(Budget::default()));
    let options = LoadOptions {
        strict: false,
        max_decompressed_size: Some(MAX_PDF_STREAM_BYTES),
        filter: Some(within_budget),
        ..LoadOptions::default()
    };
    let loaded = Document::load_mem_with_options(bytes, options);
    let budget = LOAD_BUDGET.with(|b| b.replace(Budget::default()));
    let doc = loaded.map_err(|_| ContentProblem::NotAccepted)?;
    if budget.exceeded {
        return Err(ContentProblem::NotAccepted);
    }
    if doc.is_encrypted() || doc.encryption_state.is_some() {
        return Err(ContentProblem::ProtectedPdf);
    }
    // Offsets a few bytes off are a common producer slip and are corrected; a file whose
    // cross-reference data could not be read at all (rebuilt by scanning) is not a PDF.
    if doc.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed) {
        return Err(ContentProblem::NotAccepted);
    }
    let mut pages = 0;
    for id in doc.page_iter().take(MAX_PDF_PAGES + 1) {
        let is_page = doc.get_dictionary(id).is_ok_and(|d| d.has_type(b"Page"));
        if !is_page {
            return Err(ContentProblem::NotAccepted);
        }
        pages += 1;
    }
    if (1..=MAX_PDF_PAGES).contains(&pages) { Ok(()) } else { Err(ContentProblem::NotAccepted) }
}

/// What loading one PDF has kept so far. Thread-local because lopdf's filter is a plain
/// function; the crate is built without rayon, so a load runs on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    objects: usize,
    object_streams: usize,
    bytes: usize,
    exceeded: bool,
}

thread_local! {
    static LOAD_BUDGET: Cell<Budget> = const { Cell::new(Budget { objects: 0, object_streams: 0, bytes: 0, exceeded: false }) };
}

/// lopdf's object filter: called for each object as it is read, before an object stream is
/// decompressed. Keeps the object while the budget lasts; past it, drops it (so it is
/// neither kept nor decompressed) and marks the load as over budget.
fn within_budget(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let mut b = LOAD_BUDGET.with(Cell::get);
    let is_object_stream = matches!(object, Object::Stream(s) if s.dict.has_type(b"ObjStm"));
    b.objects += 1;
    b.object_streams += usize::from(is_object_stream);
    b.bytes = b.bytes.saturating_add(weight(object));
    if b.objects > MAX_PDF_OBJECTS || b.object_streams > MAX_PDF_OBJECT_STREAMS || b.bytes > MAX_PDF_MEMORY {
        b.exceeded = true;
    }
    LOAD_BUDGET.with(|cell| cell.set(b));
    // lopdf keeps the object it passed in for objects read from the file, and keeps the
    // returned one for objects out of an object stream (which are never streams): so the
    // object is left as it is, and a stream is not copied for nothing.
    (!b.exceeded).then(|| (id, if let Object::Stream(_) = object { Object::Null } else { object.clone() }))
}

/// An estimate of the memory an object holds: its bytes, and a fixed cost per node.
fn weight(object: &Object) -> usize {
    const NODE: usize = 64;
    NODE + match object {
        Object::Name(n) => n.len(),
        Object::String(s, _) => s.len(),
        Object::Array(items) => items.iter().map(weight).sum(),
        Object::Dictionary(d) => d.iter().map(|(k, v)| k.len() + weight(v)).sum(),
        Object::Stream(s) => s.content.len() + s.dict.iter().map(|(k, v)| k.len() + weight(v)).sum::<usize>(),
        Object::Null | Object::Boolean(_) | Object::Integer(_) | Object::Real(_) | Object::Reference(_) => 0,
    }
}

/// Whether any name in the file is `/Encrypt`, with `#xx` escapes decoded: the trailer (a
/// plain dictionary, or the dictionary of a cross-reference stream, never compressed) names
/// the encryption dictionary so. A string that mentions `/Encrypt` counts too, which is rare
/// and only refuses the file.
pub(crate) fn names_encrypt(bytes: &[u8]) -> bool {
    const TARGET: &[u8] = b"Encrypt";
    let is_regular = |b: u8| !b.is_ascii_whitespace() && b != 0 && !b"()<>[]{}/%".contains(&b);
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'/') {
        let mut j = i + at + 1;
        let mut name = Vec::with_capacity(TARGET.len());
        while j < bytes.len() && is_regular(bytes[j]) && name.len() <= TARGET.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes[j], bytes.get(j + 1).copied().and_then(hex), bytes.get(j + 2).copied().and_then(hex)) {
                (b'#', Some(hi), Some(lo)) => {
                    name.push((hi * 16 + lo) as u8);
                    j += 3;
                }
                (b, _, _) => {
                    name.push(b);
                    j += 1;
                }
            }
        }
        let ended = j >= bytes.len() || !is_regular(bytes[j]);
        if ended && name == TARGET {
            return true;
        }
        i = (i + at + 1).max(j.min(bytes.len()));
        if i >= bytes.len() {
            break;
        }
    }
    false
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

    /// A real PDF of `pages` pages with text, as lopdf writes it.
    fn pdf(pages: usize) -> Vec<u8> {
        use lopdf::content::{Content, Operation};
        use lopdf::{Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
        let resources = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font}});
        let mut kids: Vec<Object> = Vec::new();
        for n in 0..pages {
            let content = Content {
                operations: vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 24.into()]),
                    Operation::new("Td", vec![72.into(), 720.into()]),
                    Operation::new("Tj", vec![Object::string_literal(format!("Factura, hoja {}", n + 1))]),
                    Operation::new("ET", vec![]),
                ],
            };
            let contents = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
            kids.push(
                doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => contents}).into(),
            );
        }
        let tree = dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => pages as i64,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        };
        doc.objects.insert(pages_id, Object::Dictionary(tree));
        let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    fn image(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn real_files_pass_the_check() {
        assert_eq!(check(&pdf(1)), Ok(MediaType::Pdf));
        assert_eq!(check(&pdf(3)), Ok(MediaType::Pdf));
        assert_eq!(check(&image(image::ImageFormat::Png, 40, 30)), Ok(MediaType::Png));
        assert_eq!(check(&image(image::ImageFormat::Jpeg, 40, 30)), Ok(MediaType::Jpeg));
    }

    #[test]
    fn a_pdf_written_with_object_streams_passes_too() {
        let mut doc = Document::load_mem(&pdf(2)).unwrap();
        let mut out = Vec::new();
        doc.save_with_options(
            &mut out,
            lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).build(),
        )
        .unwrap();
        assert!(out.windows(6).any(|w| w == b"ObjStm"), "the file uses object streams");
        assert_eq!(check(&out), Ok(MediaType::Pdf));
    }

    #[test]
    fn files_that_only_start_right_are_refused() {
        let html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>";
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        let png_sig = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let polyglots: Vec<Vec<u8>> = vec![
            [b"%PDF-1.7\n".as_slice(), html].concat(),
            [b"%PDF-1.4\n%%EOF\n".as_slice(), html].concat(),
            [png_sig.as_slice(), html].concat(),
            [[0xFF, 0xD8, 0xFF, 0xE0].as_slice(), svg].concat(),
            [[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10].as_slice(), b"JFIF\0", svg].concat(),
            // A PDF cut short: no cross-reference data, no trailer.
            pdf(1)[..200].to_vec(),
            // A PNG with its header and nothing else.
            image(image::ImageFormat::Png, 4, 4)[..20].to_vec(),
        ];
        for bad in polyglots {
            assert!(sniff(&bad).is_some(), "claims a type by its first bytes");
            assert_eq!(check(&bad), Err(ContentProblem::NotAccepted), "{:?}", String::from_utf8_lossy(&bad));
        }
        assert_eq!(check(html), Err(ContentProblem::NotAccepted));
        assert_eq!(check(b""), Err(ContentProblem::NotAccepted));
    }

    #[test]
    fn a_pdf_without_pages_or_with_too_many_is_refused() {
        assert_eq!(check(&pdf(0)), Err(ContentProblem::NotAccepted));
        assert_eq!(check(&pdf(MAX_PDF_PAGES)), Ok(MediaType::Pdf));
        assert_eq!(check(&pdf(MAX_PDF_PAGES + 1)), Err(ContentProblem::NotAccepted));
    }

    #[test]
    fn images_larger_than_the_pixel_limit_are_refused() {
        // A real JPEG whose frame header (SOF0) claims 30 000 × 30 000 pixels.
        let mut jpeg = image(image::ImageFormat::Jpeg, 16, 16);
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame header");
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
        assert_eq!(check(&jpeg), Err(ContentProblem::NotAccepted));
        // Within the side limit but over the pixel count: 10 000 × 10 000.
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
        assert_eq!(check(&jpeg), Err(ContentProblem::NotAccepted));
        // 8 000 × 6 000 (48 MP) is a photo.
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x17, 0x70, 0x1F, 0x40]);
        assert_eq!(check(&jpeg), Ok(MediaType::Jpeg));
    }

    #[test]
    fn encrypted_pdfs_are_named_as_such() {
        let mut encrypted = pdf(1);
        // lopdf writes a cross-reference stream, whose dictionary is the trailer.
        let at = encrypted.windows(10).rposition(|w| w == b"/Type/XRef").unwrap();
        encrypted.splice(at..at, b"/Encrypt 99 0 R".iter().copied());
        assert!(names_encrypt(&encrypted));
        assert_eq!(check(&encrypted), Err(ContentProblem::ProtectedPdf));
        assert!(names_encrypt(b"<< /Encr#79pt 5 0 R >>"), "escapes are decoded");
        assert!(names_encrypt(b"/#45#6e#63#72#79#70#74"));
        assert!(!names_encrypt(b"/EncryptMetadata false /Encryp /Encrypted"));
        assert!(!names_encrypt(&pdf(2)));
        assert!(!names_encrypt(b"/"));
        assert!(!names_encrypt(b"/Encr#7"));
    }

    /// A one-page PDF written by hand (lopdf's writer rebuilds object streams itself) with
    /// an extra object stream whose content inflates to `inflated` bytes.
    fn pdf_with_object_stream(inflated: usize) -> Vec<u8> {
        let mut content = b"20 0 ".to_vec();
        content.resize(inflated.saturating_sub(4), b' ');
        content.extend_from_slice(b"null");
        let mut stream = lopdf::Stream::new(lopdf::dictionary! {}, content);
        stream.compress().unwrap();
        let mut out = b"%PDF-1.5\n".to_vec();
        let mut offsets = Vec::new();
        let bodies: [Vec<u8>; 3] = [
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R >>".to_vec(),
        ];
        for (n, body) in bodies.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        offsets.push(out.len());
        let dict = format!("<< /Type /ObjStm /N 1 /First 5 /Filter /FlateDecode /Length {} >>", stream.content.len());
        out.extend_from_slice(format!("4 0 obj\n{dict}\nstream\n").as_bytes());
        out.extend_from_slice(&stream.content);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        out
    }

    #[test]
    fn an_object_stream_that_inflates_past_the_limit_is_refused() {
        assert_eq!(check(&pdf_with_object_stream(1024)), Ok(MediaType::Pdf), "the hand-made file is a PDF");
        let bomb = pdf_with_object_stream(MAX_PDF_STREAM_BYTES + 1024);
        assert!(bomb.len() < 64 * 1024, "a few kilobytes that inflate to megabytes");
        assert_eq!(check(&bomb), Err(ContentProblem::NotAccepted));
    }

    #[test]
    fn the_load_budget_stops_at_its_limits() {
        let object_stream = || {
            let dict = lopdf::dictionary! {"Type" => "ObjStm", "N" => 1, "First" => 4};
            Object::Stream(lopdf::Stream::new(dict, b"1 0 null".to_vec()))
        };
        LOAD_BUDGET.with(|b| b.set(Budget::default()));
        for n in 0..MAX_PDF_OBJECT_STREAMS {
            assert!(within_budget((n as u32 + 1, 0), &mut object_stream()).is_some());
        }
        assert!(within_budget((9999, 0), &mut object_stream()).is_none(), "one object stream too many");
        assert!(within_budget((10000, 0), &mut Object::Null).is_none(), "and nothing after it");
        assert!(LOAD_BUDGET.with(Cell::get).exceeded);

        LOAD_BUDGET.with(|b| b.set(Budget::default()));
        let big = || Object::String(vec![b'x'; 1024 * 1024], lopdf::StringFormat::Literal);
        let kept = (0..200).take_while(|n| within_budget((*n + 1, 0), &mut big()).is_some()).count();
        assert_eq!(kept, MAX_PDF_MEMORY / (1024 * 1024 + 64), "about MAX_PDF_MEMORY of objects");
        LOAD_BUDGET.with(|b| b.set(Budget::default()));
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
