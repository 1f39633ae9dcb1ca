//! Enrollment at the police station's desk, for residents without e-mail or a phone that
//! photographs documents: an officer takes the application in person (the same checks as
//! online), which creates an account without a password and a one-time claim code printed
//! on the receipt; decisions such a resident cannot be mailed wait in the group's desk
//! notices (`services::notices`) until an officer tells them; and the resident may later
//! claim the account at `/claim` with DNI and code, setting an e-mail address and a password.
//!
//! Each change is one transaction with its audit entry and mails, as everywhere.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::auth::throttle::{self, ThrottleKeys};
use crate::db::DbConn;
use crate::db::models::{Application, DeskClaim, Group, Membership, NewUser, User};
use crate::db::queries::scope::assigned_groups;
use crate::db::schema::{applications, desk_claims, groups, memberships, tokens, users};
use crate::documents;
use crate::domain::application::Dni;
use crate::domain::claim_code::{self, ClaimCode};
use crate::domain::membership;
use crate::domain::token::TokenPurpose;
use crate::domain::{ApplicationId, Email, GroupId, Locale, MembershipId, Password, PersonName, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{Confirm, MailKind};
use crate::services::accounts::issue_token;
use crate::services::applications::{
    Event, NewApplication, add_event, insert_submitted, notify_officers, open_application,
};
use crate::services::review::{Reviewer, find_for_officer};

/// What the officer enters at the desk, already validated.
#[derive(Debug)]
pub struct DeskEntry {
    pub full_name: PersonName,
    /// Optional: many of the people the desk serves have none.
    pub email: Option<Email>,
    pub application: NewApplication,
}

#[derive(Debug)]
pub enum TakeOutcome {
    /// The account and the application exist; the code is shown once, on the receipt.
    Taken { id: ApplicationId, code: ClaimCode },
    /// An account with this DNI or e-mail address exists already: no second one is made.
    /// `link` is the page of that person the officer may open, if any; `renewal` a
    /// membership of theirs whose renewal the officer may take at the desk instead.
    Existing { link: Option<String>, renewal: Option<MembershipId> },
}

/// The address stored for an account made at the desk without one: unique, and in the
/// `.invalid` domain, which never receives mail.
fn no_email_address(id: &UserId) -> String {
    format!("desk-{id}@invalid")
}

/// Takes an application at the desk. The group must be active and one of the officer's
/// (anything else is not found). The code is hashed and the files sealed before the
/// transaction, which creates the account, the application with its documents, the claim,
/// the timeline entry and the audit entries, and mails the group's officers as for any
/// application (and, when the resident gave an address, a confirmation link to it).
pub async fn take(state: &AppState, officer: Reviewer, mut entry: DeskEntry) -> AppResult<TakeOutcome> {
    let code = ClaimCode::generate();
    let code_hash = state.hasher.hash_secret(code.expose()).await?;
    let keys = state.keys.clone();
    let uploads = std::mem::take(&mut entry.application.uploads);
    let mut sealed = documents::seal_all(&keys, uploads).await.map_err(AppError::Internal)?;
    let settings = state.settings.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            let attempt = |conn: &mut DbConn| {
                Tx::run(conn, now, |tx| -> AppResult<TakeOutcome> {
                    let new = &entry.application;
                    let group = officer_group(tx.conn, &officer.user_id, &new.group_id)?.ok_or(AppError::NotFound)?;
                    if let Some(person) = existing_person(tx.conn, &new.dni, entry.email.as_ref())? {
                        return Ok(TakeOutcome::Existing {
                            link: link_for_officer(tx.conn, &person, &officer.user_id)?,
                            renewal: renewal_for_officer(tx.conn, &person, &officer.user_id, settings.zone.today(now))?,
                        });
                    }
                    let user_id = UserId::generate();
                    let address = entry.email.as_ref().map(|e| e.as_str().to_string());
                    diesel::insert_into(users::table)
                        .values(NewUser {
                            id: &user_id,
                            email: address.as_deref().unwrap_or(&no_email_address(&user_id)),
                            full_name: entry.full_name.as_str(),
                            password_hash: None,
                            role: Role::Resident.as_str(),
                            locale: Locale::Es.as_str(),
                            email_confirmed_at: None,
                            active: true,
                            created_at: now,
                            updated_at: now,
                        })
                        .execute(tx.conn)?;
                    let id = ApplicationId::generate();
                    let doc_ids = insert_submitted(tx, &keys, &id, &user_id, new, &mut sealed, Some(&officer.user_id))?;
                    diesel::insert_into(desk_claims::table)
                        .values(DeskClaim {
                            user_id: user_id.clone(),
                            application_id: id.clone(),
                            code_hash: code_hash.clone(),
                            created_at: now,
                            expires_at: now + claim_code::lifetime(),
                            used_at: None,
                        })
                        .execute(tx.conn)?;
                    desk_submitted_event(tx, &id, &officer.user_id)?;
                    let actor = Actor::user(&officer.user_id, Role::Officer, officer.ip.as_deref());
                    tx.audit(
                        &actor,
                        "account.desk_created",
                        Some(Subject::user(&user_id)),
                        json!({ "application_id": id, "group_id": group.id, "email_given": address.is_some() }),
                    )?;
                    tx.audit(
                        &actor,
                        "application.submitted",
                        Some(Subject { kind: "application", id: &id }),
                        json!({ "group_id": group.id, "documents": doc_ids, "desk": true, "resident_id": user_id }),
                    )?;
                    if let Some(address) = &address {
                        let token = issue_token(tx.conn, TokenPurpose::ConfirmEmail, Some(&user_id), now)?;
                        let mail = Confirm {
                            name: entry.full_name.as_str(),
                            link: &settings.link(&format!("/email/confirm/{}", token.expose())),
                        }
                        .render(Locale::Es, &settings.org_name)?;
                        tx.mail(address, &mail)?;
                    }
                    notify_officers(tx, &settings, &group, &id)?;
                    Ok(TakeOutcome::Taken { id, code: code.clone() })
                })
            };
            // Two desks entering the same e-mail at once: the loser finds the winner's account.
            crate::db::retry_on_unique_violation(conn, attempt)
        })
        .await
}

// ----- renewal at the desk -----

/// A membership whose renewal the officer may take at the desk, with what the form needs.
pub struct DeskRenewal {
    pub membership: Membership,
    pub group: Group,
    pub member: User,
    /// The application the membership came from: DNI, phone and the address on file.
    pub previous: Application,
    /// The member's application to the group already open, if any: no second one is taken.
    pub open: Option<ApplicationId>,
}

/// Whether an officer of the (active) group may take this membership's renewal at the
/// desk: the account was made at the desk and not yet claimed (no password, so its holder
/// cannot sign in to renew online) and the membership is open for renewal.
pub fn renewable_at_desk(member: &User, m: &Membership, group: &Group, today: NaiveDate) -> bool {
    group.active
        && member.role == Role::Resident
        && member.password_hash.is_none()
        && membership::renewal_open(m.status, m.valid_until, today)
}

/// The membership, if the officer may take its renewal at the desk: in one of the
/// officer's active groups, held by an account made at the desk and not claimed, and open
/// for renewal (from 30 days before its last day, or expired). Anything else is not found.
fn desk_renewal(
    conn: &mut DbConn,
    membership_id: &MembershipId,
    officer_id: &UserId,
    today: NaiveDate,
) -> AppResult<DeskRenewal> {
    let (membership, member): (Membership, User) = memberships::table
        .inner_join(users::table)
        .filter(memberships::id.eq(membership_id))
        .select((Membership::as_select(), User::as_select()))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let group = officer_group(conn, officer_id, &membership.group_id)?.ok_or(AppError::NotFound)?;
    if !renewable_at_desk(&member, &membership, &group, today) {
        return Err(AppError::NotFound);
    }
    let previous: Application = applications::table.find(&membership.application_id).first(conn)?;
    let open = open_application(conn, &member.id, &group.id)?;
    Ok(DeskRenewal { membership, group, member, previous, open })
}

/// The renewal form's data for a desk member's membership (see `desk_renewal`).
pub async fn renewal(state: &AppState, membership_id: MembershipId, officer_id: UserId) -> AppResult<DeskRenewal> {
    let today = state.today();
    state.db(move |c| desk_renewal(c, &membership_id, &officer_id, today)).await
}

#[derive(Debug)]
pub enum RenewOutcome {
    /// The renewal application exists; its receipt prints like any desk application's.
    Taken { id: ApplicationId },
    /// The member already has an application to the group open.
    AlreadyOpen { id: ApplicationId },
}

/// Takes at the desk the renewal of a desk member's membership: the same short application
/// as online (`renewal_of` set), taken by the officer, who therefore cannot approve it. The
/// files are sealed before the transaction, which checks the membership again and writes
/// the application, its documents, the timeline entry and the audit entry, and mails the
/// group's officers.
pub async fn renew(
    state: &AppState,
    officer: Reviewer,
    membership_id: MembershipId,
    mut new: NewApplication,
) -> AppResult<RenewOutcome> {
    let keys = state.keys.clone();
    let uploads = std::mem::take(&mut new.uploads);
    let mut sealed = documents::seal_all(&keys, uploads).await.map_err(AppError::Internal)?;
    let settings = state.settings.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            let result = Tx::run(conn, now, |tx| -> AppResult<RenewOutcome> {
                let r = desk_renewal(tx.conn, &membership_id, &officer.user_id, settings.zone.today(now))?;
                if let Some(id) = r.open {
                    return Ok(RenewOutcome::AlreadyOpen { id });
                }
                if new.renewal_of.as_ref() != Some(&r.membership.id) || new.group_id != r.group.id {
                    return Err(AppError::internal(anyhow::anyhow!("a desk renewal for another membership")));
                }
                let id = ApplicationId::generate();
                let doc_ids =
                    insert_submitted(tx, &keys, &id, &r.member.id, &new, &mut sealed, Some(&officer.user_id))?;
                desk_submitted_event(tx, &id, &officer.user_id)?;
                tx.audit(
                    &Actor::user(&officer.user_id, Role::Officer, officer.ip.as_deref()),
                    "application.submitted",
                    Some(Subject { kind: "application", id: &id }),
                    json!({
                        "group_id": r.group.id,
                        "documents": doc_ids,
                        "desk": true,
                        "resident_id": r.member.id,
                        "renewal_of": r.membership.id,
                    }),
                )?;
                notify_officers(tx, &settings, &r.group, &id)?;
                Ok(RenewOutcome::Taken { id })
            });
            match result {
                // Another desk took it at the same moment: theirs stands.
                Err(e) if e.is_unique_violation() => {
                    let (member, group): (UserId, GroupId) = memberships::table
                        .find(&membership_id)
                        .select((memberships::user_id, memberships::group_id))
                        .first(conn)?;
                    let id = open_application(conn, &member, &group)?.ok_or(AppError::Conflict)?;
                    Ok(RenewOutcome::AlreadyOpen { id })
                }
                other => other,
            }
        })
        .await
}

/// The timeline's first entry of an application taken at the desk: submitted by the officer.
fn desk_submitted_event(tx: &mut Tx, id: &ApplicationId, officer_id: &UserId) -> AppResult<()> {
    let e = Event { details: json!({ "desk": true }), ..Event::new("submitted", Some(officer_id)) };
    Ok(add_event(tx.conn, id, tx.now, e)?)
}

/// The officer's active groups, the ones the desk form offers.
pub async fn groups(state: &AppState, officer_id: UserId) -> AppResult<Vec<Group>> {
    state
        .db(move |c| Ok(crate::services::review::groups_of(c, &officer_id)?.into_iter().filter(|g| g.active).collect()))
        .await
}

/// The group, if it is active and assigned to the officer.
fn officer_group(conn: &mut DbConn, officer_id: &UserId, group_id: &str) -> QueryResult<Option<Group>> {
    groups::table
        .filter(groups::id.eq(group_id))
        .filter(groups::active.eq(true))
        .filter(groups::id.eq_any(assigned_groups(officer_id)))
        .first(conn)
        .optional()
}

/// The account already holding this DNI (on any of its applications) or this e-mail.
fn existing_person(conn: &mut DbConn, dni: &Dni, email: Option<&Email>) -> QueryResult<Option<UserId>> {
    let by_dni: Option<UserId> = applications::table
        .filter(applications::dni.eq(dni.as_str()))
        .select(applications::resident_id)
        .first(conn)
        .optional()?;
    if by_dni.is_some() {
        return Ok(by_dni);
    }
    match email {
        Some(e) => users::table.filter(users::email.eq(e.as_str())).select(users::id).first(conn).optional(),
        None => Ok(None),
    }
}

/// Where the officer can see this person: their newest application in the officer's
/// groups, else their membership in one of them; nothing when the person is only known
/// elsewhere (the officer may not open other groups' records).
fn link_for_officer(conn: &mut DbConn, person: &UserId, officer_id: &UserId) -> QueryResult<Option<String>> {
    let application: Option<ApplicationId> = applications::table
        .filter(applications::resident_id.eq(person))
        .filter(applications::group_id.eq_any(assigned_groups(officer_id)))
        .order((applications::created_at.desc(), applications::id.desc()))
        .select(applications::id)
        .first(conn)
        .optional()?;
    if let Some(id) = application {
        return Ok(Some(format!("/officer/applications/{id}")));
    }
    let membership: Option<String> = memberships::table
        .filter(memberships::user_id.eq(person))
        .filter(memberships::group_id.eq_any(assigned_groups(officer_id)))
        .select(memberships::id)
        .first(conn)
        .optional()?;
    Ok(membership.map(|id| format!("/officer/memberships/{id}")))
}

/// A membership of this person in the officer's groups whose renewal the desk may take.
fn renewal_for_officer(
    conn: &mut DbConn,
    person: &UserId,
    officer_id: &UserId,
    today: NaiveDate,
) -> QueryResult<Option<MembershipId>> {
    let rows: Vec<(Membership, Group, User)> = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .filter(memberships::user_id.eq(person))
        .filter(memberships::group_id.eq_any(assigned_groups(officer_id)))
        .select((Membership::as_select(), Group::as_select(), User::as_select()))
        .load(conn)?;
    Ok(rows.into_iter().find(|(m, g, u)| renewable_at_desk(u, m, g, today)).map(|(m, _, _)| m.id))
}

/// What the receipt of a desk application shows.
pub struct Receipt {
    pub application: Application,
    pub group: Group,
    pub resident: User,
    /// The officer who took it.
    pub taken_by_name: String,
    /// The account's claim (`used_at` is set once it has been claimed); a renewal taken at
    /// the desk shares the claim of the account's first application.
    pub claim: Option<DeskClaim>,
    /// For a renewal: the number of the membership it renews.
    pub renews: Option<String>,
}

/// A desk application of one of the officer's groups; any other is not found.
fn desk_application(conn: &mut DbConn, id: &ApplicationId, officer_id: &UserId) -> AppResult<(Application, Group)> {
    find_for_officer(conn, id, Some(officer_id))?.filter(|(a, _)| a.taken_by.is_some()).ok_or(AppError::NotFound)
}

pub async fn receipt(state: &AppState, id: ApplicationId, officer_id: UserId) -> AppResult<Receipt> {
    state
        .db(move |c| {
            let (application, group) = desk_application(c, &id, &officer_id)?;
            let resident: User = users::table.find(&application.resident_id).first(c)?;
            let taken_by_name = match &application.taken_by {
                Some(t) => users::table.find(t).select(users::full_name).first(c)?,
                None => String::new(),
            };
            let claim = desk_claims::table.find(&application.resident_id).first(c).optional()?;
            let renews = match &application.renewal_of {
                Some(m) => Some(memberships::table.find(m).select(memberships::number).first(c)?),
                None => None,
            };
            Ok(Receipt { application, group, resident, taken_by_name, claim, renews })
        })
        .await
}

/// A new claim code for a desk account not yet claimed (the receipt was lost, or the code
/// expired); the old one stops working. Any officer of the group may issue it.
pub async fn new_code(state: &AppState, id: ApplicationId, officer: Reviewer) -> AppResult<ClaimCode> {
    let code = ClaimCode::generate();
    let code_hash = state.hasher.hash_secret(code.expose()).await?;
    state
        .write(move |tx| {
            let (application, group) = desk_application(tx.conn, &id, &officer.user_id)?;
            let changed = diesel::update(
                desk_claims::table.find(&application.resident_id).filter(desk_claims::used_at.is_null()),
            )
            .set((
                desk_claims::code_hash.eq(&code_hash),
                desk_claims::created_at.eq(tx.now),
                desk_claims::expires_at.eq(tx.now + claim_code::lifetime()),
            ))
            .execute(tx.conn)?;
            if changed != 1 {
                return Err(AppError::Conflict);
            }
            tx.audit(
                &Actor::user(&officer.user_id, Role::Officer, officer.ip.as_deref()),
                "desk.code_issued",
                Some(Subject::user(&application.resident_id)),
                json!({ "application_id": id, "group_id": group.id }),
            )?;
            Ok(code)
        })
        .await
}

/// The membership an approved desk application earned (or renewed), for the officer to
/// print its card.
pub async fn card(state: &AppState, id: ApplicationId, officer_id: UserId) -> AppResult<(Membership, Group, User)> {
    state
        .db(move |c| {
            let (application, group) = desk_application(c, &id, &officer_id)?;
            // A renewal's card is the membership it renewed.
            let m: Membership = match &application.renewal_of {
                Some(renewed) if application.status == crate::domain::application::Status::Approved => {
                    memberships::table.find(renewed).first(c).optional()?
                }
                Some(_) => None,
                None => memberships::table.filter(memberships::application_id.eq(&id)).first(c).optional()?,
            }
            .ok_or(AppError::NotFound)?;
            let member: User = users::table.find(&application.resident_id).first(c)?;
            Ok((m, group, member))
        })
        .await
}

// ----- claiming the account -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimCheck {
    /// DNI and code match a live claim.
    Valid {
        user_id: UserId,
    },
    /// Unknown DNI, wrong, used or expired code: one answer for all.
    Invalid,
    Throttled {
        retry_at: NaiveDateTime,
    },
}

/// The claim a DNI leads to (through its desk application), whatever its state.
fn claim_by_dni(conn: &mut DbConn, dni: &Dni) -> QueryResult<Option<DeskClaim>> {
    desk_claims::table
        .inner_join(applications::table)
        .filter(applications::dni.eq(dni.as_str()))
        .select(DeskClaim::as_select())
        .first(conn)
        .optional()
}

/// Checks a DNI and claim code, counted like a sign-in attempt: reserved before the
/// (argon2) check, forgiven when right. An unknown DNI, a code that does not parse, a
/// used or expired claim all take the same time and give the same answer.
pub async fn check_claim(state: &AppState, dni_raw: &str, code_raw: &str, ip: Option<String>) -> AppResult<ClaimCheck> {
    let keys = ThrottleKeys::claim(dni_raw, ip.as_deref());
    let dni = Dni::parse(dni_raw);
    let code = ClaimCode::parse(code_raw);
    let now = state.clock.now();
    let (blocked, claim) = {
        let keys = keys.clone();
        state
            .db(move |conn| {
                let reserve = |conn: &mut DbConn| {
                    conn.write_tx(|conn| -> AppResult<_> {
                        let blocked = throttle::reserve_attempt(conn, &keys, now)?;
                        let claim = match &dni {
                            Some(d) => claim_by_dni(conn, d)?,
                            None => None,
                        };
                        Ok((blocked, claim))
                    })
                };
                crate::db::retry_on_unique_violation(conn, reserve)
            })
            .await?
    };
    if let Some(retry_at) = blocked {
        return Ok(ClaimCheck::Throttled { retry_at });
    }
    let live = claim.as_ref().filter(|c| c.used_at.is_none() && c.expires_at > now);
    let stored = live.map(|c| c.code_hash.clone());
    let typed = code.as_ref().map(|c| c.expose().to_string()).unwrap_or_default();
    let right = state.hasher.verify(&typed, stored).await? && code.is_some();
    let subject = claim.map(|c| c.user_id);
    state
        .db(move |conn| {
            let attempt = |conn: &mut DbConn| {
                Tx::run(conn, now, |tx| -> AppResult<ClaimCheck> {
                    if right && let Some(user_id) = &subject {
                        throttle::forgive(tx.conn, &keys, now)?;
                        return Ok(ClaimCheck::Valid { user_id: user_id.clone() });
                    }
                    tx.audit(
                        &Actor::anonymous(ip.as_deref()),
                        "account.claim_failed",
                        subject.as_deref().map(Subject::user),
                        json!({ "reason": if subject.is_some() { "wrong_code" } else { "unknown_dni" } }),
                    )?;
                    Ok(ClaimCheck::Invalid)
                })
            };
            crate::db::retry_on_unique_violation(conn, attempt)
        })
        .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The account has its address and password; the address's confirmation link is mailed.
    Claimed,
    Invalid,
    Throttled {
        retry_at: NaiveDateTime,
    },
    /// The address belongs to another account; nothing changed.
    EmailTaken,
}

/// Claims a desk account: with DNI and code right (checked again, counted as an attempt),
/// sets the e-mail address (unconfirmed, with a confirmation link mailed as at
/// registration) and the password, and uses the code up. Links mailed to an address the
/// desk took are spent, so they cannot confirm the new one.
pub async fn claim(
    state: &AppState,
    dni_raw: &str,
    code_raw: &str,
    email: Email,
    password: Password,
    ip: Option<String>,
) -> AppResult<ClaimOutcome> {
    let user_id = match check_claim(state, dni_raw, code_raw, ip.clone()).await? {
        ClaimCheck::Valid { user_id } => user_id,
        ClaimCheck::Invalid => return Ok(ClaimOutcome::Invalid),
        ClaimCheck::Throttled { retry_at } => return Ok(ClaimOutcome::Throttled { retry_at }),
    };
    let hash = state.hasher.hash(&password).await?;
    let settings = state.settings.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            let attempt = |conn: &mut DbConn| {
                Tx::run(conn, now, |tx| -> AppResult<ClaimOutcome> {
                    let taken: Option<UserId> = users::table
                        .filter(users::email.eq(email.as_str()))
                        .filter(users::id.ne(&user_id))
                        .select(users::id)
                        .first(tx.conn)
                        .optional()?;
                    if taken.is_some() {
                        return Ok(ClaimOutcome::EmailTaken);
                    }
                    let used = diesel::update(
                        desk_claims::table
                            .find(&user_id)
                            .filter(desk_claims::used_at.is_null())
                            .filter(desk_claims::expires_at.gt(now)),
                    )
                    .set(desk_claims::used_at.eq(Some(now)))
                    .execute(tx.conn)?;
                    if used != 1 {
                        // Used by a parallel claim since the check.
                        return Ok(ClaimOutcome::Invalid);
                    }
                    diesel::update(
                        tokens::table
                            .filter(tokens::user_id.eq(&user_id))
                            .filter(tokens::purpose.eq(TokenPurpose::ConfirmEmail.as_str()))
                            .filter(tokens::used_at.is_null()),
                    )
                    .set(tokens::used_at.eq(Some(now)))
                    .execute(tx.conn)?;
                    let user: User = users::table.find(&user_id).first(tx.conn)?;
                    diesel::update(users::table.find(&user_id))
                        .set((
                            users::email.eq(email.as_str()),
                            users::password_hash.eq(Some(&hash)),
                            users::email_confirmed_at.eq(None::<NaiveDateTime>),
                            users::updated_at.eq(now),
                        ))
                        .execute(tx.conn)?;
                    let token = issue_token(tx.conn, TokenPurpose::ConfirmEmail, Some(&user_id), now)?;
                    let mail = Confirm {
                        name: &user.full_name,
                        link: &settings.link(&format!("/email/confirm/{}", token.expose())),
                    }
                    .render(user.locale, &settings.org_name)?;
                    tx.mail(email.as_str(), &mail)?;
                    tx.audit(
                        &Actor::user(&user_id, Role::Resident, ip.as_deref()),
                        "account.claimed",
                        Some(Subject::user(&user_id)),
                        json!({}),
                    )?;
                    Ok(ClaimOutcome::Claimed)
                })
            };
            crate::db::retry_on_unique_violation(conn, attempt)
        })
        .await
}
