//! Files residents upload, and the multipart forms that carry them: the application form
//! with every field right, the renewal form, a resident's answer to a request for information.
//! The files are real, made here (PDFs by lopdf's writer, images by the image crate), since
//! the service reads every upload as the type it claims to be.

use std::sync::LazyLock;

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response};

use super::TestApp;

/// A two-page PDF, written by lopdf: what a scanned bill looks like to the content check.
pub static PDF: LazyLock<Vec<u8>> = LazyLock::new(|| pdf(2, 0));
/// A 32×24 photo as JPEG, encoded by the image crate.
pub static JPEG: LazyLock<Vec<u8>> = LazyLock::new(|| image(image::ImageFormat::Jpeg, 32, 24));
/// A 16×16 PNG, encoded by the image crate.
pub static PNG: LazyLock<Vec<u8>> = LazyLock::new(|| image(image::ImageFormat::Png, 16, 16));

/// A real PDF of `pages` pages, each with a line of text, the first page's content stream
/// padded with `padding` spaces (to make a file of a given size).
pub fn pdf(pages: usize, padding: usize) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
    let resources = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font}});
    let mut kids: Vec<Object> = Vec::new();
    for n in 0..pages {
        let text = format!("Cooperativa Electrica - factura, hoja {} de {pages}", n + 1);
        let operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 14.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ];
        let mut content = Content { operations }.encode().unwrap();
        if n == 0 {
            content.resize(content.len() + padding, b' ');
        }
        let contents = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => contents}).into());
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

/// A real PDF of exactly `size` bytes (padding its content stream).
pub fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut padding = 0;
    loop {
        let file = pdf(1, padding);
        match file.len().cmp(&size) {
            std::cmp::Ordering::Equal => return file,
            std::cmp::Ordering::Less => padding += size - file.len(),
            std::cmp::Ordering::Greater => padding -= (file.len() - size).min(padding),
        }
    }
}

/// A `w`×`h` image with a gradient, encoded by the image crate.
pub fn image(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The bytes the application form uploads for a kind of document.
pub fn uploaded(kind: &str) -> &'static [u8] {
    match kind {
        "criminal_record" => JPEG.as_slice(),
        "identity_document" => PNG.as_slice(),
        _ => PDF.as_slice(),
    }
}

/// A multipart form: text fields, then files, sent with the client's CSRF token as its first
/// field (the server looks for it nowhere else). Tests change one thing at a time.
#[derive(Default)]
pub struct Submission {
    fields: Vec<(&'static str, String)>,
    files: Vec<(&'static str, &'static str, Vec<u8>)>,
}

impl Submission {
    /// The application form to `group` with every field right.
    pub fn valid(app: &TestApp, group: &str) -> Self {
        Self::default()
            .set("group", group)
            .set("street_address", "Calle Belgrano 1234")
            .set("dni", "30.123.456")
            .set("phone", "+54 2964 123456")
            .set("certificate_issued_on", &app.today().format("%Y-%m-%d").to_string())
            .set("consent", "yes")
            .file("residency_proof", "factura-luz.pdf", uploaded("residency_proof").to_vec())
            .file("criminal_record", "certificado.jpg", uploaded("criminal_record").to_vec())
            .file("identity_document", "dni.png", uploaded("identity_document").to_vec())
    }

    /// The desk form for `group`, every field right: a person without e-mail, named `name`,
    /// with DNI `dni` and a phone, who signed the consent on paper.
    pub fn desk(app: &TestApp, group: &str, dni: &str, name: &str) -> Self {
        Self::default()
            .set("group", group)
            .set("full_name", name)
            .set("dni", dni)
            .set("street_address", "Pasaje Los Ñires 55")
            .set("phone", "2964 555123")
            .set("email", "")
            .set("certificate_issued_on", &app.today().format("%Y-%m-%d").to_string())
            .set("paper_consent", "yes")
            .file("residency_proof", "boleta-escaneada.pdf", uploaded("residency_proof").to_vec())
            .file("criminal_record", "certificado.jpg", uploaded("criminal_record").to_vec())
            .file("identity_document", "dni-foto.png", uploaded("identity_document").to_vec())
    }

    /// The renewal form at `street_address` with a new certificate; a proof of address only
    /// when the test adds one.
    pub fn renewal(app: &TestApp, street_address: &str) -> Self {
        Self::default()
            .set("street_address", street_address)
            .set("certificate_issued_on", &app.today().format("%Y-%m-%d").to_string())
            .set("consent", "yes")
            .file("criminal_record", "nuevo.jpg", JPEG.to_vec())
    }

    /// A resident's answer to a request for information, for the application at `version`.
    pub fn answer(version: impl ToString) -> Self {
        Self::default().set("version", &version.to_string())
    }

    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.fields.retain(|(n, _)| *n != name);
        self.fields.push((name, value.to_string()));
        self
    }

    pub fn file(mut self, name: &'static str, filename: &'static str, bytes: Vec<u8>) -> Self {
        self.files.retain(|(n, _, _)| *n != name);
        self.files.push((name, filename, bytes));
        self
    }

    pub fn without_file(mut self, name: &'static str) -> Self {
        self.files.retain(|(n, _, _)| *n != name);
        self
    }

    /// Submits the application form.
    pub async fn send(self, app: &TestApp, c: &Client) -> Response {
        self.send_to(app, c, "/applications").await
    }

    pub async fn send_to(self, app: &TestApp, c: &Client, path: &str) -> Response {
        let token = app.csrf_token(c, "/").await;
        let mut form = Form::new().text("csrf_token", token);
        for (n, v) in self.fields {
            form = form.text(n, v);
        }
        for (n, filename, bytes) in self.files {
            form = form.part(n, Part::bytes(bytes).file_name(filename));
        }
        c.post(app.url(path)).multipart(form).send().await.unwrap()
    }
}

// ----- documents the analysis reads -----

/// A DNI-like card: a PDF417 barcode of `text` (rxing's own writer, Latin-1 like the real
/// cards) on a grey card with some printing, as a grey picture.
pub fn dni_card(text: &str) -> image::GrayImage {
    use rxing::{BarcodeFormat, EncodeHints, Writer};
    let hints = EncodeHints { CharacterSet: Some("ISO-8859-1".into()), Margin: Some("0".into()), ..Default::default() };
    let m =
        rxing::pdf417::PDF417Writer.encode_with_hints(text, &BarcodeFormat::PDF_417, 0, 0, &hints).expect("encodes");
    let (mw, mh) = (3, 9);
    let code = image::GrayImage::from_fn(m.width() * mw, m.height() * mh, |x, y| {
        image::Luma([if m.get(x / mw, y / mh) { 0 } else { 255 }])
    });
    card_with(&code, code.width() + 240, code.height() + 320, 120, 220)
}

/// A QR code of `text` on an A4-like white page, as a grey picture.
pub fn page_with_qr(text: &str) -> image::GrayImage {
    use rxing::{BarcodeFormat, Writer};
    let m = rxing::qrcode::QRCodeWriter.encode(text, &BarcodeFormat::QR_CODE, 0, 0).expect("encodes");
    let code = image::GrayImage::from_fn(m.width() * 4, m.height() * 4, |x, y| {
        image::Luma([if m.get(x / 4, y / 4) { 0 } else { 255 }])
    });
    card_with(&code, 1190, 1684, 800, 1200)
}

fn card_with(code: &image::GrayImage, width: u32, height: u32, x: i64, y: i64) -> image::GrayImage {
    let mut card = image::GrayImage::from_pixel(width, height, image::Luma([235]));
    for row in (40..height.saturating_sub(40)).step_by(37) {
        for px in 30..(width / 3) {
            card.put_pixel(px, row, image::Luma([90]));
        }
    }
    image::imageops::overlay(&mut card, code, x, y);
    card
}

/// A grey picture encoded as PNG or JPEG.
pub fn encoded(img: &image::GrayImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img.clone()).write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PDF of `pages` A4 pages with `picture` drawn on the first one (an embedded grey
/// image), written by lopdf.
pub fn pdf_with_picture(pages: usize, picture: &image::GrayImage) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for n in 0..pages {
        let mut ops = vec![
            Operation::new("0 0 0 rg", vec![]),
            Operation::new("re", vec![50.into(), 780.into(), (100 + 40 * n as i64).into(), 20.into()]),
            Operation::new("f", vec![]),
        ];
        let mut resources = dictionary! {};
        if n == 0 {
            let xobject = Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image",
                    "Width" => picture.width() as i64, "Height" => picture.height() as i64,
                    "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
                },
                picture.as_raw().clone(),
            );
            let id = doc.add_object(xobject);
            resources = dictionary! { "XObject" => dictionary! { "Im0" => id } };
            let w = 495.0f32;
            let h = (w * picture.height() as f32 / picture.width() as f32).min(700.0);
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
                "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            })
            .into(),
        );
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => pages as i64, "Kids" => kids }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
