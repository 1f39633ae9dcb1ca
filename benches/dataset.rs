//! A realistic large database for `scripts/load` (docs/PERFORMANCE.md, "Load at 1 M
//! applications"): six groups of unequal size, three years of decided applications, one in
//! twenty still open and all of those from the last 60 days, one resident per application,
//! memberships for approvals, timelines, documents of open applications, 2–4 officers per
//! group and one commissioner, all staff with one known password.
//!
//! Run on an empty or missing database:
//! `cargo bench --bench dataset -- --database-url sqlite:/tmp/load.db --applications 1000000 [--credentials FILE]`
//!
//! Rows go through the crate's own migrations and model structs, so they have the service's
//! shape. Numbers are random but seeded: two runs differ only by the time they ran.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{Duration, NaiveDateTime, Timelike};
use clap::Parser;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sha2::{Digest, Sha256};
use vecinal::db::models::{
    Application, ApplicationEvent, Document, DocumentBlob, DocumentChunk, Group, Membership, NewUser,
};
use vecinal::db::schema::{
    application_events, applications, document_blobs, document_chunks, documents, groups, memberships,
    officer_assignments, users,
};
use vecinal::db::{self, DatabaseUrl, DbConn};
use vecinal::documents::crypto;
use vecinal::documents::keys::DocumentKey;
use vecinal::domain::Zone;
use vecinal::domain::application::Status;
use vecinal::domain::membership::{self as rules, MembershipStatus};
use vecinal::domain::{ApplicationId, DocumentId, GroupId, MembershipId, UserId};

#[derive(Parser)]
struct Args {
    /// `sqlite:PATH` or `postgres://…`, empty or not yet created.
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 10_000)]
    applications: usize,
    /// Also write the staff sign-in details here, as shell variables.
    #[arg(long)]
    credentials: Option<std::path::PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Slug, name and share of all applications in per mille.
const GROUPS: [(&str, &str, u32); 6] = [
    ("centro", "Centro", 350),
    ("chacra-ii", "Chacra II", 250),
    ("chacra-xi", "Chacra XI", 150),
    ("austral", "Barrio Austral", 120),
    ("malvinas", "Malvinas Argentinas", 80),
    ("perito-moreno", "Perito Moreno", 50),
];
const OFFICERS_PER_GROUP: [usize; 6] = [4, 3, 3, 2, 2, 2];
/// The group with the two-approval rule (so `awaiting_second` exists).
const TWO_APPROVALS: usize = 3;
/// Applications the measured officer (the first of the largest group, `LOAD_OFFICER`) has
/// claimed, at every size: a full page of "claimed by me" and part of a second, so the load
/// script compares the same page at 10 k and 1 M (at random it held 13 at 10 k and 1 550 at
/// 1 M). The other claims go to the groups' other officers.
const SENIOR_CLAIMS: usize = 60;
/// Every staff account signs in with this.
const STAFF_PASSWORD: &str = "carga-de-prueba-Vecinal-2026";
/// The document key the server must be given (`VECINAL_DOCUMENT_KEY`) to open the blobs.
const DOCUMENT_KEY: [u8; 32] = *b"vecinal load test document key!!";
const YEARS: i64 = 3;
const OPEN_WITHIN_DAYS: i64 = 60;
/// Applications per flush (one multi-row insert per table on PostgreSQL).
const BATCH: usize = 1000;
/// Applications per transaction: few, large transactions, without one WAL of the whole load.
const TX_APPLICATIONS: usize = 100_000;

const FIRST_NAMES: [&str; 16] = [
    "María",
    "José",
    "Ana",
    "Juan",
    "Lucía",
    "Carlos",
    "Sofía",
    "Diego",
    "Valentina",
    "Martín",
    "Camila",
    "Pablo",
    "Florencia",
    "Jorge",
    "Agustina",
    "Raúl",
];
const LAST_NAMES: [&str; 16] = [
    "González",
    "Rodríguez",
    "Gómez",
    "Fernández",
    "López",
    "Díaz",
    "Martínez",
    "Pérez",
    "Romero",
    "Sosa",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Ramírez",
    "Flores",
    "Benítez",
];
const STREETS: [&str; 8] =
    ["San Martín", "Belgrano", "Rosales", "Perito Moreno", "Santa Fe", "Islas Malvinas", "Lasserre", "Mosconi"];

/// What one application becomes; decided first, written in a second pass.
struct Plan {
    submitted: NaiveDateTime,
    decided: Option<NaiveDateTime>,
    group: usize,
    status: Status,
    /// Membership number within its group, for approvals.
    seq: i32,
}

struct Staff {
    id: String,
    email: String,
    name: String,
    role: &'static str,
}

/// The groups and who works them.
struct Setup {
    group_ids: Vec<String>,
    /// Officer ids per group.
    officers: Vec<Vec<String>>,
    /// The commissioner first, then the officers.
    staff: Vec<Staff>,
}

/// Runs the same diesel statement on whichever backend the connection is: the
/// multi-backend connection has no batch insert, the concrete ones do.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match &mut *$conn {
            DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid().to_string()
}

/// A random instant in `[from, to]`, to the second.
fn between(rng: &mut StdRng, from: NaiveDateTime, to: NaiveDateTime) -> NaiveDateTime {
    let span = (to - from).num_seconds().max(0);
    from + Duration::seconds(rng.gen_range(0..=span))
}

/// Chooses an index by weights.
fn pick(rng: &mut StdRng, weights: &[u32]) -> usize {
    let mut r = rng.gen_range(0..weights.iter().sum::<u32>());
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// Submission times over three years, oldest first. Six in ten arrive in the same second as
/// the one before, so equal timestamps (which keyset paging must get right) are common.
fn submission_times(rng: &mut StdRng, n: usize, now: NaiveDateTime) -> Vec<NaiveDateTime> {
    let gaps: Vec<f64> =
        (0..n).map(|i| if i > 0 && rng.gen_bool(0.6) { 0.0 } else { -(1.0 - rng.r#gen::<f64>()).ln() }).collect();
    let span = (Duration::days(365 * YEARS) - Duration::hours(1)).num_seconds() as f64;
    let scale = span / gaps.iter().sum::<f64>().max(1.0);
    let start = now - Duration::days(365 * YEARS);
    let mut t = 0.0;
    gaps.iter()
        .map(|g| {
            t += g * scale;
            start + Duration::seconds(t as i64)
        })
        .collect()
}

fn plan(rng: &mut StdRng, n: usize, now: NaiveDateTime) -> Vec<Plan> {
    let times = submission_times(rng, n, now);
    let recent_from = now - Duration::days(OPEN_WITHIN_DAYS);
    let recent = times.iter().filter(|t| **t >= recent_from).count().max(1);
    // One in twenty open, all of them recent.
    let open_share = ((n / 20) as f64 / recent as f64).min(1.0);
    let weights: Vec<u32> = GROUPS.iter().map(|g| g.2).collect();
    let (min_delay, max_delay) = ((2.0f64 * 3600.0).ln(), (21.0f64 * 86400.0).ln());
    let mut plans: Vec<Plan> = times
        .into_iter()
        .map(|submitted| {
            let group = pick(rng, &weights);
            let open = submitted >= recent_from && rng.gen_bool(open_share);
            let (status, decided) = if open {
                let status = if group == TWO_APPROVALS {
                    [Status::Submitted, Status::InReview, Status::NeedsInfo, Status::AwaitingSecond]
                        [pick(rng, &[60, 15, 10, 15])]
                } else {
                    [Status::Submitted, Status::InReview, Status::NeedsInfo][pick(rng, &[72, 16, 12])]
                };
                (status, None)
            } else {
                // Decisions take from two hours to three weeks, most a day or two (log-uniform).
                let delay = Duration::seconds(rng.gen_range(min_delay..max_delay).exp() as i64);
                let decided = if submitted + delay < now { submitted + delay } else { between(rng, submitted, now) };
                let status = [Status::Approved, Status::Rejected, Status::Withdrawn][pick(rng, &[72, 21, 7])];
                (status, Some(decided))
            };
            Plan { submitted, decided, group, status, seq: 0 }
        })
        .collect();
    // Membership numbers follow the order of approval within each group.
    let mut approved: Vec<usize> = (0..n).filter(|i| plans[*i].status == Status::Approved).collect();
    approved.sort_by_key(|i| plans[*i].decided);
    let mut seq = [0i32; 6];
    for i in approved {
        let p = &mut plans[i];
        seq[p.group] += 1;
        p.seq = seq[p.group];
    }
    plans
}

/// Rows waiting to be written, flushed together in the order foreign keys need.
#[derive(Default)]
struct Buffers {
    /// id, email, full name, locale, created, confirmed.
    users: Vec<(String, String, String, &'static str, NaiveDateTime, NaiveDateTime)>,
    applications: Vec<Application>,
    documents: Vec<Document>,
    blobs: Vec<DocumentBlob>,
    chunks: Vec<DocumentChunk>,
    events: Vec<ApplicationEvent>,
    memberships: Vec<Membership>,
}

impl Buffers {
    fn flush(&mut self, conn: &mut DbConn, password_hash: &str) -> QueryResult<()> {
        let users: Vec<NewUser> = self
            .users
            .iter()
            .map(|(id, email, name, locale, created, confirmed)| NewUser {
                id,
                email,
                full_name: name,
                password_hash: Some(password_hash),
                role: "resident",
                locale,
                email_confirmed_at: Some(*confirmed),
                active: true,
                created_at: *created,
                updated_at: *confirmed,
            })
            .collect();
        insert_rows!(conn, users::table, &users)?;
        insert_rows!(conn, applications::table, &self.applications)?;
        if !self.documents.is_empty() {
            insert_rows!(conn, documents::table, &self.documents)?;
            insert_rows!(conn, document_blobs::table, &self.blobs)?;
            insert_rows!(conn, document_chunks::table, &self.chunks)?;
        }
        insert_rows!(conn, application_events::table, &self.events)?;
        if !self.memberships.is_empty() {
            insert_rows!(conn, memberships::table, &self.memberships)?;
        }
        drop(users);
        *self = Buffers::default();
        Ok(())
    }
}

/// The generator's state while it writes applications.
struct Writer {
    rng: StdRng,
    now: NaiveDateTime,
    group_ids: Vec<String>,
    /// Officer ids per group.
    officers: Vec<Vec<String>>,
    key: DocumentKey,
    buf: Buffers,
    counts: [usize; 4],
    /// Claims the measured officer holds so far (up to `SENIOR_CLAIMS`).
    senior_claims: usize,
}

impl Writer {
    fn event(
        &mut self,
        app: &str,
        at: NaiveDateTime,
        actor: &str,
        kind: &str,
        message: Option<&str>,
        details: serde_json::Value,
    ) {
        let id = uuid(&mut self.rng);
        self.buf.events.push(ApplicationEvent {
            id,
            application_id: ApplicationId::from_stored(app.to_string()),
            at,
            actor_id: Some(UserId::from_stored(actor.to_string())),
            kind: kind.to_string(),
            message: message.map(str::to_string),
            internal: false,
            details: details.to_string(),
        });
    }

    /// Two different officers of the group.
    fn officers_of(&mut self, group: usize) -> (String, String) {
        let list = &self.officers[group];
        let a = self.rng.gen_range(0..list.len());
        let b = (a + 1 + self.rng.gen_range(0..list.len() - 1)) % list.len();
        (list[a].clone(), list[b].clone())
    }

    fn add(&mut self, i: usize, p: &Plan) {
        let now = self.now;
        let rng = &mut self.rng;
        let (resident, app) = (uuid(rng), uuid(rng));
        let created = p.submitted - Duration::seconds(rng.gen_range(300..3 * 86400));
        let confirmed = between(rng, created, created + (p.submitted - created) / 10);
        let name = format!(
            "{} {} {}",
            FIRST_NAMES[rng.gen_range(0..16)],
            LAST_NAMES[rng.gen_range(0..16)],
            LAST_NAMES[rng.gen_range(0..16)]
        );
        let locale = if rng.gen_bool(0.1) { "en" } else { "es" };
        self.buf.users.push((resident.clone(), format!("vecino{i}@carga.test"), name, locale, created, confirmed));

        let (mut first, second) = self.officers_of(p.group);
        if p.status == Status::InReview {
            let senior = &self.officers[0][0];
            if self.senior_claims < SENIOR_CLAIMS && self.officers[p.group].contains(senior) {
                first = senior.clone();
                self.senior_claims += 1;
            } else if first == *senior {
                first = second.clone();
            }
        }
        let decided = p.decided.unwrap_or(now);
        let rng = &mut self.rng;
        // The claim comes between submission and decision; a current claim is younger than
        // the claim period, so the jobs do not release it.
        let claimed_at = match p.status {
            Status::InReview => between(rng, p.submitted.max(now - Duration::hours(20)), now),
            _ => p.submitted + (decided - p.submitted) * rng.gen_range(1..9) / 10,
        };
        let step_at = between(rng, claimed_at, decided);
        let version = match p.status {
            Status::Submitted => 1,
            Status::InReview | Status::Withdrawn => 2,
            Status::NeedsInfo | Status::AwaitingSecond | Status::Rejected => 3,
            Status::Approved if p.group == TWO_APPROVALS => 4,
            Status::Approved => 3,
        };
        let two_step = p.status == Status::AwaitingSecond || (p.status == Status::Approved && p.group == TWO_APPROVALS);
        self.buf.applications.push(Application {
            id: ApplicationId::from_stored(app.clone()),
            resident_id: UserId::from_stored(resident.clone()),
            group_id: GroupId::from_stored(self.group_ids[p.group].clone()),
            status: p.status,
            street_address: format!("{} {}", STREETS[rng.gen_range(0..8)], rng.gen_range(1..3000)),
            dni: rng.gen_range(20_000_000..48_000_000).to_string(),
            phone: rng.gen_bool(0.6).then(|| format!("+54 2964 {}", rng.gen_range(400_000..699_999))),
            certificate_issued_on: p.submitted.date() - Duration::days(rng.gen_range(0..60)),
            requested_kinds: if p.status == Status::NeedsInfo { "residency_proof".into() } else { String::new() },
            version,
            claimed_by: (p.status == Status::InReview).then(|| UserId::from_stored(first.clone())),
            claimed_at: (p.status == Status::InReview).then_some(claimed_at),
            first_approver: two_step.then(|| UserId::from_stored(first.clone())),
            consented_at: p.submitted,
            submitted_at: p.submitted,
            decided_at: p.decided,
            created_at: p.submitted,
            updated_at: match p.status {
                Status::Submitted => p.submitted,
                Status::InReview => claimed_at,
                Status::NeedsInfo | Status::AwaitingSecond => step_at,
                _ => decided,
            },
            renewal_of: None,
            // Who closed it, as the review records it: the confirming officer of a
            // two-approval group, otherwise the one who approved or rejected.
            decided_by: match p.status {
                Status::Approved if two_step => Some(UserId::from_stored(second.clone())),
                Status::Approved | Status::Rejected => Some(UserId::from_stored(first.clone())),
                _ => None,
            },
            taken_by: None,
            dni_verdict: None,
            in_pair: false,
        });

        let checklist = json!({ "address": true, "identity": true, "certificate_date": true, "no_record": true });
        self.event(&app, p.submitted, &resident, "submitted", None, json!({}));
        match p.status {
            Status::Submitted => {}
            Status::Withdrawn => self.event(&app, decided, &resident, "withdrawn", None, json!({})),
            _ => {
                self.event(&app, claimed_at, &first, "claimed", None, json!({}));
                match p.status {
                    Status::NeedsInfo => self.event(
                        &app,
                        step_at,
                        &first,
                        "info_requested",
                        Some("Envíe un comprobante de domicilio a su nombre, de los últimos tres meses."),
                        json!({ "kinds": ["residency_proof"] }),
                    ),
                    Status::AwaitingSecond => {
                        self.event(&app, step_at, &first, "first_approval", None, checklist.clone())
                    }
                    Status::Approved if two_step => {
                        self.event(&app, step_at, &first, "first_approval", None, checklist.clone());
                        self.event(&app, decided, &second, "approved", None, checklist.clone());
                    }
                    Status::Approved => self.event(&app, decided, &first, "approved", None, checklist.clone()),
                    Status::Rejected => {
                        let reason = ["not_resident", "record_found", "unreadable", "certificate_too_old"]
                            [pick(&mut self.rng, &[40, 15, 25, 20])];
                        self.event(&app, decided, &first, "rejected", Some(""), json!({ "reason": reason }));
                    }
                    _ => {}
                }
            }
        }
        if p.status.is_open() {
            self.documents(&app, p.submitted);
        }
        if p.status == Status::Approved {
            self.membership(p, &resident, &app, decided, &second);
        }
    }

    /// The three documents of an open application, each a tiny file encrypted as the
    /// service stores them, so the review page can open them. Each file is its own (the
    /// application's id is in it), as residents' files are: identical files across
    /// accounts are the duplicate signals, which are rare.
    fn documents(&mut self, app: &str, at: NaiveDateTime) {
        const FILES: [(&str, &str, &str, &[u8]); 3] = [
            ("residency_proof", "application/pdf", "factura-luz.pdf", b"%PDF-1.4\n% load test\n%%EOF\n"),
            ("criminal_record", "application/pdf", "certificado.pdf", b"%PDF-1.4\n% load test\n%%EOF\n"),
            ("identity_document", "image/jpeg", "dni.jpg", b"\xff\xd8\xff\xe0 load test \xff\xd9"),
        ];
        for (kind, media_type, name, template) in FILES {
            let id = uuid(&mut self.rng);
            let file = [template, app.as_bytes()].concat();
            let bytes = file.as_slice();
            let sealed = crypto::seal(&self.key, &id, kind, bytes).expect("sealing a document");
            self.buf.documents.push(Document {
                id: DocumentId::from_stored(id.clone()),
                application_id: ApplicationId::from_stored(app.to_string()),
                kind: kind.into(),
                media_type: media_type.into(),
                size_bytes: bytes.len() as i64,
                sha256: hex::encode(Sha256::digest(bytes)),
                original_name: name.into(),
                key_id: self.key.id.clone(),
                uploaded_at: at,
                replaced_at: None,
                purged_at: None,
            });
            self.buf.chunks.extend(vecinal::documents::chunks(&id, &sealed.ciphertext));
            self.buf.blobs.push(DocumentBlob { document_id: id, nonce: sealed.nonce });
        }
    }

    /// The membership an approval issued, as the jobs and officers have left it since:
    /// expired once past its validity, a few suspended or revoked, reminders sent when due,
    /// and people mostly taken out of the chat already.
    fn membership(&mut self, p: &Plan, resident: &str, app: &str, decided: NaiveDateTime, officer: &str) {
        let (now, rng) = (self.now, &mut self.rng);
        let today = Zone::default().today(now);
        let from = Zone::default().today(decided);
        let until = rules::valid_until(from, 365);
        let end_of = |d: chrono::NaiveDate| d.and_hms_opt(12, 0, 0).expect("noon exists").min(now);
        let (status, changed, reason) = if until < today {
            (MembershipStatus::Expired, end_of(until + Duration::days(1)), None)
        } else {
            match pick(rng, &[975, 15, 10]) {
                0 => (MembershipStatus::Active, decided, None),
                1 => (
                    MembershipStatus::Revoked,
                    between(rng, decided, now),
                    Some("Incumplimiento de las normas del grupo"),
                ),
                _ => (MembershipStatus::Suspended, between(rng, decided, now), Some("En revisión")),
            }
        };
        let removed = (status != MembershipStatus::Active)
            .then(|| changed + Duration::hours(rng.gen_range(2..240)))
            .filter(|t| *t < now);
        let reminded = |days: i64| {
            (status == MembershipStatus::Active && until - Duration::days(days) <= today)
                .then(|| end_of(until - Duration::days(days)))
        };
        let (r30, r7) = (reminded(30), reminded(7));
        self.counts[match status {
            MembershipStatus::Active => 0,
            MembershipStatus::Expired => 1,
            MembershipStatus::Revoked => 2,
            _ => 3,
        }] += 1;
        let token: [u8; 32] = rng.r#gen();
        let id = uuid(rng);
        self.buf.memberships.push(Membership {
            id: MembershipId::from_stored(id),
            user_id: UserId::from_stored(resident.to_string()),
            group_id: GroupId::from_stored(self.group_ids[p.group].clone()),
            application_id: ApplicationId::from_stored(app.to_string()),
            number: rules::number(GROUPS[p.group].0, p.seq),
            status,
            valid_from: from,
            valid_until: until,
            verification_token: URL_SAFE_NO_PAD.encode(token),
            status_reason: reason.map(str::to_string),
            created_at: decided,
            updated_at: changed,
            reminded_30_at: r30,
            reminded_7_at: r7,
            removed_from_chat_at: removed,
            removed_from_chat_by: removed.map(|_| officer.to_string()),
        });
    }
}

/// Groups, officers (2–4 per group; the first officer of the largest group also covers the
/// next two, so one account has a large queue) and the commissioner.
fn staff_and_groups(
    conn: &mut DbConn,
    rng: &mut StdRng,
    plans: &[Plan],
    now: NaiveDateTime,
    password_hash: &str,
) -> QueryResult<Setup> {
    let since = now - Duration::days(365 * YEARS + 30);
    let mut staff = vec![Staff {
        id: uuid(rng),
        email: "comisionada@carga.test".into(),
        name: "Ana Gómez".into(),
        role: "commissioner",
    }];
    let mut group_ids = Vec::new();
    let mut officers: Vec<Vec<String>> = vec![Vec::new(); GROUPS.len()];
    for (g, per_group) in OFFICERS_PER_GROUP.iter().enumerate() {
        group_ids.push(uuid(rng));
        for _ in 0..*per_group {
            let n = staff.len();
            let name = format!("{} {}", FIRST_NAMES[n % 16], LAST_NAMES[(n * 7) % 16]);
            staff.push(Staff { id: uuid(rng), email: format!("oficial{n}@carga.test"), name, role: "officer" });
            officers[g].push(staff[n].id.clone());
        }
    }
    let senior = officers[0][0].clone();
    officers[1].push(senior.clone());
    officers[2].push(senior);

    let rows: Vec<NewUser> = staff
        .iter()
        .map(|s| NewUser {
            id: &s.id,
            email: &s.email,
            full_name: &s.name,
            password_hash: Some(password_hash),
            role: s.role,
            locale: "es",
            email_confirmed_at: Some(since),
            active: true,
            created_at: since,
            updated_at: since,
        })
        .collect();
    insert_rows!(conn, users::table, &rows)?;
    let group_rows: Vec<Group> = GROUPS
        .iter()
        .enumerate()
        .map(|(g, (slug, name, _))| Group {
            id: GroupId::from_stored(group_ids[g].clone()),
            slug: slug.to_string(),
            name: name.to_string(),
            description: format!("Vecinos de {name}, Río Grande."),
            area: format!("Barrio {name}, entre las avenidas principales."),
            invite_link: format!("https://chat.example.org/invite/{slug}"),
            validity_days: 365,
            certificate_max_age_days: 90,
            two_approvals: g == TWO_APPROVALS,
            active: true,
            created_at: since,
            updated_at: since,
            // The counter the next approval continues from.
            member_seq: plans.iter().filter(|p| p.group == g).map(|p| p.seq).max().unwrap_or(0),
        })
        .collect();
    insert_rows!(conn, groups::table, &group_rows)?;
    for (g, list) in officers.iter().enumerate() {
        for officer in list {
            diesel::insert_into(officer_assignments::table)
                .values((
                    officer_assignments::officer_id.eq(officer),
                    officer_assignments::group_id.eq(&group_ids[g]),
                    officer_assignments::created_at.eq(since),
                ))
                .execute(conn)?;
        }
    }
    Ok(Setup { group_ids, officers, staff })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database_url).map_err(anyhow::Error::msg)?;
    let n = args.applications;
    anyhow::ensure!(n >= 100, "--applications must be at least 100");
    let started = Instant::now();
    db::run_migrations(&url)?;
    let mut conn = db::establish(&url)?;
    if let DbConn::Sqlite(c) = &mut conn {
        use diesel::connection::SimpleConnection;
        // Loading speed only: a large page cache for the random-key indexes, and no fsync
        // (a crash mid-load means loading again). The file ends up as the service keeps it.
        c.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;")?;
    }
    let existing: i64 = applications::table.count().get_result(&mut conn)?;
    anyhow::ensure!(existing == 0, "{} already has applications; give an empty database", url.redacted());

    // Whole seconds, so that applications of one burst share their timestamp exactly.
    let now = chrono::Utc::now().naive_utc().with_nanosecond(0).expect("zero is a valid nanosecond");
    let mut rng = StdRng::seed_from_u64(11);
    let plans = plan(&mut rng, n, now);
    // One hash for every account: hashing a million passwords would take hours.
    let password_hash = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"vecinal load test salt").map_err(|e| anyhow::anyhow!("{e}"))?;
        argon2::Argon2::default()
            .hash_password(STAFF_PASSWORD.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string()
    };
    let Setup { group_ids, officers, staff } =
        conn.write_tx(|c| staff_and_groups(c, &mut rng, &plans, now, &password_hash))?;

    // PostgreSQL runs the summary, channel and duplicate-pair triggers row by row through
    // plpgsql: with them on, 100 000 applications took five minutes (six at most with the
    // channel counts on alone), so a million would take close to an hour. They are off while
    // loading; the script's `vecinal stats rebuild` then fills the summary and channel rows
    // and records the pairs, as after any bulk load. SQLite's triggers cost little, so
    // there they count and pair as rows go in.
    let pg_triggers = |conn: &mut DbConn, action: &str| -> QueryResult<()> {
        if let DbConn::Pg(c) = conn {
            use diesel::connection::SimpleConnection;
            c.batch_execute(&format!(
                "ALTER TABLE applications {action} TRIGGER application_counts_change; \
                 ALTER TABLE applications {action} TRIGGER channel_counts_change; \
                 ALTER TABLE applications {action} TRIGGER duplicate_pairs_dni; \
                 ALTER TABLE documents {action} TRIGGER duplicate_pairs_file; \
                 ALTER TABLE memberships {action} TRIGGER member_counts_change;"
            ))?;
        }
        Ok(())
    };
    pg_triggers(&mut conn, "DISABLE")?;
    let key = DocumentKey::from_bytes(DOCUMENT_KEY);
    let mut w =
        Writer { rng, now, group_ids, officers, key, buf: Buffers::default(), counts: [0; 4], senior_claims: 0 };
    for (chunk_no, chunk) in plans.chunks(TX_APPLICATIONS).enumerate() {
        conn.write_tx(|c| -> QueryResult<()> {
            for (j, batch) in chunk.chunks(BATCH).enumerate() {
                for (k, p) in batch.iter().enumerate() {
                    w.add(chunk_no * TX_APPLICATIONS + j * BATCH + k, p);
                }
                w.buf.flush(c, &password_hash)?;
            }
            Ok(())
        })?;
        let done = (chunk_no * TX_APPLICATIONS + chunk.len()).min(n);
        eprintln!("{done} applications written, {:.0} s", started.elapsed().as_secs_f64());
    }

    pg_triggers(&mut conn, "ENABLE")?;

    // Statistics as the service gathers them: its own PRAGMA optimize on SQLite; on
    // PostgreSQL what autovacuum does after a bulk insert (VACUUM for the visibility map
    // index-only scans need, ANALYZE for the planner).
    match &mut conn {
        DbConn::Sqlite(c) => {
            use diesel::connection::SimpleConnection;
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        DbConn::Pg(c) => {
            use diesel::connection::SimpleConnection;
            c.batch_execute("VACUUM (ANALYZE);")?;
        }
    }
    db::dialect::optimize(&mut conn)?;

    let count = |status: Status| plans.iter().filter(|p| p.status == status).count();
    let events: i64 = application_events::table.count().get_result(&mut conn)?;
    println!(
        "{} applications in {:.0} s ({}): open {} (submitted {}, in_review {}, needs_info {}, awaiting_second {}), \
         approved {}, rejected {}, withdrawn {}; memberships active {}, expired {}, revoked {}, suspended {}; \
         {events} timeline events; {} staff",
        n,
        started.elapsed().as_secs_f64(),
        url.redacted(),
        plans.iter().filter(|p| p.status.is_open()).count(),
        count(Status::Submitted),
        count(Status::InReview),
        count(Status::NeedsInfo),
        count(Status::AwaitingSecond),
        count(Status::Approved),
        count(Status::Rejected),
        count(Status::Withdrawn),
        w.counts[0],
        w.counts[1],
        w.counts[2],
        w.counts[3],
        staff.len(),
    );
    let officer = &staff[1];
    let credentials = format!(
        "# Staff of the load-test database {} (benches/dataset.rs)\n\
         LOAD_PASSWORD='{STAFF_PASSWORD}'\n\
         LOAD_COMMISSIONER='{}'\n\
         # Officer of {}, {} and {}\n\
         LOAD_OFFICER='{}'\n\
         LOAD_GROUP='{}'\n\
         VECINAL_DOCUMENT_KEY='{}'\n",
        url.redacted(),
        staff[0].email,
        GROUPS[0].1,
        GROUPS[1].1,
        GROUPS[2].1,
        officer.email,
        w.group_ids[0],
        STANDARD.encode(DOCUMENT_KEY),
    );
    print!("{credentials}");
    if let Some(path) = &args.credentials {
        std::fs::write(path, &credentials)?;
    }
    Ok(())
}
