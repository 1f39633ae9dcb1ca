//! Residents applying with documents: validation, storage, encryption, access, withdraw
//! and resubmit.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::db::models::Document;
use vecinal::db::schema::{applications, document_chunks, groups};
use vecinal::domain::Role;

use crate::helpers::*;

/// Everything a failed submission must not leave behind.
async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.count("applications").await, 0);
    assert_eq!(app.count("documents").await, 0);
    assert_eq!(app.count("document_blobs").await, 0);
    assert_eq!(app.count("application_events").await, 0);
    assert_eq!(app.count("mail_outbox").await, 0);
}

#[tokio::test]
async fn a_complete_application_is_submitted_stored_encrypted_and_served_back() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;

    let form = app.get_with(&c, "/applications/new?group=centro").await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let csrf = html.find("name=\"csrf_token\"").unwrap();
    assert!(csrf < html.find("name=\"street_address\"").unwrap(), "the token comes first in the form");

    let id = app.submit(&c, "centro").await;
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("Enviada"), "status in plain words");
    assert!(page.contains("30.123.456"));
    assert!(page.contains("Barrio centro"));

    assert_eq!(app.status_of(&id).await.0, "submitted");
    let mail = app.last_mail_to("ana@example.com").await;
    assert!(mail.subject.contains("Recibimos tu solicitud"), "{}", mail.subject);
    assert!(mail.text.contains(&format!("/applications/{id}")));

    let docs = app.documents_of(&id).await;
    let types: Vec<(&str, &str)> = docs.iter().map(|d| (d.kind.as_str(), d.media_type.as_str())).collect();
    assert_eq!(
        types,
        [("criminal_record", "image/jpeg"), ("identity_document", "image/png"), ("residency_proof", "application/pdf")]
    );
    let pdf_doc = docs.iter().find(|d| d.kind == "residency_proof").unwrap();
    use sha2::Digest;
    assert_eq!(pdf_doc.sha256, hex::encode(sha2::Sha256::digest(PDF.as_slice())));
    assert_eq!(pdf_doc.size_bytes, PDF.len() as i64);
    assert_eq!(pdf_doc.original_name, "factura-luz.pdf");

    // At rest the file is ciphertext: neither equal to nor containing the upload.
    let doc_id = pdf_doc.id.clone();
    let blob: Vec<u8> = app
        .state
        .db(move |c| {
            let pieces: Vec<Vec<u8>> = document_chunks::table
                .filter(document_chunks::document_id.eq(doc_id))
                .order(document_chunks::seq.asc())
                .select(document_chunks::bytes)
                .load(c)?;
            Ok(pieces.concat())
        })
        .await
        .unwrap();
    assert_ne!(blob, PDF.as_slice());
    assert!(!blob.windows(16).any(|w| PDF.windows(16).any(|p| p == w)), "no 16-byte run of the file is in the blob");

    // Served back byte for byte, inert.
    let res = app.get_with(&c, &format!("/applications/{id}/documents/{}", pdf_doc.id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h.get("content-type").unwrap(), "application/pdf");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert!(h.get("content-security-policy").unwrap().to_str().unwrap().starts_with("sandbox"));
    assert_eq!(h.get("cache-control").unwrap(), "no-store");
    let disposition = h.get("content-disposition").unwrap().to_str().unwrap();
    assert!(
        disposition.starts_with("attachment") && disposition.contains("factura-luz.pdf"),
        "PDFs download: {disposition}"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF.as_slice());
    for d in &docs {
        let body = app.get_with(&c, &format!("/applications/{id}/documents/{}", d.id)).await.bytes().await.unwrap();
        assert_eq!(body.as_ref(), uploaded(&d.kind), "{}", d.kind);
        if d.media_type != "application/pdf" {
            let res = app.get_with(&c, &format!("/applications/{id}/documents/{}", d.id)).await;
            assert!(
                res.headers().get("content-disposition").unwrap().to_str().unwrap().starts_with("inline"),
                "images show inline"
            );
        }
    }
    assert_eq!(app.audit_count("document.viewed").await, 6, "every view is audited");

    // The resident's home lists it, and the group offers no second application.
    let me = app.get_with(&c, "/me").await.text().await.unwrap();
    assert!(me.contains(&format!("/applications/{id}")));
    assert!(me.contains("Tenés una solicitud en curso"));
}

#[tokio::test]
async fn a_renamed_html_file_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let html = b"<!doctype html><html><script>alert(document.cookie)</script></html>".to_vec();
    let res = Submission::valid(&app, "centro").file("residency_proof", "factura.pdf", html).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("no es un PDF, JPEG ni PNG"));
    assert!(body.contains("value=\"Calle Belgrano 1234\""), "typed fields are kept");
    assert_nothing_stored(&app).await;
    for (name, bytes) in
        [("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()), ("x.zip", b"PK\x03\x04....".to_vec())]
    {
        let res = Submission::valid(&app, "centro").file("identity_document", name, bytes).send(&app, &c).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
    }
    assert_nothing_stored(&app).await;
}

/// Files that start like a PDF, PNG or JPEG and are something else.
fn polyglots() -> Vec<(&'static str, Vec<u8>)> {
    let html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>".as_slice();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><text>x</text></svg>".as_slice();
    let png_signature = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    vec![
        ("factura.pdf", [b"%PDF-1.7\n".as_slice(), html].concat()),
        ("factura.pdf", [b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n".as_slice(), html].concat()),
        ("dni.png", [png_signature.as_slice(), html].concat()),
        ("certificado.jpg", [[0xFF, 0xD8, 0xFF, 0xE0].as_slice(), svg].concat()),
        ("certificado.jpg", [[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10].as_slice(), b"JFIF\0", svg].concat()),
        ("recortado.pdf", PDF[..PDF.len() / 2].to_vec()),
        ("recortado.png", PNG[..24].to_vec()),
    ]
}

#[tokio::test]
async fn files_that_only_start_like_an_accepted_type_are_refused() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    for field in ["residency_proof", "criminal_record", "identity_document"] {
        for (name, bytes) in polyglots() {
            let res = Submission::valid(&app, "centro").file(field, name, bytes).send(&app, &c).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}: {name}");
            let body = res.text().await.unwrap();
            assert!(
                body.contains("no es un PDF, JPEG ni PNG que se pueda leer"),
                "{field}: {name}: the field's message"
            );
        }
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn real_pdfs_and_photos_of_every_kind_are_accepted() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let files = [
        ("factura-luz.pdf", pdf(3, 0)),
        ("foto.jpg", image(image::ImageFormat::Jpeg, 640, 480)),
        ("captura.png", image(image::ImageFormat::Png, 300, 200)),
    ];
    for (n, (name, bytes)) in files.iter().enumerate() {
        let c = app.signed_in(Role::Resident, &format!("vecina{n}@example.com")).await;
        let submission = Submission::valid(&app, "centro")
            .file("residency_proof", name, bytes.clone())
            .file("criminal_record", name, bytes.clone())
            .file("identity_document", name, bytes.clone());
        let res = submission.send(&app, &c).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
    }
    assert_eq!(app.count("documents").await, 9);
}

#[tokio::test]
async fn an_answer_to_a_request_checks_its_files_the_same_way() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let id = app.submit(&c, "centro").await;
    set_needs_info(&app, &id, "criminal_record").await;
    for (name, bytes) in polyglots() {
        let res = app.resubmit(&c, &id, Submission::answer(2).file("criminal_record", name, bytes)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
    }
    let real = image(image::ImageFormat::Jpeg, 800, 600);
    let res = app.resubmit(&c, &id, Submission::answer(2).file("criminal_record", "nuevo.jpg", real)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_oversize_file_gets_413_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 64 * 1024).await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let mut big = PDF.to_vec();
    big.resize(64 * 1024 + 1, b' ');
    let res = Submission::valid(&app, "centro").file("criminal_record", "grande.pdf", big).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("demasiado grande"));
    assert_nothing_stored(&app).await;
    // Exactly at the limit is fine.
    let exact = pdf_of_size(64 * 1024);
    assert_eq!(exact.len(), 64 * 1024);
    let res = Submission::valid(&app, "centro").file("criminal_record", "justo.pdf", exact).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn each_invalid_field_gets_its_message() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let now = app.today();
    let future = (now + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let old = (now - chrono::Duration::days(91)).format("%Y-%m-%d").to_string();
    let cases: Vec<(Submission, &str)> = vec![
        (Submission::valid(&app, "centro").without_file("criminal_record"), "Falta adjuntar este documento."),
        (Submission::valid(&app, "centro").file("identity_document", "vacio.png", vec![]), "El archivo está vacío."),
        (Submission::valid(&app, "centro").set("dni", "123"), "El DNI debe tener 7 u 8 dígitos"),
        (Submission::valid(&app, "centro").set("dni", "30.12.3456"), "El DNI debe tener 7 u 8 dígitos"),
        (Submission::valid(&app, "centro").set("certificate_issued_on", &future), "no puede ser posterior a hoy"),
        (Submission::valid(&app, "centro").set("certificate_issued_on", &old), "El certificado tiene más de 90 días"),
        (Submission::valid(&app, "centro").set("certificate_issued_on", "27/11/2026"), "Indicá la fecha de emisión"),
        (Submission::valid(&app, "centro").set("consent", "no"), "tenés que aceptar el aviso de privacidad"),
        (Submission::valid(&app, "centro").set("street_address", "x"), "Escribí tu domicilio"),
        (Submission::valid(&app, "centro").set("phone", "llamame"), "El teléfono no parece válido"),
    ];
    for (submission, message) in cases {
        let res = submission.send(&app, &c).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "expected {message:?}");
    }
    // Several mistakes at once: every message shows.
    let res = Submission::valid(&app, "centro")
        .set("dni", "1")
        .set("consent", "")
        .without_file("residency_proof")
        .send(&app, &c)
        .await;
    let body = res.text().await.unwrap();
    assert!(body.contains("El DNI debe tener") && body.contains("aceptar el aviso") && body.contains("Falta adjuntar"));
    assert_nothing_stored(&app).await;
    // Exactly 90 days old is still accepted.
    let edge = (now - chrono::Duration::days(90)).format("%Y-%m-%d").to_string();
    let res = Submission::valid(&app, "centro").set("certificate_issued_on", &edge).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn one_open_application_per_group() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    app.group("norte").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let first = app.submit(&c, "centro").await;
    let again = Submission::valid(&app, "centro").send(&app, &c).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Ya tenés una solicitud en curso"));
    assert_eq!(app.count("applications").await, 1);
    assert_eq!(app.count("documents").await, 3);
    // Another group is fine, and after withdrawing the same group is open again.
    app.submit(&c, "norte").await;
    assert_eq!(app.withdraw(&c, &first, 1).await.status(), StatusCode::SEE_OTHER);
    app.submit(&c, "centro").await;
    assert_eq!(app.count("applications").await, 3);
}

#[tokio::test]
async fn staff_and_other_residents_see_only_what_they_may() {
    let app = TestApp::spawn().await;
    let centro = app.group("centro").await;
    let norte = app.group("norte").await;
    let owner = app.signed_in(Role::Resident, "ana@example.com").await;
    let id = app.submit(&owner, "centro").await;
    let doc = app.documents_of(&id).await.remove(0);
    let path = format!("/applications/{id}/documents/{}", doc.id);

    let other_resident = app.signed_in(Role::Resident, "otra@example.com").await;
    let anonymous = client();
    let officer_elsewhere = app.officer("norte@example.com", &norte).await;
    let officer_here = app.officer("centro@example.com", &centro).await;
    let commissioner = app.commissioner("jefa@example.com").await;

    let not_found_body = app.get_with(&other_resident, "/applications/x/documents/y").await.text().await.unwrap();
    for (who, c) in [
        ("another resident", &other_resident),
        ("anonymous", &anonymous),
        ("an officer of another group", &officer_elsewhere),
    ] {
        let res = app.get_with(c, &path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who}");
        let _ = not_found_body.len();
    }
    assert_eq!(app.get_with(&officer_here, &path).await.status(), StatusCode::OK);
    assert_eq!(app.get_with(&commissioner, &path).await.status(), StatusCode::OK);
    // The resident's application page itself is the applicant's alone.
    assert_eq!(app.get_with(&other_resident, &format!("/applications/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&anonymous, &format!("/applications/{id}")).await.status(), StatusCode::SEE_OTHER);
    // A document id under another application's path is not found either.
    let other_app = app.submit(&other_resident, "centro").await;
    assert_eq!(
        app.get_with(&other_resident, &format!("/applications/{other_app}/documents/{}", doc.id)).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn set_needs_info(app: &TestApp, id: &str, kinds: &str) {
    let (id, kinds, now) = (id.to_string(), kinds.to_string(), app.state.clock.now());
    app.state
        .db(move |c| {
            diesel::update(applications::table.find(&id))
                .set((
                    applications::status.eq("needs_info"),
                    applications::requested_kinds.eq(kinds),
                    applications::version.eq(applications::version + 1),
                ))
                .execute(c)?;
            let event = vecinal::services::applications::Event {
                message: Some("El certificado está borroso."),
                ..vecinal::services::applications::Event::new("info_requested", None)
            };
            vecinal::services::applications::add_event(
                c,
                &vecinal::domain::ApplicationId::from_stored(id.clone()),
                now,
                event,
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn withdraw_and_resubmit_move_the_status() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let id = app.submit(&c, "centro").await;
    set_needs_info(&app, &id, "criminal_record").await;

    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("El certificado está borroso."), "the officer's request shows");
    assert!(page.contains("name=\"criminal_record\""), "and asks for the kinds requested");
    assert!(!page.contains("name=\"identity_document\""));

    let answer = |version: i32| Submission::answer(version).set("message", "Adjunto uno nuevo.");
    let missing = app.resubmit(&c, &id, answer(2)).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stale = app.resubmit(&c, &id, answer(1).file("criminal_record", "nuevo.pdf", PDF.to_vec())).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT, "a stale version changes nothing");
    let ok = app.resubmit(&c, &id, answer(2).file("criminal_record", "nuevo.pdf", PDF.to_vec())).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);

    assert_eq!(app.status_of(&id).await.0, "submitted");
    let docs = app.documents_of(&id).await;
    assert_eq!(docs.len(), 4, "the old certificate is kept, marked replaced");
    let current: Vec<&Document> =
        docs.iter().filter(|d| d.kind == "criminal_record" && d.replaced_at.is_none()).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].media_type, "application/pdf");
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("Adjunto uno nuevo."), "the reply is on the timeline");
    assert!(page.contains("nuevo.pdf"));

    // Withdraw, then nothing more moves.
    assert_eq!(app.withdraw(&c, &id, 3).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.withdraw(&c, &id, 4).await.status(), StatusCode::CONFLICT);
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("Retiraste esta solicitud."));
    assert!(!page.contains("/withdraw\""), "no withdraw button on a closed application");
}

#[tokio::test]
async fn only_confirmed_residents_of_active_groups_apply() {
    let app = TestApp::spawn().await;
    let gid = app.group("centro").await;
    let officer = app.signed_in(Role::Officer, "oficial@example.com").await;
    assert_eq!(app.get_with(&officer, "/applications/new?group=centro").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&client(), "/applications/new?group=centro").await.status(), StatusCode::SEE_OTHER);
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    assert_eq!(app.get_with(&c, "/applications/new?group=nada").await.status(), StatusCode::NOT_FOUND);
    app.state
        .db(move |c| Ok(diesel::update(groups::table.find(gid)).set(groups::active.eq(false)).execute(c)?))
        .await
        .unwrap();
    assert_eq!(app.get_with(&c, "/applications/new?group=centro").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(Submission::valid(&app, "centro").send(&app, &c).await.status(), StatusCode::NOT_FOUND);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn uploads_give_back_their_share_of_the_memory_budget_whatever_the_outcome() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 64 * 1024).await;
    app.group("centro").await;
    let full = app.state.uploads.available_kib();
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    // Refused by content, refused by size, then accepted.
    let html = b"<!doctype html><html></html>".to_vec();
    let res = Submission::valid(&app, "centro").file("residency_proof", "x.pdf", html).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut big = PDF.to_vec();
    big.resize(64 * 1024 + 1, b' ');
    let res = Submission::valid(&app, "centro").file("criminal_record", "grande.pdf", big).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_nothing_stored(&app).await;
    // Several at once, each from its own resident, all stored.
    let app = &app;
    let clients = futures_util::future::join_all(
        (0..6).map(|i| async move { app.signed_in(Role::Resident, &format!("v{i}@example.com")).await }),
    )
    .await;
    let sent = futures_util::future::join_all(
        clients.iter().map(|c| async { Submission::valid(app, "centro").send(app, c).await.status() }),
    )
    .await;
    assert!(sent.iter().all(|s| *s == StatusCode::SEE_OTHER), "{sent:?}");
    assert_eq!(app.count("documents").await, 18);
    assert_eq!(app.state.uploads.available_kib(), full, "every reservation returned");
    drop(clients);
}

/// A file larger than a stored piece (256 KiB) is kept in pieces and served whole; its
/// deletion removes the file at once (nothing serves it) and its bytes in short
/// transactions afterwards, pieces and drawn pages alike, leaving nothing queued.
#[tokio::test]
async fn a_large_file_is_stored_in_pieces_and_its_deletion_sweeps_them() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let big = pdf_of_size(700_000);
    let res =
        Submission::valid(&app, "centro").file("residency_proof", "escritura.pdf", big.clone()).send(&app, &c).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = application_id(&res);
    let doc = app.documents_of(&id).await.into_iter().find(|d| d.kind == "residency_proof").unwrap();
    let pieces = |doc_id: String| {
        let app = &app;
        async move {
            app.state
                .db(move |c| {
                    Ok(document_chunks::table
                        .filter(document_chunks::document_id.eq(doc_id))
                        .select(diesel::dsl::count_star())
                        .first::<i64>(c)?)
                })
                .await
                .unwrap()
        }
    };
    // 700 000 bytes and the 16-byte tag: two whole pieces and a third.
    assert_eq!(pieces(doc.id.to_string()).await, 3);
    let served = app.get_with(&c, &format!("/applications/{id}/documents/{}", doc.id)).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.unwrap().as_ref(), big.as_slice());

    let (doc_id, now) = (doc.id.to_string(), app.state.clock.now());
    let deleted =
        app.state.db(move |c| Ok(c.write_tx(|c| vecinal::documents::delete_files(c, &[doc_id], now))?)).await.unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(app.count("document_sweeps").await, 1, "queued");
    assert_eq!(
        app.get_with(&c, &format!("/applications/{id}/documents/{}", doc.id)).await.status(),
        StatusCode::NOT_FOUND,
        "not served from the deletion on"
    );
    let swept = app.state.db(|c| Ok(vecinal::documents::sweep(c)?)).await.unwrap();
    assert_eq!(swept, 1);
    assert_eq!(pieces(doc.id.to_string()).await, 0);
    assert_eq!(app.count("document_sweeps").await, 0);
    // The other two files keep theirs.
    assert_eq!(app.count("document_blobs").await, 2);
    assert!(app.count("document_chunks").await >= 2);
}
