//! What the document analysis read, as the officer's review page and the commissioner's
//! application record both show it: the pages drawn, the DNI barcode's verdict and values,
//! the certificate's QR codes, the possible duplicates. The pages implement
//! [`ReadingsView`] and include the partials `partials/document_reading.html`,
//! `partials/dni_verdict.html` and `partials/duplicates.html`, which call these methods.

use crate::db::models::Document;
use crate::documents::sniff::MediaType;
use crate::domain::application::{Dni, DocumentKind};
use crate::services::analysis::{DocumentReading, Duplicate};
use crate::services::review::Review;
use crate::web::page::PageContext;

pub trait ReadingsView {
    fn page_ctx(&self) -> &PageContext;

    fn review(&self) -> &Review;

    /// Where the viewer opens another application: the officer's review page or the
    /// commissioner's record.
    fn record_prefix(&self) -> &'static str;

    fn application_id(&self) -> &str {
        self.review().application.id.as_str()
    }

    fn is_image(&self, doc: &Document) -> bool {
        MediaType::parse(&doc.media_type).is_some_and(MediaType::is_image)
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind.parse::<DocumentKind>().map(|k| k.label_key()).unwrap_or("document.kind.unknown")
    }

    /// What was read in this document; replaced documents have no reading shown.
    fn reading(&self, doc: &Document) -> Option<&DocumentReading> {
        self.review().readings.get(&doc.id)
    }

    fn page_numbers(&self, doc: &Document) -> Vec<i32> {
        self.reading(doc).map(|r| (1..=r.pages).collect()).unwrap_or_default()
    }

    fn page_alt(&self, doc: &Document, n: &i32) -> String {
        let ctx = self.page_ctx();
        let kind = ctx.t(self.kind_label(&doc.kind)).to_string();
        ctx.tf2(crate::tk!("analysis.page_alt"), ("page", &n.to_string()), ("document", &kind))
    }

    fn pages_shown(&self, r: &DocumentReading) -> String {
        self.page_ctx().tf2(
            crate::tk!("analysis.pages_shown"),
            ("shown", &r.pages.to_string()),
            ("total", &r.total_pages.to_string()),
        )
    }

    /// The reading of the current identity document.
    fn identity_reading(&self) -> Option<&DocumentReading> {
        let doc = self.review().documents.iter().find(|d| d.kind == DocumentKind::IdentityDocument.as_str())?;
        self.reading(doc)
    }

    fn number_differs(&self, r: &DocumentReading) -> String {
        self.page_ctx().tf("analysis.dni.number_differs", "read", r.number_read.as_deref().unwrap_or("?"))
    }

    fn words_differ(&self, r: &DocumentReading) -> String {
        self.page_ctx().tf("analysis.dni.words_differ", "words", &r.words_missing.join(", "))
    }

    fn read_as(&self, r: &DocumentReading) -> Option<String> {
        let (number, name) = (r.number_read.as_deref()?, r.name_read.as_deref()?);
        Some(self.page_ctx().tf2(
            crate::tk!("analysis.dni.read_as"),
            ("number", &Dni::formatted(number)),
            ("name", name),
        ))
    }

    /// Only `https` links become links; anything else shows as text.
    fn is_https(&self, code: &str) -> bool {
        url::Url::parse(code).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
    }

    fn duplicates(&self) -> &[Duplicate] {
        &self.review().duplicates
    }

    /// The link to another application, for a viewer who may open it.
    fn duplicate_link(&self, d: &Duplicate) -> Option<String> {
        d.may_open.then(|| format!("{}{}", self.record_prefix(), d.application_id))
    }
}
