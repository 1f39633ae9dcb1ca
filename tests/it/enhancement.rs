//! The forms with files and their script (`static/upload.js`): served like the other static
//! files, loaded only by the pages with such forms, with its texts in the page's language;
//! and the layout fixes a real browser found (see scripts/e2e for the browser's checks).

use reqwest::StatusCode;
use vecinal::domain::Role;

use crate::helpers::*;

const FILE_ACCEPT: &str = "accept=\"application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png\"";

/// The `/static/…/upload.js` address a page loads, if it loads one; asserts it is loaded
/// with `defer` and that the page has no inline script.
fn script_of(html: &str) -> Option<String> {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/static/"), "only script files of our own: {tag}");
        assert!(tag.contains(" defer"), "loaded with defer: {tag}");
    }
    let path = link_path(html, "/static/")?;
    let script = html[html.find("<script")?..].split('"').nth(1)?.to_string();
    assert!(path.starts_with("/static/"));
    Some(script)
}

/// The value of `attr="…"` in the first `<form` tag that carries `data-upload`.
fn form_attr(html: &str, attr: &str) -> Option<String> {
    let start = html.find("data-upload")?;
    let tag_start = html[..start].rfind("<form")?;
    let tag = &html[tag_start..start + html[start..].find('>')?];
    let key = format!(" {attr}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..i + tag[i..].find('"')?].to_string())
}

#[tokio::test]
async fn the_script_is_served_as_javascript_cached_for_a_year_and_the_csp_allows_only_own_files() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let html = app.get_with(&c, "/applications/new?group=centro").await.text().await.unwrap();
    let src = script_of(&html).expect("the application form loads the script");
    assert!(src.ends_with("/upload.js"), "{src}");

    let res = app.get(&src).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    assert_eq!(h.get("content-type").unwrap(), "text/javascript; charset=utf-8");
    assert_eq!(h.get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let body = res.text().await.unwrap();
    assert!(body.contains("data-upload") || body.contains("form[data-upload]"), "it is the upload script");

    // An old version's address still answers, but is not cached for long.
    let old = app.get(&src.replace(&src["/static/".len()..src.rfind('/').unwrap()], "0123456789")).await;
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(old.headers().get("cache-control").unwrap(), "no-cache");
}

#[tokio::test]
async fn the_script_has_no_texts_of_its_own() {
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/upload.js")).unwrap();
    let catalogue = vecinal::i18n::Catalog::get();
    for locale in [vecinal::domain::Locale::Es, vecinal::domain::Locale::En] {
        for key in catalogue.keys(locale).into_iter().filter(|k| k.starts_with("upload.")) {
            let text = catalogue.lookup(locale, key).unwrap();
            // The words around placeholders are enough to tell a copied text.
            let words = text.split('{').next().unwrap().trim();
            assert!(!script.contains(words), "{key} ({words}) is hard-coded in upload.js");
        }
    }
    assert!(script.is_ascii(), "no Spanish (or any other) text in the script");
}

#[tokio::test]
async fn the_application_form_carries_the_limit_and_the_texts_in_the_page_language() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 3 * 1024 * 1024).await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let html = app.get_with(&c, "/applications/new?group=centro").await.text().await.unwrap();
    assert_eq!(form_attr(&html, "data-max-bytes").as_deref(), Some("3145728"));
    assert_eq!(form_attr(&html, "data-msg-reduced").as_deref(), Some("Foto reducida de {from} a {to}."));
    assert_eq!(form_attr(&html, "action").as_deref(), Some("/applications"));
    assert_eq!(html.matches(FILE_ACCEPT).count(), 3, "every file field offers the three types");
    for key in ["bad-type", "too-large", "reducing", "camera", "fix", "progress", "sending", "waiting", "cancel"] {
        let text = form_attr(&html, &format!("data-msg-{key}")).unwrap_or_default();
        assert!(!text.is_empty() && !text.starts_with("upload."), "data-msg-{key}: {text:?}");
    }

    // In English once the account says so.
    let res = app.post(&c, "/account/profile", &[("full_name", "Ana"), ("locale", "en")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_with(&c, "/applications/new?group=centro").await.text().await.unwrap();
    assert_eq!(form_attr(&html, "data-msg-reduced").as_deref(), Some("Photo reduced from {from} to {to}."));
    assert_eq!(form_attr(&html, "data-msg-cancel").as_deref(), Some("Cancel sending"));
}

#[tokio::test]
async fn the_answer_to_a_request_and_the_renewal_carry_the_script_and_other_pages_do_not() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.signed_in(Role::Resident, "ana@example.com").await;
    let id = app.submit(&c, "centro").await;
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(script_of(&page).is_none(), "no script where no file is asked for");
    assert!(!page.contains("data-upload"));

    request_information(&app, &id).await;
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(script_of(&page).is_some_and(|s| s.ends_with("/upload.js")));
    assert_eq!(form_attr(&page, "action"), Some(format!("/applications/{id}/resubmit")));
    assert!(page.contains(FILE_ACCEPT));

    for path in ["/", "/login", "/register", "/me", "/account", "/privacy"] {
        let html = app.get_with(&c, path).await.text().await.unwrap();
        assert!(script_of(&html).is_none(), "{path} loads no script");
    }
}

async fn request_information(app: &TestApp, id: &str) {
    use diesel::prelude::*;
    use vecinal::db::schema::applications;
    let id = id.to_string();
    app.state
        .db(move |c| {
            Ok(diesel::update(applications::table.find(&id))
                .set((
                    applications::status.eq("needs_info"),
                    applications::requested_kinds.eq("criminal_record"),
                    applications::version.eq(applications::version + 1),
                ))
                .execute(c)?)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_renewal_form_carries_the_script() {
    let app = TestApp::spawn().await;
    let group_id = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &group_id).await;
    app.member("juan.perez@example.com", "centro", &officer).await;
    let m = app.memberships_of(&app.user_id("juan.perez@example.com").await).await.remove(0);
    let days = (m.valid_until - app.today()).num_days() - 20;
    app.state.clock.advance(chrono::Duration::days(days));
    let resident = app.sign_in("juan.perez@example.com").await;
    let page = app.get_with(&resident, &format!("/memberships/{}/renew", m.id)).await.text().await.unwrap();
    assert!(script_of(&page).is_some_and(|s| s.ends_with("/upload.js")));
    assert_eq!(form_attr(&page, "action"), Some(format!("/memberships/{}/renew", m.id)));
    assert_eq!(form_attr(&page, "data-max-bytes"), Some(app.state.settings.max_upload_bytes.to_string()));
    assert_eq!(page.matches(FILE_ACCEPT).count(), 2);
}

#[tokio::test]
async fn an_error_page_reference_wraps_and_the_dashboard_tables_are_reachable_regions() {
    let app = TestApp::spawn().await;
    let html = app.get("/no-existe").await.text().await.unwrap();
    assert!(html.contains("<code class=\"wrap\">"), "the request id may wrap on a phone");

    app.group("centro").await;
    let c = app.commissioner("jefa@example.com").await;
    let html = app.get_with(&c, "/commissioner").await.text().await.unwrap();
    assert!(
        html.contains("<div class=\"table-scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"groups-title\">"),
        "the groups table: a scrolling region a keyboard reaches, named by its heading"
    );
    assert!(html.contains("<h2 id=\"groups-title\">"));
    assert!(!html.contains("<div class=\"table-scroll\">"), "every scrolling table of the dashboard is reachable");
}

#[tokio::test]
async fn a_deleted_member_is_named_as_such_in_the_membership_search() {
    let app = TestApp::spawn().await;
    let group_id = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &group_id).await;
    let (resident, _) = app.member("juan.perez@example.com", "centro", &officer).await;
    let res = app.post(&resident, "/account/delete", &[("delete_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let boss = app.commissioner("jefa@example.com").await;
    let html = app.get_with(&boss, "/commissioner/memberships").await.text().await.unwrap();
    let deleted = vecinal::i18n::t(vecinal::domain::Locale::Es, "lifecycle.account_deleted");
    assert!(html.contains(&format!("\">{deleted}</a></td>")), "the person link has a name: {html}");
    assert!(!html.contains("\"></a>"), "no link without text");
}
