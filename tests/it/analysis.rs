//! Reading the documents for the officer (issue 13): PDF pages drawn and served like the
//! documents, the DNI barcode read and compared, the resident told at once, the
//! certificate's QR codes, possible duplicates, and a hostile file contained.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::{Client, StatusCode};
use vecinal::db::schema::{applications, audit_log, document_analyses, document_renditions};
use vecinal::domain::Role;

use crate::helpers::*;

const CARD: &str = "00512345678@GÓMEZ PEÑA@MARÍA JOSÉ@F@23456789@B@14/02/1985@10/05/2016@209";
const BOOKLET: &str =
    "@23456789    @A@1@GOMEZ PEÑA@MARIA JOSE@ARGENTINA@14/02/1985@F@15/03/2005@00123456789@7055 @15/03/2020@421";
const NAME: &str = "María José Gómez Peña";
const QR_URL: &str = "https://reincidencia.example/verificar?codigo=ABC-123";

async fn analyse(app: &TestApp) -> usize {
    vecinal::jobs::analyse_documents(&app.state).await.unwrap()
}

/// An identity photo (PNG) and a certificate (JPEG) `w` pixels wide: files that differ by
/// width, or are the same file for the same width.
fn id_file(w: u32) -> (&'static str, Vec<u8>) {
    ("dni.png", image(image::ImageFormat::Png, w, 20))
}

fn cert(w: u32) -> (&'static str, Vec<u8>) {
    ("c.jpg", image(image::ImageFormat::Jpeg, w, 20))
}

/// A resident named `name` applies to `slug` with DNI `dni`, the identity document
/// `identity` and the certificate `certificate`.
async fn apply(
    app: &TestApp,
    email: &str,
    name: &str,
    slug: &str,
    dni: &str,
    identity: (&'static str, Vec<u8>),
    certificate: (&'static str, Vec<u8>),
) -> (Client, String) {
    let c = app.resident(email, name).await;
    let res = Submission::valid(app, slug)
        .set("dni", dni)
        // A proof of address of each resident's own: the same file under two accounts is
        // a duplicate signal.
        .file("residency_proof", "factura.pdf", pdf(1, email.bytes().map(usize::from).sum()))
        .file("identity_document", identity.0, identity.1)
        .file("criminal_record", certificate.0, certificate.1)
        .send(app, &c)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap_or_default());
    (c, application_id(&res))
}

/// María applies to centro with her own DNI and these two files.
async fn maria_applies(
    app: &TestApp,
    identity: (&'static str, Vec<u8>),
    certificate: (&'static str, Vec<u8>),
) -> (Client, String) {
    apply(app, "maria@example.com", NAME, "centro", "23456789", identity, certificate).await
}

fn png(img: &image::GrayImage) -> Vec<u8> {
    encoded(img, image::ImageFormat::Png)
}

#[tokio::test]
async fn the_dni_barcode_is_read_after_submission_and_matches_on_the_review_page() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let started = Instant::now();
    let (resident, id) = apply(
        &app,
        "maria@example.com",
        NAME,
        "centro",
        "23.456.789",
        ("dni.png", png(&dni_card(CARD))),
        ("certificado.jpg", JPEG.to_vec()),
    )
    .await;
    // Submitting does not wait for the reading.
    assert!(started.elapsed() < Duration::from_secs(20));
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("Analizando documentos…"), "before the job runs");
    assert_eq!(analyse(&app).await, 3, "each document read once");
    assert_eq!(analyse(&app).await, 0, "and only once");

    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("DNI leído del código: coincide (número y nombre)"), "{page}");
    assert!(page.contains("23.456.789 · GÓMEZ PEÑA, MARÍA JOSÉ"), "the number and name read");
    assert!(!page.contains("Analizando documentos…"));
    assert!(!page.contains("14/02/1985") && !page.contains("00512345678"), "never the birth date or trámite");
    // Stored: the number and names, never the rest.
    let row: (Option<String>, Option<String>, Option<String>) = {
        let id = id.clone();
        app.state
            .db(move |c| {
                Ok(document_analyses::table
                    .filter(document_analyses::application_id.eq(id))
                    .filter(document_analyses::dni_verdict.is_not_null())
                    .select((
                        document_analyses::dni_verdict,
                        document_analyses::dni_number,
                        document_analyses::dni_names,
                    ))
                    .first(c)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(row, (Some("match".into()), Some("23456789".into()), Some("MARÍA JOSÉ".into())));
    // The resident is told nothing is wrong.
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(!own.contains("No pudimos leer") && !own.contains("no coincide con el que escribiste"));
    // Each reading is in the audit log as the system's action.
    assert_eq!(app.audit_count("document.analysed").await, 3);
}

#[tokio::test]
async fn a_mismatch_says_what_differs_and_the_resident_is_told_at_once_in_both_languages() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    // The booklet layout, another typed number, a name without "José".
    let (resident, id) = apply(
        &app,
        "maria@example.com",
        "María Gómez Peña",
        "centro",
        "23.456.780",
        ("dni.jpg", encoded(&dni_card(BOOKLET), image::ImageFormat::Jpeg)),
        ("certificado.jpg", JPEG.to_vec()),
    )
    .await;
    analyse(&app).await;
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("DNI leído del código: no coincide"), "{page}");
    assert!(page.contains("El número leído del código (23456789) no es el DNI escrito"));
    assert!(page.contains("que no están en el nombre de la cuenta: JOSE"));
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(own.contains("El número leído de tu DNI no coincide con el que escribiste."), "{own}");
    assert!(own.contains("la tarjeta entera en la foto"));
    assert!(own.contains(&format!("action=\"/applications/{id}/identity\"")), "offers to replace the file");
    // English.
    let token = app.csrf_token(&resident, "/").await;
    app.post_form(&resident, "/language", &token, &[("lang", "en"), ("next", "/")]).await;
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(own.contains("The number read from your DNI does not match the one you typed."), "{own}");
}

#[tokio::test]
async fn an_unreadable_dni_photo_says_so_and_the_resident_replaces_it_without_waiting() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let (resident, id) = apply(
        &app,
        "maria@example.com",
        NAME,
        "centro",
        "23456789",
        ("dni.png", PNG.to_vec()),
        ("certificado.jpg", JPEG.to_vec()),
    )
    .await;
    analyse(&app).await;
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("No se pudo leer el código"), "{page}");
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(own.contains("No pudimos leer el código de tu DNI."), "{own}");
    let version = app.version(&id).await;

    // The replacement, at once, while the application waits in the queue.
    let res = Submission::answer(version)
        .file("identity_document", "dni-nuevo.png", png(&dni_card(CARD)))
        .send_to(&app, &resident, &format!("/applications/{id}/identity"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap_or_default());
    assert_eq!(app.status_of(&id).await.0, "submitted", "its place in the queue kept");
    let queue = app.page(&o, "/officer").await;
    assert!(queue.contains(&id) && !queue.contains("verdict-"), "the new file is not read yet: {queue}");
    assert_eq!(analyse(&app).await, 1, "only the new file is read");
    assert!(app.page(&o, "/officer").await.contains("badge verdict-match"), "the queue shows the new reading");
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("DNI leído del código: coincide (número y nombre)"), "{page}");
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(!own.contains("No pudimos leer el código de tu DNI."));

    // Once an officer took it, the file is not replaced that way.
    app.claim(&o, &id).await;
    let version = app.version(&id).await;
    let res = Submission::answer(version)
        .file("identity_document", "otra.png", PNG.to_vec())
        .send_to(&app, &resident, &format!("/applications/{id}/identity"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn pdf_pages_show_inline_obey_the_document_rules_and_the_certificate_link_is_a_safe_link() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let other = app.group("norte").await;
    let o = app.officer("o@example.com", &g).await;
    let stranger = app.officer("x@example.com", &other).await;
    let commissioner = app.commissioner("c@example.com").await;
    let (resident, id) = apply(
        &app,
        "maria@example.com",
        NAME,
        "centro",
        "23456789",
        ("dni.pdf", pdf_with_picture(1, &dni_card(CARD))),
        ("certificado.pdf", pdf_with_picture(3, &page_with_qr(QR_URL))),
    )
    .await;
    analyse(&app).await;
    let docs = app.documents_of(&id).await;
    let certificate = docs.iter().find(|d| d.kind == "criminal_record").unwrap();
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    for n in 1..=3 {
        assert!(page.contains(&format!("src=\"/applications/{id}/documents/{}/pages/{n}\"", certificate.id)), "{page}");
    }
    assert!(
        page.contains(&format!(
            "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">",
            QR_URL.replace('&', "&amp;")
        )),
        "{page}"
    );
    assert!(page.contains("DNI leído del código: coincide"), "the DNI read from a PDF's page");

    let path = format!("/applications/{id}/documents/{}/pages/2", certificate.id);
    for (who, c) in [("resident", &resident), ("officer", &o), ("commissioner", &commissioner)] {
        let res = app.get_with(c, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{who}");
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(res.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
        let png = res.bytes().await.unwrap();
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
        assert_eq!(img.width(), 1200);
    }
    let other_resident = app.resident("otra@example.com", "Otra Persona").await;
    for (who, c) in
        [("officer of another group", &stranger), ("another resident", &other_resident), ("anonymous", &client())]
    {
        assert_eq!(app.get_with(c, &path).await.status(), StatusCode::NOT_FOUND, "{who}");
    }
    let missing = format!("/applications/{id}/documents/{}/pages/4", certificate.id);
    assert_eq!(app.get_with(&o, &missing).await.status(), StatusCode::NOT_FOUND);
    // Each page served is audited like a document.
    let views: Vec<String> = {
        let doc = certificate.id.to_string();
        app.state
            .db(move |c| {
                Ok(audit_log::table
                    .filter(audit_log::action.eq("document.viewed"))
                    .filter(audit_log::subject_id.eq(doc))
                    .select(audit_log::details)
                    .load(c)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(views.iter().filter(|d| d.contains("\"page\":2")).count(), 3, "{views:?}");
    // The resident sees the pages too.
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(own.contains(&format!("/documents/{}/pages/1", certificate.id)));
}

#[tokio::test]
async fn a_pdf_that_cannot_be_drawn_shows_a_notice_and_the_download() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    // Passes the upload check (lopdf reads it), but its page is larger than any document.
    let huge = slow_pdf_sized("0 0 1 rg 0 0 10 10 re f", 99_999);
    let (_, id) =
        apply(&app, "m@example.com", NAME, "centro", "23456789", ("dni.png", PNG.to_vec()), ("c.pdf", huge)).await;
    analyse(&app).await;
    let page = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(page.contains("No se pudo mostrar este PDF como imagen. Descargalo para verlo."), "{page}");
    let cert = app.documents_of(&id).await.into_iter().find(|d| d.kind == "criminal_record").unwrap();
    assert!(page.contains(&format!("href=\"/applications/{id}/documents/{}\" download", cert.id)));
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_and_read_values_are_purged_and_rekeyed_with_their_document() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let (resident, id) = apply(
        &app,
        "maria@example.com",
        NAME,
        "centro",
        "23456789",
        ("dni.png", png(&dni_card(CARD))),
        ("certificado.pdf", pdf_with_picture(2, &page_with_qr(QR_URL))),
    )
    .await;
    analyse(&app).await;
    let cert = app.documents_of(&id).await.into_iter().find(|d| d.kind == "criminal_record").unwrap();
    let page_path = format!("/applications/{id}/documents/{}/pages/1", cert.id);

    // Key rotation moves the pages too; they still open.
    let state = app.state.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut conn = vecinal::db::establish(&state.settings.database_url).unwrap();
        vecinal::services::key_rotation::rotate(&mut conn, &state.settings, || state.clock.now(), Default::default())
    })
    .await
    .unwrap()
    .unwrap();
    let keys: Vec<String> =
        app.state.db(|c| Ok(document_renditions::table.select(document_renditions::key_id).load(c)?)).await.unwrap();
    assert!(keys.len() >= 2, "the certificate's two pages at least");
    assert!(keys.iter().all(|k| *k == report.key_id), "{keys:?} under {}", report.key_id);
    assert!(report.retired.len() == 1, "the old key retired: no page still needs it");
    assert_eq!(app.get_with(&resident, &page_path).await.status(), StatusCode::OK);

    // Decided, then past the retention period: the pages and the values read go.
    app.claim_and_approve(&o, &id).await;
    app.state.clock.advance(chrono::Duration::days(app.state.settings.document_retention_days + 1));
    vecinal::jobs::run_purge(&app.state).await.unwrap();
    let resident = app.sign_in("maria@example.com").await;
    assert_eq!(app.get_with(&resident, &page_path).await.status(), StatusCode::NOT_FOUND);
    let (pages, numbers): (i64, i64) = {
        let id = id.clone();
        app.state
            .db(move |c| {
                let pages = document_renditions::table.count().get_result(c)?;
                let numbers = document_analyses::table
                    .filter(document_analyses::application_id.eq(id))
                    .filter(document_analyses::dni_number.is_not_null().or(document_analyses::codes.ne("[]")))
                    .count()
                    .get_result(c)?;
                Ok((pages, numbers))
            })
            .await
            .unwrap()
    };
    assert_eq!((pages, numbers), (0, 0));
}

#[tokio::test]
async fn the_same_dni_or_the_same_file_under_two_accounts_is_flagged_once() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let norte = app.group("norte").await;
    let o = app.officer("o@example.com", &g).await;
    let _norte = app.officer("n@example.com", &norte).await;
    let shared_file = png(&dni_card(CARD));
    let (_, first) = apply(
        &app,
        "a@example.com",
        NAME,
        "norte",
        "23456789",
        ("dni.png", shared_file.clone()),
        ("c.jpg", JPEG.to_vec()),
    )
    .await;
    let (_, second) = apply(
        &app,
        "b@example.com",
        "Beatriz Otra",
        "centro",
        "23.456.789",
        ("dni.png", png(&dni_card(BOOKLET))),
        ("c.jpg", image(image::ImageFormat::Jpeg, 30, 20)),
    )
    .await;
    let (_, third) = apply(
        &app,
        "c3@example.com",
        "Carla Tercera",
        "centro",
        "31111111",
        ("dni.png", shared_file),
        ("c.jpg", image(image::ImageFormat::Jpeg, 31, 20)),
    )
    .await;
    let (_, alone) = apply(
        &app,
        "d@example.com",
        "Dora Sola",
        "centro",
        "32222222",
        ("dni.png", image(image::ImageFormat::Png, 20, 20)),
        ("c.jpg", image(image::ImageFormat::Jpeg, 33, 20)),
    )
    .await;

    let page = app.page(&o, &format!("/officer/applications/{second}")).await;
    assert!(page.contains("Posible duplicado"), "{page}");
    assert_eq!(
        page.matches("El mismo DNI está en una solicitud abierta de otra cuenta, en Barrio norte").count(),
        1,
        "{page}"
    );
    assert!(!page.contains(&format!("href=\"/officer/applications/{first}\"")), "no link to another group's record");
    let page = app.page(&o, &format!("/officer/applications/{third}")).await;
    assert_eq!(
        page.matches("Un archivo idéntico está en una solicitud de otra cuenta, en Barrio norte").count(),
        1,
        "{page}"
    );
    let page = app.page(&o, &format!("/officer/applications/{alone}")).await;
    assert!(!page.contains("Posible duplicado"));
    // Seen from norte's side, both others are in centro.
    let n = app.sign_in("n@example.com").await;
    let page = app.page(&n, &format!("/officer/applications/{first}")).await;
    assert_eq!(
        page.matches("El mismo DNI está en una solicitud abierta de otra cuenta, en Barrio centro").count(),
        1,
        "{page}"
    );
    assert_eq!(
        page.matches("Un archivo idéntico está en una solicitud de otra cuenta, en Barrio centro").count(),
        1,
        "{page}"
    );
    // An officer of both groups gets the link.
    let both = app.create_user(Role::Officer, "both@example.com", "Oficial Ambos").await;
    app.assign(&both, &g).await;
    app.assign(&both, &norte).await;
    let both = app.sign_in("both@example.com").await;
    let page = app.page(&both, &format!("/officer/applications/{second}")).await;
    assert!(page.contains(&format!("href=\"/officer/applications/{first}\"")), "{page}");
}

/// A hostile PDF is read in a child process that is killed at the deadline: the server
/// carries on and the file is "not drawn".
#[tokio::test]
async fn a_hostile_pdf_ends_as_not_rendered_within_the_time_limit() {
    use vecinal::documents::analysis::{isolate, render::NotRendered};
    use vecinal::documents::sniff::MediaType;
    use vecinal::domain::application::DocumentKind;
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_vecinal"));
    // A content stream that draws the same path a few million times: the renderer is busy
    // far longer than the limit.
    let mut ops = String::new();
    for _ in 0..200_000 {
        ops.push_str("10 10 m 500 800 l 20 700 l h f\n");
    }
    let slow = slow_pdf(&ops);
    let started = Instant::now();
    let findings =
        isolate::analyse(program, DocumentKind::ResidencyProof, MediaType::Pdf, slow, Duration::from_secs(2)).await;
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    assert!(findings.pages.is_empty());
    assert!(findings.not_rendered.is_some(), "{findings:?}");

    // A decompression bomb: a 16384×16384 image, 256 MiB of zeros deflated to about 256 KiB.
    let bomb = bomb_pdf();
    let started = Instant::now();
    let findings =
        isolate::analyse(program, DocumentKind::ResidencyProof, MediaType::Pdf, bomb, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(findings.pages.is_empty() && findings.not_rendered.is_some(), "{findings:?}");

    // Broken and encrypted files.
    let broken = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF".to_vec();
    let f =
        isolate::analyse(program, DocumentKind::ResidencyProof, MediaType::Pdf, broken, Duration::from_secs(5)).await;
    assert_eq!(f.not_rendered, Some(NotRendered::Unreadable));
    let mut encrypted = PDF.clone();
    encrypted.extend_from_slice(b"\n<< /Encrypt 9 0 R >>\n");
    let f = isolate::analyse(program, DocumentKind::ResidencyProof, MediaType::Pdf, encrypted, Duration::from_secs(5))
        .await;
    assert_eq!(f.not_rendered, Some(NotRendered::Encrypted));
}

fn slow_pdf(content: &str) -> Vec<u8> {
    slow_pdf_sized(content, 842)
}

/// A one-page PDF with this content stream, its page `height` points tall.
fn slow_pdf_sized(content: &str, height: i64) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut stream = Stream::new(dictionary! {}, content.as_bytes().to_vec());
    stream.compress().unwrap();
    let contents = doc.add_object(stream);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => contents,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), height.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => 1, "Kids" => vec![page.into()] }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn bomb_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        z.write_all(&zeros).unwrap();
    }
    let deflated = z.finish().unwrap();
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 16384, "Height" => 16384,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode",
        },
        deflated,
    ));
    let contents = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => contents,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => 1, "Kids" => vec![page.into()] }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn the_queue_marks_each_application_and_filters_by_verdict() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let card = png(&dni_card(CARD));
    let (_, matched) =
        apply(&app, "a@example.com", NAME, "centro", "23456789", ("dni.png", card.clone()), ("c.jpg", JPEG.to_vec()))
            .await;
    let (_, other) = apply(
        &app,
        "b@example.com",
        "Otra Persona",
        "centro",
        "23456789",
        ("dni.png", card),
        ("c.jpg", image(image::ImageFormat::Jpeg, 30, 20)),
    )
    .await;
    let (_, unread) = apply(
        &app,
        "c@example.com",
        "Carla Sin",
        "centro",
        "31111111",
        ("dni.png", PNG.to_vec()),
        ("c.jpg", image(image::ImageFormat::Jpeg, 31, 20)),
    )
    .await;
    // Another DNI, but the first one's certificate file: a duplicate by the file alone.
    let (_, same_file) = apply(
        &app,
        "d@example.com",
        "Dora Copia",
        "centro",
        "32222222",
        ("dni.png", image(image::ImageFormat::Png, 32, 20)),
        ("c.jpg", JPEG.to_vec()),
    )
    .await;
    analyse(&app).await;
    let row = |page: &str, id: &str| -> String {
        let at = page.find(&format!("href=\"/officer/applications/{id}\"")).expect("row shown");
        page[at..at + page[at..].find("</td>").unwrap()].to_string()
    };
    let queue = app.page(&o, "/officer").await;
    assert!(row(&queue, &matched).contains("badge verdict-match\">coincide<"), "{queue}");
    assert!(row(&queue, &matched).contains("posible duplicado"), "same DNI as another account");
    assert!(row(&queue, &other).contains("badge verdict-mismatch\">no coincide<"));
    assert!(row(&queue, &unread).contains("badge verdict-unread\">sin lectura<"));
    assert!(!row(&queue, &unread).contains("posible duplicado"));
    assert!(row(&queue, &same_file).contains("posible duplicado"), "the same file as another account's");

    let only = app.page(&o, "/officer?dni=mismatch").await;
    assert!(only.contains(&other) && !only.contains(&matched) && !only.contains(&unread), "{only}");
    let only = app.page(&o, "/officer?dni=unread").await;
    assert!(only.contains(&unread) && !only.contains(&matched) && !only.contains(&other));

    // The marks are kept on each application; `stats rebuild` finds and repairs them when
    // they went wrong (rows restored or loaded by other means): two verdicts, and whether
    // an application is in a recorded pair (one in a pair marked out of it, one in none
    // marked in one: the check finds no pair that holds, so that row still shows nothing).
    let (wrong_unread, wrong_other, wrong_matched) = (unread.clone(), other.clone(), matched.clone());
    app.state
        .db(move |c| {
            diesel::update(applications::table.find(&wrong_unread))
                .set((applications::dni_verdict.eq(Some("match")), applications::in_pair.eq(true)))
                .execute(c)?;
            diesel::update(applications::table.find(&wrong_matched)).set(applications::in_pair.eq(false)).execute(c)?;
            Ok(diesel::update(applications::table.find(&wrong_other))
                .set(applications::dni_verdict.eq(None::<String>))
                .execute(c)?)
        })
        .await
        .unwrap();
    let queue = app.page(&o, "/officer").await;
    assert!(row(&queue, &unread).contains("verdict-match") && !row(&queue, &other).contains("verdict-"));
    assert!(
        !row(&queue, &matched).contains("posible duplicado") && !row(&queue, &unread).contains("posible duplicado")
    );
    let said = stats_rebuild(&app);
    assert!(said.contains("4 rows were wrong and are now corrected"), "{said}");
    let queue = app.page(&o, "/officer").await;
    assert!(row(&queue, &unread).contains("verdict-unread") && row(&queue, &other).contains("verdict-mismatch"));
    assert!(row(&queue, &matched).contains("posible duplicado") && !row(&queue, &unread).contains("posible duplicado"));
    assert!(stats_rebuild(&app).contains("they were already right"));

    // The duplicate sign lasts while a twin is current: the other account with the same
    // DNI withdraws, the file twin still marks; once it withdraws too, neither is marked.
    let (b, d) = (app.sign_in("b@example.com").await, app.sign_in("d@example.com").await);
    assert_eq!(app.withdraw(&b, &other, app.version(&other).await).await.status(), StatusCode::SEE_OTHER);
    let queue = app.page(&o, "/officer").await;
    assert!(row(&queue, &matched).contains("posible duplicado"), "the same file as another account's");
    assert_eq!(app.withdraw(&d, &same_file, app.version(&same_file).await).await.status(), StatusCode::SEE_OTHER);
    let queue = app.page(&o, "/officer").await;
    assert!(!row(&queue, &matched).contains("posible duplicado"), "{queue}");
}

/// The row of the commissioners' list that names both applications, if any.
fn pair_row(page: &str, one: &str, other: &str) -> Vec<String> {
    page.split("<tr data-pair=\"")
        .skip(1)
        .filter(|row| {
            let ids = &row[..row.find('"').unwrap()];
            ids.contains(one) && ids.contains(other)
        })
        .map(|row| row[..row.find("</tr>").unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn commissioners_list_each_current_duplicate_once_until_it_is_resolved() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let norte = app.group("norte").await;
    let o = app.officer("o@example.com", &g).await;
    let n = app.officer("n@example.com", &norte).await;
    let c = app.commissioner("c@example.com").await;
    let empty = app.page(&c, "/commissioner/duplicates").await;
    assert!(empty.contains("No hay posibles duplicados vigentes."), "{empty}");
    let dashboard = app.page(&c, "/commissioner").await;
    assert!(dashboard.contains("href=\"/commissioner/duplicates\""), "linked from the dashboard");

    // The same DNI under two accounts, in two groups.
    let (a_client, a) = apply(&app, "a@example.com", "Ana Uno", "norte", "23456789", id_file(21), cert(21)).await;
    let (b_client, b) = apply(&app, "b@example.com", "Beto Dos", "centro", "23.456.789", id_file(22), cert(22)).await;
    // The same certificate file under two accounts with different DNIs.
    let (_, c1) = apply(&app, "c1@example.com", "Carla Tres", "centro", "31111111", id_file(23), cert(40)).await;
    let (_, c2) = apply(&app, "c2@example.com", "Ciro Cuatro", "centro", "32222222", id_file(24), cert(40)).await;
    // Nothing shared.
    let (_, alone) = apply(&app, "d@example.com", "Dora Sola", "centro", "33333333", id_file(25), cert(25)).await;

    let page = app.page(&c, "/commissioner/duplicates").await;
    assert_eq!(page.matches("<tr data-pair=").count(), 2, "{page}");
    let row = pair_row(&page, &a, &b);
    assert_eq!(row.len(), 1, "the same DNI once: {page}");
    assert!(row[0].contains("Mismo DNI (23.456.789)") && !row[0].contains("Archivo idéntico"), "{}", row[0]);
    assert!(row[0].contains("Solicitud en Barrio norte") && row[0].contains("Solicitud en Barrio centro"));
    assert!(row[0].contains(&format!("href=\"/commissioner/applications/{a}\"")));
    assert!(row[0].contains(&format!("href=\"/commissioner/applications/{b}\"")));
    assert!(row[0].contains("Ana Uno") && row[0].contains("Beto Dos"));
    let row = pair_row(&page, &c1, &c2);
    assert_eq!(row.len(), 1, "the same file once: {page}");
    assert!(row[0].contains("Archivo idéntico") && !row[0].contains("Mismo DNI"), "{}", row[0]);
    assert!(!page.contains(&alone));

    // Only commissioners.
    assert_eq!(app.get_with(&o, "/commissioner/duplicates").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&b_client, "/commissioner/duplicates").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/commissioner/duplicates").await.status(), StatusCode::SEE_OTHER);

    // A membership keeps the signal current: Ana is approved, and a new account types her DNI.
    app.claim_and_approve(&n, &a).await;
    let (_, e) = apply(&app, "e@example.com", "Eva Cinco", "centro", "23456789", id_file(26), cert(26)).await;
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert_eq!(pair_row(&page, &a, &b).len(), 1);
    let row = pair_row(&page, &a, &e);
    assert_eq!(row.len(), 1, "{page}");
    assert!(row[0].contains("Membresía: Vigente"), "{}", row[0]);

    // Resolved cases leave the list: Beto withdraws, Ciro is rejected, Eva withdraws.
    let res = app.withdraw(&b_client, &b, app.version(&b).await).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.claim(&o, &c2).await;
    app.reject(&o, &c2, &[("reason_code", "duplicate"), ("note", "Ya hay una solicitud con este archivo.")]).await;
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert!(pair_row(&page, &a, &b).is_empty() && pair_row(&page, &c1, &c2).is_empty(), "{page}");
    assert_eq!(pair_row(&page, &a, &e).len(), 1);
    let e_client = app.sign_in("e@example.com").await;
    app.withdraw(&e_client, &e, app.version(&e).await).await;
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert!(page.contains("No hay posibles duplicados vigentes."), "{page}");

    // English.
    let token = app.csrf_token(&c, "/").await;
    app.post_form(&c, "/language", &token, &[("lang", "en"), ("next", "/")]).await;
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert!(page.contains("There are no current possible duplicates."), "{page}");
    let _ = a_client;
}

/// Pairs lost (a bulk load with the triggers off, a restore) come back with `stats rebuild`.
#[tokio::test]
async fn stats_rebuild_records_the_current_pairs_that_are_missing() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.commissioner("c@example.com").await;
    let (_, a) = apply(&app, "a@example.com", "Ana Uno", "centro", "23456789", id_file(21), cert(21)).await;
    let (_, b) = apply(&app, "b@example.com", "Beto Dos", "centro", "23456789", id_file(22), cert(22)).await;
    let (_, c1) = apply(&app, "c1@example.com", "Carla Tres", "centro", "31111111", id_file(23), cert(40)).await;
    let (c2_client, c2) =
        apply(&app, "c2@example.com", "Ciro Cuatro", "centro", "32222222", id_file(24), cert(40)).await;
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert_eq!(page.matches("<tr data-pair=").count(), 2, "{page}");
    assert!(stats_rebuild(&app).contains("they were already right"), "the triggers recorded both");

    // Ciro withdraws: that pair is no longer current, so it is not recorded again.
    app.withdraw(&c2_client, &c2, app.version(&c2).await).await;
    app.state.db(|c| Ok(diesel::sql_query("DELETE FROM duplicate_pairs").execute(c)?)).await.unwrap();
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert!(page.contains("No hay posibles duplicados vigentes."), "{page}");
    let said = stats_rebuild(&app);
    assert!(said.contains("1 rows were wrong and are now corrected"), "{said}");
    let page = app.page(&c, "/commissioner/duplicates").await;
    assert_eq!(page.matches("<tr data-pair=").count(), 1, "{page}");
    assert_eq!(pair_row(&page, &a, &b).len(), 1, "{page}");
    assert!(pair_row(&page, &c1, &c2).is_empty(), "{page}");
    assert!(stats_rebuild(&app).contains("they were already right"));
}

#[tokio::test]
async fn the_duplicates_list_pages_by_a_cursor_and_refuses_edited_ones() {
    use vecinal::db::duplicates::{self, PairKey};
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.commissioner("c@example.com").await;
    for (i, email) in ["a@example.com", "b@example.com", "c2@example.com"].into_iter().enumerate() {
        let w = 30 + i as u32;
        apply(&app, email, "Vecino", "centro", "23456789", id_file(w), cert(w)).await;
    }
    // Three accounts with one DNI: three pairs, each met once walking page by page.
    let mut seen = Vec::new();
    let mut after: Option<PairKey> = None;
    loop {
        let page = app.state.db(move |conn| Ok(duplicates::current(conn, after.as_ref(), 1)?)).await.unwrap();
        let Some(pair) = page.into_iter().next() else { break };
        let key = PairKey { found_at: pair.found_at, first: pair.first.id.clone(), second: pair.second.id.clone() };
        assert_eq!(PairKey::decode(&key.encode()), Some(key.clone()));
        seen.push((key.first.to_string(), key.second.to_string()));
        after = Some(key);
        assert!(seen.len() <= 3);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3);
    // An edited cursor is the first page, never an error.
    for bad in ["x", "1_2_3", "99999999999999999_a_b", &format!("0_{}_{}", seen[0].0, "nope")] {
        let res = app.get_with(&c, &format!("/commissioner/duplicates?after={bad}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{bad}");
    }
}

#[tokio::test]
async fn the_commissioners_record_shows_what_was_read_like_the_review_page() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let norte = app.group("norte").await;
    let o = app.officer("o@example.com", &g).await;
    app.officer("n@example.com", &norte).await;
    let c = app.commissioner("c@example.com").await;
    let (_, id) =
        maria_applies(&app, ("dni.png", png(&dni_card(CARD))), ("certificado.png", png(&page_with_qr(QR_URL)))).await;
    let (_, other) = apply(
        &app,
        "b@example.com",
        "Beatriz Otra",
        "norte",
        "23456789",
        ("dni.png", image(image::ImageFormat::Png, 20, 21)),
        ("c.jpg", image(image::ImageFormat::Jpeg, 30, 21)),
    )
    .await;
    let record = app.page(&c, &format!("/commissioner/applications/{id}")).await;
    assert!(record.contains("Analizando documentos…"), "before the job runs: {record}");
    analyse(&app).await;

    let review = app.page(&o, &format!("/officer/applications/{id}")).await;
    let record = app.page(&c, &format!("/commissioner/applications/{id}")).await;
    for shown in [
        "DNI leído del código: coincide (número y nombre)",
        "Leído del código: 23.456.789 · GÓMEZ PEÑA, MARÍA JOSÉ",
        &format!("<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">", QR_URL.replace('&', "&#38;")),
        "Códigos QR del certificado",
        "Posible duplicado",
        "El mismo DNI está en una solicitud abierta de otra cuenta, en Barrio norte.",
    ] {
        assert!(review.contains(shown), "review page: {shown}");
        assert!(record.contains(shown), "record: {shown}\n{record}");
    }
    // The commissioner may open the other record: the link goes to theirs, not the officer's.
    assert!(record.contains(&format!("href=\"/commissioner/applications/{other}\"")), "{record}");
    assert!(!record.contains(&format!("href=\"/officer/applications/{other}\"")));
    // The photos inline, as on the review page.
    let docs = app.documents_of(&id).await;
    let identity = docs.iter().find(|d| d.kind == "identity_document").unwrap();
    assert!(record.contains(&format!("<img class=\"page\" src=\"/applications/{id}/documents/{}\"", identity.id)));

    // English.
    let token = app.csrf_token(&c, "/").await;
    app.post_form(&c, "/language", &token, &[("lang", "en"), ("next", "/")]).await;
    let record = app.page(&c, &format!("/commissioner/applications/{id}")).await;
    assert!(record.contains("Possible duplicate"), "{record}");
    assert!(record.contains("QR codes on the certificate"));
}

#[tokio::test]
async fn the_residents_export_holds_the_values_read_from_their_documents() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let (resident, _) =
        maria_applies(&app, ("dni.png", png(&dni_card(CARD))), ("certificado.png", png(&page_with_qr(QR_URL)))).await;
    let export = |c: Client| {
        let app = &app;
        async move {
            let res = app.get_with(&c, "/account/export").await;
            assert_eq!(res.status(), StatusCode::OK);
            let v: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
            v["applications"][0]["documents"].as_array().unwrap().clone()
        }
    };
    let of_kind = |docs: &[serde_json::Value], kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap().clone();
    let docs = export(resident.clone()).await;
    assert_eq!(of_kind(&docs, "identity_document")["read"]["state"], "pending");
    analyse(&app).await;
    let docs = export(resident).await;
    let identity = of_kind(&docs, "identity_document")["read"].clone();
    assert_eq!(identity["state"], "done");
    assert_eq!(identity["dni_verdict"], "match");
    assert_eq!(identity["dni_number_read"], "23456789");
    assert_eq!(identity["dni_name_read"], "GÓMEZ PEÑA, MARÍA JOSÉ");
    assert_eq!(identity["dni_number_matches"], true);
    let certificate = of_kind(&docs, "criminal_record")["read"].clone();
    assert_eq!(certificate["qr_codes"], serde_json::json!([QR_URL]));
    assert!(certificate["dni_verdict"].is_null());
    let proof = of_kind(&docs, "residency_proof")["read"].clone();
    assert_eq!(proof["pages_drawn"], 1);
}

/// The form as a browser without JavaScript finds it on the page: its method, encoding,
/// action, and its hidden fields in document order.
fn identity_form(page: &str, id: &str) -> (String, String, Vec<(String, String)>, String) {
    let start = page.find(&format!("action=\"/applications/{id}/identity\"")).expect("the replacement form");
    let open = page[..start].rfind("<form").unwrap();
    let end = open + page[open..].find("</form>").unwrap();
    let form = &page[open..end];
    let tag = &form[..form.find('>').unwrap()];
    let attr = |html: &str, name: &str| -> Option<String> {
        let at = html.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(html[at..at + html[at..].find('"').unwrap()].to_string())
    };
    let mut hidden = Vec::new();
    let mut file = String::new();
    for input in form.split("<input").skip(1) {
        let input = &input[..input.find('>').unwrap()];
        match attr(input, "type").as_deref() {
            Some("hidden") => hidden.push((attr(input, "name").unwrap(), attr(input, "value").unwrap_or_default())),
            Some("file") => file = attr(input, "name").unwrap(),
            _ => {}
        }
    }
    (attr(tag, "method").unwrap_or_default(), attr(tag, "enctype").unwrap_or_default(), hidden, file)
}

#[tokio::test]
async fn the_identity_replacement_works_as_a_plain_form_without_javascript() {
    use reqwest::multipart::{Form, Part};
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let (resident, id) = maria_applies(&app, ("dni.png", PNG.to_vec()), ("certificado.jpg", JPEG.to_vec())).await;
    analyse(&app).await;
    let page = app.page(&resident, &format!("/applications/{id}")).await;
    let (method, enctype, hidden, file) = identity_form(&page, &id);
    assert_eq!((method.as_str(), enctype.as_str()), ("post", "multipart/form-data"));
    assert_eq!(hidden.first().map(|(n, _)| n.as_str()), Some("csrf_token"), "the token first: {hidden:?}");
    assert_eq!(file, "identity_document");

    // What the browser sends: the fields in order, the file with its name and type, the
    // page's origin; and it follows the 303.
    let post = |file_part: Option<Part>| {
        let mut form = Form::new();
        for (n, v) in &hidden {
            form = form.text(n.clone(), v.replace("&#43;", "+").replace("&#61;", "="));
        }
        form = form.part(file.clone(), file_part.unwrap_or_else(|| Part::bytes(Vec::new()).file_name("")));
        resident
            .post(app.url(&format!("/applications/{id}/identity")))
            .header("origin", app.address.clone())
            .header("referer", app.url(&format!("/applications/{id}")))
            .multipart(form)
            .send()
    };
    // Nothing chosen: the page again with the message, nothing changed.
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("action=\"/applications/"), "the form again");
    assert_eq!(app.documents_of(&id).await.iter().filter(|d| d.kind == "identity_document").count(), 1);

    let card = Part::bytes(png(&dni_card(CARD))).file_name("IMG_2041.png").mime_str("image/png").unwrap();
    let res = post(Some(card)).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/applications/{id}"));
    let own = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(own.contains("Recibimos el nuevo archivo de tu DNI"), "{own}");
    assert_eq!(app.audit_count("application.identity_replaced").await, 1);
    assert_eq!(analyse(&app).await, 1);
    let review = app.page(&o, &format!("/officer/applications/{id}")).await;
    assert!(review.contains("DNI leído del código: coincide (número y nombre)"));
}
