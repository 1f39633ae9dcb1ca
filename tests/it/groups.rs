//! Group management and the public list of groups.

use diesel::prelude::*;
use reqwest::{Client, StatusCode};
use vecinal::db::models::Group;
use vecinal::db::schema::audit_log;
use vecinal::domain::Role;

use crate::helpers::*;

const GROUPS: &str = "/commissioner/groups";

/// A valid form for "Chacra II", with `changes` replacing or adding fields.
fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", "Chacra II"),
        ("slug", "chacra-ii"),
        ("description", "Grupo de alerta de la Chacra II."),
        ("area", "Entre la avenida Santa Fe y la avenida Perito Moreno."),
        ("invite_link", "https://chat.example.org/invite/chacra-ii"),
        ("validity_days", "365"),
        ("certificate_max_age_days", "90"),
    ];
    for (k, v) in changes {
        match f.iter_mut().find(|(name, _)| name == k) {
            Some(field) => field.1 = v,
            None => f.push((k, v)),
        }
    }
    f
}

async fn create(app: &TestApp, c: &Client, changes: &[(&str, &str)]) {
    let res = app.post(c, GROUPS, &form(changes)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "group created");
    assert_eq!(location(&res), GROUPS);
}

async fn group(app: &TestApp, slug: &str) -> Option<Group> {
    let slug = slug.to_string();
    app.state.db(move |c| Ok(vecinal::db::queries::groups::find_by_slug(c, &slug)?)).await.unwrap()
}

#[derive(Queryable)]
struct Entry {
    action: String,
    actor_role: Option<String>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    details: String,
}

impl Entry {
    fn details(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap()
    }
}

/// The audit entries about groups, oldest first.
async fn group_entries(app: &TestApp) -> Vec<Entry> {
    app.state
        .db(|c| {
            Ok(audit_log::table
                .select((
                    audit_log::action,
                    audit_log::actor_role,
                    audit_log::subject_type,
                    audit_log::subject_id,
                    audit_log::details,
                ))
                .filter(audit_log::action.like("group.%"))
                .order(audit_log::seq.asc())
                .load(c)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_created_group_is_listed_for_commissioners_and_on_the_landing_page() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    assert!(app.page(&c, GROUPS).await.contains("Todavía no hay barrios. Creá el primero"));
    assert!(app.page(&client(), "/").await.contains("Todavía no hay barrios abiertos a solicitudes."));
    let home = app.page(&c, "/commissioner").await;
    assert!(home.contains(r#"href="/commissioner/groups""#) && home.contains("Administrar barrios"), "card and nav");

    let new = app.page(&c, "/commissioner/groups/new").await;
    assert!(new.contains(r#"value="365""#) && new.contains(r#"value="90""#), "default validity and certificate age");
    assert!(!new.contains("checked"), "two approvals off by default");

    create(&app, &c, &[("two_approvals", "on"), ("area", "Calle Uno\r\nCalle Dos")]).await;
    let list = app.page(&c, GROUPS).await;
    assert!(list.contains("El barrio quedó creado."), "flash message");
    for text in ["Chacra II", "chacra-ii", "Activo", "365 días", "90 días", "Sí"] {
        assert!(list.contains(text), "list shows {text}");
    }
    let g = group(&app, "chacra-ii").await.expect("stored");
    assert!(g.active && g.two_approvals);
    assert_eq!((g.validity_days, g.certificate_max_age_days), (365, 90));
    assert_eq!(g.area, "Calle Uno\nCalle Dos", "line ends normalised");

    let public = app.page(&client(), "/").await;
    for text in ["Chacra II", "Grupo de alerta de la Chacra II.", "Calle Uno\nCalle Dos", "Solicitar ingreso"] {
        assert!(public.contains(text), "landing page shows {text}");
    }
    assert!(public.contains(r#"href="/applications/new?group=chacra-ii""#));
    assert!(!public.contains("chat.example.org"), "the invite link is for members only");

    let entries = group_entries(&app).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "group.created");
    assert_eq!(entries[0].actor_role.as_deref(), Some("commissioner"));
    assert_eq!(entries[0].subject_type.as_deref(), Some("group"));
    assert_eq!(entries[0].subject_id.as_deref(), Some(g.id.as_str()));
}

#[tokio::test]
async fn editing_changes_the_group_and_may_move_its_slug() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    create(&app, &c, &[]).await;
    create(&app, &c, &[("name", "Centro"), ("slug", "centro")]).await;
    let id = group(&app, "chacra-ii").await.unwrap().id;

    let edit = app.page(&c, "/commissioner/groups/chacra-ii").await;
    assert!(edit.contains(r#"value="Chacra II""#) && edit.contains(r#"action="/commissioner/groups/chacra-ii""#));

    // Saving what is there changes nothing and records nothing.
    let res = app.post(&c, "/commissioner/groups/chacra-ii", &form(&[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(group_entries(&app).await.len(), 2, "only the two creations");

    // Another group's slug is a form error, and nothing moves.
    let res = app.post(&c, "/commissioner/groups/chacra-ii", &form(&[("slug", "centro"), ("name", "Otro")])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Ya hay un barrio con ese identificador.") && body.contains(r#"value="Otro""#));
    assert!(body.contains(r#"action="/commissioner/groups/chacra-ii""#), "the form still posts to the group");
    assert_eq!(group(&app, "chacra-ii").await.unwrap().name, "Chacra II");

    let changes = [("name", "Chacra Dos"), ("slug", "chacra-2"), ("two_approvals", "on"), ("validity_days", "180")];
    let res = app.post(&c, "/commissioner/groups/chacra-ii", &form(&changes)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), GROUPS);
    assert!(app.page(&c, GROUPS).await.contains("Los cambios del barrio se guardaron."));
    assert_eq!(app.get_with(&c, "/commissioner/groups/chacra-ii").await.status(), StatusCode::NOT_FOUND);
    let g = group(&app, "chacra-2").await.unwrap();
    assert_eq!(
        (g.id.as_str(), g.name.as_str(), g.validity_days, g.two_approvals),
        (id.as_str(), "Chacra Dos", 180, true)
    );
    assert!(app.page(&c, "/commissioner/groups/chacra-2").await.contains(r#"value="Chacra Dos""#));

    let public = app.page(&client(), "/").await;
    assert!(public.contains("Chacra Dos") && public.contains("/applications/new?group=chacra-2"));
    assert!(!public.contains("group=chacra-ii"));

    // Unticking the checkbox turns the rule off.
    let res = app.post(&c, "/commissioner/groups/chacra-2", &form(&changes[..2])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!group(&app, "chacra-2").await.unwrap().two_approvals);

    let entries = group_entries(&app).await;
    let updates: Vec<&Entry> = entries.iter().filter(|e| e.action == "group.updated").collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].subject_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        updates[0].details(),
        serde_json::json!({"changed": ["name", "slug", "validity_days", "two_approvals"]})
    );
    assert_eq!(updates[1].details(), serde_json::json!({"changed": ["validity_days", "two_approvals"]}));
    assert!(!updates[0].details.contains("Chacra Dos"), "names of fields, not values");
}

#[tokio::test]
async fn a_deactivated_group_leaves_the_landing_page_until_reactivated() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    create(&app, &c, &[]).await;
    create(&app, &c, &[("name", "Margen Sur"), ("slug", "margen-sur")]).await;

    let res = app.post(&c, "/commissioner/groups/chacra-ii/deactivate", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), GROUPS);
    let list = app.page(&c, GROUPS).await;
    assert!(list.contains("El barrio quedó desactivado") && list.contains("Inactivo") && list.contains("Chacra II"));
    assert!(list.contains(r#"action="/commissioner/groups/chacra-ii/activate""#));
    let public = app.page(&client(), "/").await;
    assert!(!public.contains("group=chacra-ii") && public.contains("group=margen-sur"));
    assert!(!group(&app, "chacra-ii").await.unwrap().active);

    // Deactivating again is no change and no entry.
    app.post(&c, "/commissioner/groups/chacra-ii/deactivate", &[]).await;
    let res = app.post(&c, "/commissioner/groups/chacra-ii/activate", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.page(&c, GROUPS).await.contains("El barrio volvió a estar activo"));
    assert!(app.page(&client(), "/").await.contains("group=chacra-ii"));
    assert!(group(&app, "chacra-ii").await.unwrap().active);

    let id = group(&app, "chacra-ii").await.unwrap().id;
    let entries = group_entries(&app).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["group.created", "group.created", "group.deactivated", "group.activated"]);
    assert!(entries[2..].iter().all(|e| e.subject_id.as_deref() == Some(id.as_str())));

    let res = app.post(&c, "/commissioner/groups/no-existe/deactivate", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_forms_show_every_message_and_store_nothing() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    let audit_before = app.count("audit_log").await;
    let bad = form(&[
        ("name", "X"),
        ("slug", "Chacra II"),
        ("area", "  "),
        ("invite_link", "http://chat.example.org/invite/x"),
        ("validity_days", "0"),
        ("certificate_max_age_days", "noventa"),
    ]);
    let res = app.post(&c, GROUPS, &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    for message in [
        "El nombre debe tener entre 2 y 80 caracteres.",
        "El identificador debe tener entre 2 y 40 caracteres",
        "Describí la zona del barrio",
        "El enlace de invitación debe ser una dirección completa que empiece con https://.",
        "La vigencia debe ser un número de días entre 1 y 3650.",
        "La antigüedad máxima del certificado debe ser un número de días entre 1 y 365.",
    ] {
        assert!(body.contains(message), "shows {message:?}");
    }
    assert!(!body.contains("La descripción puede tener"), "no message for a valid field");
    assert!(body.contains(r#"value="Chacra II""#) && body.contains(r#"value="noventa""#), "keeps what was typed");
    assert!(body.contains(r#"value="http://chat.example.org/invite/x""#));

    let res = app.post(&c, GROUPS, &form(&[("slug", "new")])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Ese identificador está reservado."));
    let res = app.post(&c, GROUPS, &form(&[("validity_days", "doce")])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("groups").await, 0);
    assert_eq!(app.count("audit_log").await, audit_before);

    create(&app, &c, &[]).await;
    let res = app.post(&c, GROUPS, &form(&[("name", "Chacra Dos")])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Ya hay un barrio con ese identificador.") && body.contains(r#"value="Chacra Dos""#));
    assert_eq!(app.count("groups").await, 1);
    assert_eq!(group_entries(&app).await.len(), 1);
}

#[tokio::test]
async fn only_commissioners_reach_group_management() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    create(&app, &c, &[("name", "Centro"), ("slug", "centro")]).await;
    let gets = [GROUPS, "/commissioner/groups/new", "/commissioner/groups/centro"];
    let posts = [
        GROUPS,
        "/commissioner/groups/centro",
        "/commissioner/groups/centro/deactivate",
        "/commissioner/groups/centro/activate",
    ];
    let takeover = form(&[("name", "Tomado"), ("slug", "tomado")]);

    let resident = app.signed_in(Role::Resident, "vecina@example.com").await;
    let officer = app.signed_in(Role::Officer, "oficial@example.com").await;
    for (who, c) in [("resident", &resident), ("officer", &officer)] {
        for path in gets {
            assert_eq!(app.get_with(c, path).await.status(), StatusCode::FORBIDDEN, "{who} GET {path}");
        }
        for path in posts {
            assert_eq!(app.post(c, path, &takeover).await.status(), StatusCode::FORBIDDEN, "{who} POST {path}");
        }
    }
    let anonymous = client();
    for path in gets {
        let res = app.get_with(&anonymous, path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "anonymous GET {path}");
        assert!(location(&res).starts_with("/login"), "anonymous GET {path}");
    }
    for path in posts {
        let res = app.post(&anonymous, path, &takeover).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "anonymous POST {path}");
        assert!(location(&res).starts_with("/login"), "anonymous POST {path}");
    }

    assert_eq!(app.count("groups").await, 1);
    let g = group(&app, "centro").await.unwrap();
    assert!(g.name == "Centro" && g.active, "nothing changed");
    assert_eq!(group_entries(&app).await.len(), 1);
    assert!(!app.page(&resident, "/").await.contains(r#"href="/commissioner/groups""#), "no nav link for residents");
}

#[tokio::test]
async fn group_posts_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let c = app.commissioner("comisaria@example.com").await;
    let _ = app.get_with(&c, "/commissioner/groups/new").await;
    let res = c.post(app.url(GROUPS)).form(&form(&[])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("groups").await, 0);

    create(&app, &c, &[]).await;
    let res = c.post(app.url("/commissioner/groups/chacra-ii/deactivate")).form(&[("x", "y")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        c.post(app.url("/commissioner/groups/chacra-ii")).form(&form(&[("name", "Sin Token")])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let g = group(&app, "chacra-ii").await.unwrap();
    assert!(g.active && g.name == "Chacra II");
}

#[tokio::test]
async fn the_privacy_notice_names_the_law_in_both_languages() {
    let app = TestApp::spawn_with(|s| s.org_name = "Comisaría Río Grande".into()).await;
    let es = app.page(&client(), "/privacy").await;
    for text in [
        "lang=\"es-AR\"",
        "El responsable de la base de datos es Comisaría Río Grande",
        "Ley 25.326",
        "30 días después de la decisión final",
        "Agencia de Acceso a la Información Pública",
        "certificado de antecedentes penales",
    ] {
        assert!(es.contains(text), "Spanish notice has {text:?}");
    }
    let en = app.client.get(app.url("/privacy")).header("accept-language", "en").send().await.unwrap();
    assert_eq!(en.status(), StatusCode::OK);
    let en = en.text().await.unwrap();
    for text in [
        "lang=\"en\"",
        "The database is the responsibility of Comisaría Río Grande",
        "Law 25.326",
        "30 days after the final decision",
        "Agencia de Acceso a la Información Pública",
        "criminal-record certificate",
    ] {
        assert!(en.contains(text), "English notice has {text:?}");
    }
    assert!(app.page(&client(), "/").await.contains(r#"<a href="/privacy">Privacidad</a>"#), "footer link");
}

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once_with_working_accounts() {
    let installation = Installation::create();
    let run = || installation.command(&["seed-demo"]).output().unwrap();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("/login"), "{stdout}");
    // "  commissioner  EMAIL  PASSWORD" and the same for the officer.
    let credentials = |role: &str| {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(role)).unwrap_or_else(|| panic!("{stdout}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        (words[1].to_string(), words[2].to_string())
    };
    let (commissioner_email, commissioner_password) = credentials("commissioner");
    let (officer_email, officer_password) = credentials("officer");
    assert_ne!(commissioner_password, officer_password);

    let again = run();
    assert!(!again.status.success(), "a second run refuses");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&again.stderr));

    let seeded = installation.db.url().clone();
    let app = TestApp::spawn_with(move |s| s.database_url = seeded).await;
    assert_eq!(app.count("groups").await, 6, "the second run added nothing");
    assert_eq!(app.count("users").await, 2);
    assert_eq!(app.count("officer_assignments").await, 6);
    let two_approvals: i64 = app
        .state
        .db(|c| {
            use vecinal::db::schema::groups;
            Ok(groups::table.filter(groups::two_approvals.eq(true)).count().get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(two_approvals, 1);
    let public = app.page(&client(), "/").await;
    assert!(public.contains("Margen Sur") && public.contains("/applications/new?group=chacra-xi"));

    for (email, password, home) in [
        (&commissioner_email, &commissioner_password, "/commissioner"),
        (&officer_email, &officer_password, "/officer"),
    ] {
        let c = client();
        let res = app.login(&c, email, password).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
        assert_eq!(location(&res), home);
    }
    let out = installation.command(&["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
