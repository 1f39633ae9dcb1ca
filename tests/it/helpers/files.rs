//! Files residents upload, and the multipart forms that carry them: the application form
//! with every field right, the renewal form, a resident's answer to a request for information.

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response};

use super::TestApp;

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
pub const JPEG: &[u8] =
    &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0xFF, 0xD9];
/// A 1×1 transparent PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The bytes the application form uploads for a kind of document.
pub fn uploaded(kind: &str) -> &'static [u8] {
    match kind {
        "criminal_record" => JPEG,
        "identity_document" => PNG,
        _ => PDF,
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
