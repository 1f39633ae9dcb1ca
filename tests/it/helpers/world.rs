//! The world builder: groups, people, applications and decisions, for every test module.
//!
//! Groups, officer assignments and accounts are written straight to the database (group
//! management, staff invitations and registration have tests of their own;
//! `register_and_confirm` takes the public way when a test needs it); everything a person
//! does after that goes through the same routes a browser uses: signing in, the
//! application form, withdrawing, answering, and each step of an officer's review.
//!
//! ```ignore
//! let g = app.group("centro").await;
//! let o = app.officer("o@example.com", &g).await;
//! let (resident, id) = app.applicant("vecina@example.com", "centro").await;
//! app.claim_and_approve(&o, &id).await;
//! ```

use diesel::prelude::*;
use reqwest::{Client, Response, StatusCode};
use vecinal::db::models::{Group, NewUser};
use vecinal::db::schema::{groups, officer_assignments, users};
use vecinal::domain::{Password, Role};

use super::{PASSWORD, Submission, TestApp, client, location};

/// The four points an officer confirms to approve an application.
pub const CHECKLIST: [(&str, &str); 4] =
    [("check_address", "on"), ("check_identity", "on"), ("check_certificate_date", "on"), ("check_no_record", "on")];

/// The id of the application a submission redirected to.
pub fn application_id(res: &Response) -> String {
    location(res).trim_start_matches("/applications/").to_string()
}

// ----- groups -----

impl TestApp {
    /// A group open to applications, one officer's approval enough.
    pub async fn group(&self, slug: &str) -> String {
        self.insert_group(slug, false).await
    }

    /// A group where a second officer confirms each approval.
    pub async fn two_approval_group(&self, slug: &str) -> String {
        self.insert_group(slug, true).await
    }

    /// "Barrio {slug}", its invite link https://chat.example.org/invite/{slug}.
    async fn insert_group(&self, slug: &str, two_approvals: bool) -> String {
        let now = self.state.clock.now();
        let id = uuid::Uuid::new_v4().to_string();
        let g = Group {
            id: vecinal::domain::GroupId::from_stored(id.clone()),
            slug: slug.to_string(),
            name: format!("Barrio {slug}"),
            description: "Un barrio de prueba".into(),
            area: "Entre Av. San Martín y calle Belgrano".into(),
            invite_link: format!("https://chat.example.org/invite/{slug}"),
            validity_days: 365,
            certificate_max_age_days: 90,
            two_approvals,
            active: true,
            created_at: now,
            updated_at: now,
            member_seq: 0,
        };
        self.state.db(move |c| Ok(diesel::insert_into(groups::table).values(&g).execute(c)?)).await.unwrap();
        id
    }

    /// Makes an officer responsible for one more group.
    pub async fn assign(&self, officer_id: &str, group_id: &str) {
        let (o, g, now) = (officer_id.to_string(), group_id.to_string(), self.state.clock.now());
        self.state
            .db(move |c| {
                Ok(diesel::insert_into(officer_assignments::table)
                    .values((
                        officer_assignments::officer_id.eq(o),
                        officer_assignments::group_id.eq(g),
                        officer_assignments::created_at.eq(now),
                    ))
                    .execute(c)?)
            })
            .await
            .unwrap();
    }
}

// ----- people -----

impl TestApp {
    /// A confirmed, active account of `role` with the password PASSWORD, written straight to
    /// the database; its id.
    pub async fn create_user(&self, role: Role, email: &str, name: &str) -> String {
        let hash = vecinal::auth::password::hash_now(&Password::parse(PASSWORD, &[]).unwrap()).unwrap();
        let now = self.state.clock.now();
        let id = uuid::Uuid::new_v4().to_string();
        let (email, name, id2) = (email.to_string(), name.to_string(), id.clone());
        self.state
            .db(move |c| {
                diesel::insert_into(users::table)
                    .values(NewUser {
                        id: &id2,
                        email: &email,
                        full_name: &name,
                        password_hash: Some(&hash),
                        role: role.as_str(),
                        locale: "es",
                        email_confirmed_at: Some(now),
                        active: true,
                        created_at: now,
                        updated_at: now,
                    })
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
        id
    }

    /// A new client signed in as `email` (again, after the clock moved past a session's limits).
    pub async fn sign_in(&self, email: &str) -> Client {
        let c = client();
        let res = self.login(&c, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
        c
    }

    /// An account of `role` named `name`, signed in on a new client; the client and the id.
    pub async fn person(&self, role: Role, email: &str, name: &str) -> (Client, String) {
        let id = self.create_user(role, email, name).await;
        (self.sign_in(email).await, id)
    }

    /// An account of `role` named "Cuenta de Prueba", signed in on a new client.
    pub async fn signed_in(&self, role: Role, email: &str) -> Client {
        self.person(role, email, "Cuenta de Prueba").await.0
    }

    pub async fn commissioner(&self, email: &str) -> Client {
        self.signed_in(Role::Commissioner, email).await
    }

    /// An officer of `group_id`, signed in.
    pub async fn officer(&self, email: &str, group_id: &str) -> Client {
        let (c, id) = self.person(Role::Officer, email, "Cuenta de Prueba").await;
        self.assign(&id, group_id).await;
        c
    }

    /// A resident with this name, signed in.
    pub async fn resident(&self, email: &str, name: &str) -> Client {
        self.person(Role::Resident, email, name).await.0
    }

    /// Registers through the web form and confirms through the mailed link.
    pub async fn register_and_confirm(&self, client: &Client, email: &str, name: &str) {
        let res = self.register(client, name, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "registration accepted");
        let path = self.mailed_link(email, "/email/confirm/").await;
        let res = self.post_on(client, &path, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "confirmation accepted");
    }

    /// Chooses a password on the page of a mailed link (an invitation, a reset) after
    /// checking that the page refuses a weak one.
    pub async fn choose_password(&self, client: &Client, link: &str, password: &str) -> Response {
        let weak = self.post_on(client, link, &[("password", "123456789012")]).await;
        assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY, "{link} refuses a weak password");
        self.post_on(client, link, &[("password", password)]).await
    }
}

// ----- applications -----

impl TestApp {
    /// `c` submits the application form to the group `slug` with every field right; the id of
    /// the new application.
    pub async fn submit(&self, c: &Client, slug: &str) -> String {
        let res = Submission::valid(self, slug).send(self, c).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap_or_default());
        application_id(&res)
    }

    /// A resident (signed in) with a submitted application to the group `slug`; the client
    /// and the application's id.
    pub async fn applicant(&self, email: &str, slug: &str) -> (Client, String) {
        let c = self.signed_in(Role::Resident, email).await;
        let id = self.submit(&c, slug).await;
        (c, id)
    }

    /// A resident whose application to `slug` `officer` claimed and approved: a member of the
    /// group. The client and the application's id.
    pub async fn member(&self, email: &str, slug: &str, officer: &Client) -> (Client, String) {
        let (c, id) = self.applicant(email, slug).await;
        self.claim_and_approve(officer, &id).await;
        (c, id)
    }

    /// The applicant withdraws the application at `version`.
    pub async fn withdraw(&self, c: &Client, id: &str, version: i32) -> Response {
        self.post(c, &format!("/applications/{id}/withdraw"), &[("version", &version.to_string())]).await
    }

    /// The applicant answers a request for information.
    pub async fn resubmit(&self, c: &Client, id: &str, answer: Submission) -> Response {
        answer.send_to(self, c, &format!("/applications/{id}/resubmit")).await
    }
}

// ----- decisions -----

impl TestApp {
    /// An officer's step on an application at `version` (claim, approve, reject,
    /// request-info, confirm), with the step's own fields; the answer is the test's to check.
    pub async fn act(&self, c: &Client, id: &str, action: &str, version: i32, extra: &[(&str, &str)]) -> Response {
        let v = version.to_string();
        let mut fields = vec![("version", v.as_str())];
        fields.extend_from_slice(extra);
        self.post(c, &format!("/officer/applications/{id}/{action}"), &fields).await
    }

    /// The same step at the application's current version, which must go through.
    pub async fn decide(&self, c: &Client, id: &str, action: &str, extra: &[(&str, &str)]) {
        let res = self.act(c, id, action, self.version(id).await, extra).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{action} on {id}");
    }

    pub async fn claim(&self, c: &Client, id: &str) {
        self.decide(c, id, "claim", &[]).await;
    }

    /// Approves a claimed application with the whole checklist.
    pub async fn approve(&self, c: &Client, id: &str) {
        self.decide(c, id, "approve", &CHECKLIST).await;
    }

    pub async fn claim_and_approve(&self, c: &Client, id: &str) {
        self.claim(c, id).await;
        self.approve(c, id).await;
    }

    /// Rejects a claimed application; `fields` hold reason_code, note and internal_note.
    pub async fn reject(&self, c: &Client, id: &str, fields: &[(&str, &str)]) {
        self.decide(c, id, "reject", fields).await;
    }

    /// Asks the applicant of a claimed application for the documents `kinds`.
    pub async fn request_info(&self, c: &Client, id: &str, message: &str, kinds: &str) {
        self.decide(c, id, "request-info", &[("message", message), ("kinds", kinds)]).await;
    }

    /// A second officer confirms an approval in a two-approval group.
    pub async fn confirm(&self, c: &Client, id: &str) {
        self.decide(c, id, "confirm", &[]).await;
    }
}

// ----- the police station's desk -----

/// The claim code a receipt page shows, if it shows one.
pub fn claim_code_on(html: &str) -> Option<String> {
    let start = html.find("data-claim-code=\"")? + "data-claim-code=\"".len();
    Some(html[start..].split('"').next()?.to_string())
}

impl TestApp {
    /// `officer` takes at the desk the application of `name` (DNI `dni`, no e-mail) to the
    /// group `slug`; the application's id and the claim code its receipt showed.
    pub async fn take_at_desk(&self, officer: &Client, slug: &str, dni: &str, name: &str) -> (String, String) {
        let res = Submission::desk(self, slug, dni, name).send_to(self, officer, "/officer/desk").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap_or_default());
        let to = location(&res);
        let id = to.trim_start_matches("/officer/desk/").trim_end_matches("/receipt").to_string();
        let receipt = self.page(officer, &to).await;
        let code = claim_code_on(&receipt).expect("the first view of the receipt shows the code");
        (id, code)
    }
}
