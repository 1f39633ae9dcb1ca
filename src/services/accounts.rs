//! Accounts: registration, email confirmation, sign-in and out, password reset and change,
//! profile, first-commissioner setup. Each change is one transaction with its audit entry
//! and the mail that reports it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{self, Actor, Subject};
use crate::auth::session;
use crate::auth::throttle::{self, ThrottleKeys};
use crate::db::DbConn;
use crate::db::models::{NewToken, NewUser, Token, User};
use crate::db::schema::{tokens, users};
use crate::domain::UserId;
use crate::domain::token::{SecretToken, TokenPurpose};
use crate::domain::{Email, Locale, Password, PersonName, Role};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{AlreadyRegistered, Confirm, MailKind, PasswordChanged, Reset};

pub fn find_by_email(conn: &mut DbConn, email: &Email) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email.as_str())).first(conn).optional()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<User>> {
    users::table.find(id).first(conn).optional()
}

pub(crate) fn locale_of(user: &User) -> Locale {
    user.locale
}

pub(crate) fn role_of(user: &User) -> Role {
    user.role
}

/// Stores a new single-use token and returns it.
pub(crate) fn issue_token(
    conn: &mut DbConn,
    purpose: TokenPurpose,
    user_id: Option<&UserId>,
    now: NaiveDateTime,
) -> QueryResult<SecretToken> {
    let token = SecretToken::generate();
    diesel::insert_into(tokens::table)
        .values(NewToken {
            id: &token.hash(),
            purpose: purpose.as_str(),
            user_id: user_id.map(|u| u.as_str()),
            created_at: now,
            expires_at: now + purpose.lifetime(),
        })
        .execute(conn)?;
    Ok(token)
}

/// The unused, unexpired token of this purpose, if any.
/// A live token and the account it was issued for.
pub(crate) fn live_token_account(
    conn: &mut DbConn,
    token: &SecretToken,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<Option<(Token, User)>> {
    let Some(t) = live_token(conn, token, purpose, now)? else { return Ok(None) };
    let Some(user_id) = &t.user_id else { return Ok(None) };
    Ok(find_by_id(conn, user_id)?.map(|user| (t, user)))
}

pub(crate) fn live_token(
    conn: &mut DbConn,
    token: &SecretToken,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<Option<Token>> {
    tokens::table
        .find(token.hash())
        .filter(tokens::purpose.eq(purpose.as_str()))
        .filter(tokens::used_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .first(conn)
        .optional()
}

pub(crate) fn use_token(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tokens::table.find(id)).set(tokens::used_at.eq(now)).execute(conn)?;
    Ok(())
}

/// A token's account, for forms that need the person's data before the change (the
/// password policy refuses passwords built from name and email).
pub async fn token_user(state: &AppState, token: &SecretToken, purpose: TokenPurpose) -> AppResult<Option<User>> {
    let now = state.clock.now();
    let token = token.clone();
    state.db(move |conn| Ok(live_token_account(conn, &token, purpose, now)?.map(|(_, user)| user))).await
}

pub fn token_is_live(
    conn: &mut DbConn,
    token: &SecretToken,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(live_token(conn, token, purpose, now)?.is_some())
}

pub struct Registration {
    pub full_name: PersonName,
    pub email: Email,
    pub password: Password,
}

/// Registers a resident. The outcome is deliberately invisible to the caller: when the
/// email already has an account, its owner gets a notice instead of a confirmation, and
/// the page says the same either way.
pub async fn register(state: &AppState, reg: Registration, locale: Locale, ip: Option<String>) -> AppResult<()> {
    // Hash first, whichever way it goes, so both paths take as long.
    let hash = state.hasher.hash(&reg.password).await?;
    let now = state.clock.now();
    let settings = state.settings.clone();
    state
        .db(move |conn| {
            let attempt = |conn: &mut DbConn| {
                Tx::run(conn, now, |tx| -> AppResult<()> {
                    if let Some(ip) = &ip
                        && !throttle::take_allowance(
                            tx.conn,
                            &format!("register:{ip}"),
                            crate::domain::throttle::REGISTRATIONS_PER_WINDOW,
                            now,
                        )?
                    {
                        return Err(AppError::TooManyRequests { retry_after_secs: 3600 });
                    }
                    if let Some(existing) = find_by_email(tx.conn, &reg.email)? {
                        if !throttle::take_mail_allowance(tx.conn, &existing.email, now)? {
                            return Ok(());
                        }
                        let l = locale_of(&existing);
                        let mail = AlreadyRegistered {
                            name: &existing.full_name,
                            link: &settings.link("/login"),
                            reset_link: &settings.link("/password/forgot"),
                        }
                        .render(l, &settings.org_name)?;
                        tx.mail(&existing.email, &mail)?;
                        tx.audit(
                            &Actor::anonymous(ip.as_deref()),
                            "account.register_existing",
                            Some(Subject::user(&existing.id)),
                            json!({}),
                        )?;
                        return Ok(());
                    }
                    let id = UserId::generate();
                    diesel::insert_into(users::table)
                        .values(NewUser {
                            id: &id,
                            email: reg.email.as_str(),
                            full_name: reg.full_name.as_str(),
                            password_hash: Some(&hash),
                            role: Role::Resident.as_str(),
                            locale: locale.as_str(),
                            email_confirmed_at: None,
                            active: true,
                            created_at: now,
                            updated_at: now,
                        })
                        .execute(tx.conn)?;
                    let token = issue_token(tx.conn, TokenPurpose::ConfirmEmail, Some(&id), now)?;
                    let mail = Confirm {
                        name: reg.full_name.as_str(),
                        link: &settings.link(&format!("/email/confirm/{}", token.expose())),
                    }
                    .render(locale, &settings.org_name)?;
                    tx.mail(reg.email.as_str(), &mail)?;
                    tx.audit(
                        &Actor::anonymous(ip.as_deref()),
                        "account.register",
                        Some(Subject::user(&id)),
                        json!({"role": "resident"}),
                    )?;
                    Ok(())
                })
            };
            crate::db::retry_on_unique_violation(conn, attempt)
        })
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOutcome {
    Done,
    /// Unknown, used or expired: all look the same to the visitor.
    Invalid,
}

pub async fn confirm_email(state: &AppState, token: SecretToken, ip: Option<String>) -> AppResult<TokenOutcome> {
    state
        .write(move |tx| {
            let now = tx.now;
            let Some(t) = live_token(tx.conn, &token, TokenPurpose::ConfirmEmail, now)? else {
                return Ok(TokenOutcome::Invalid);
            };
            let Some(user_id) = t.user_id else { return Ok(TokenOutcome::Invalid) };
            use_token(tx.conn, &t.id, now)?;
            diesel::update(users::table.find(&user_id).filter(users::email_confirmed_at.is_null()))
                .set((users::email_confirmed_at.eq(now), users::updated_at.eq(now)))
                .execute(tx.conn)?;
            tx.audit(
                &Actor::anonymous(ip.as_deref()),
                "account.email_confirmed",
                Some(Subject::user(&user_id)),
                json!({}),
            )?;
            Ok(TokenOutcome::Done)
        })
        .await
}

#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn {
        token: SecretToken,
        role: Role,
    },
    /// Wrong email or password: one answer for both.
    Invalid,
    /// Right password, email not confirmed yet.
    Unconfirmed,
    /// Right password, account deactivated.
    Inactive,
    Throttled {
        retry_at: NaiveDateTime,
    },
}

pub async fn login(
    state: &AppState,
    email_raw: &str,
    password: &str,
    ip: Option<String>,
    user_agent: Option<String>,
) -> AppResult<LoginOutcome> {
    let keys = ThrottleKeys::new(email_raw, ip.as_deref());
    let now = state.clock.now();
    let email = Email::parse(email_raw).ok();
    let (blocked, user) = {
        let keys = keys.clone();
        state
            .db(move |conn| {
                let reserve = |conn: &mut DbConn| {
                    conn.write_tx(|conn| -> AppResult<_> {
                        let blocked = throttle::reserve_attempt(conn, &keys, now)?;
                        let user = match &email {
                            Some(e) => find_by_email(conn, e)?,
                            None => None,
                        };
                        Ok((blocked, user))
                    })
                };
                crate::db::retry_on_unique_violation(conn, reserve)
            })
            .await?
    };
    if let Some(retry_at) = blocked {
        return Ok(LoginOutcome::Throttled { retry_at });
    }
    let password_ok = state.hasher.verify(password, user.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let now = state.clock.now();

    if let (true, Some(user)) = (password_ok, user.clone()) {
        let role = role_of(&user);
        if !user.active || user.email_confirmed_at.is_none() {
            let reason = if user.active { "unconfirmed" } else { "inactive" };
            state
                .write(move |tx| {
                    tx.audit(
                        &Actor::anonymous(ip.as_deref()),
                        "account.login_refused",
                        Some(Subject::user(&user.id)),
                        json!({ "reason": reason }),
                    )?;
                    Ok(())
                })
                .await?;
            return Ok(if reason == "unconfirmed" { LoginOutcome::Unconfirmed } else { LoginOutcome::Inactive });
        }
        let token = state
            .write(move |tx| {
                let now = tx.now;
                throttle::forgive(tx.conn, &keys, now)?;
                let token = session::create(tx.conn, &user, role, now, ip.as_deref(), user_agent.as_deref())?;
                tx.audit(
                    &Actor::user(&user.id, role, ip.as_deref()),
                    "account.login",
                    Some(Subject::user(&user.id)),
                    json!({}),
                )?;
                Ok(token)
            })
            .await?;
        return Ok(LoginOutcome::SignedIn { token, role });
    }

    // The failure was counted when the attempt was reserved.
    let subject_id = user.map(|u| u.id);
    state
        .db(move |conn| {
            let attempt = |conn: &mut DbConn| {
                Tx::run(conn, now, |tx| -> AppResult<()> {
                    let reason = if subject_id.is_some() { "wrong_password" } else { "unknown_account" };
                    tx.audit(
                        &Actor::anonymous(ip.as_deref()),
                        "account.login_failed",
                        subject_id.as_deref().map(Subject::user),
                        json!({ "reason": reason }),
                    )?;
                    Ok(())
                })
            };
            crate::db::retry_on_unique_violation(conn, attempt)
        })
        .await?;
    Ok(LoginOutcome::Invalid)
}

pub async fn logout(
    state: &AppState,
    session_id: String,
    user_id: UserId,
    role: Role,
    ip: Option<String>,
) -> AppResult<()> {
    state
        .write(move |tx| {
            session::end(tx.conn, &session_id)?;
            tx.audit(
                &Actor::user(&user_id, role, ip.as_deref()),
                "account.logout",
                Some(Subject::user(&user_id)),
                json!({}),
            )?;
            Ok(())
        })
        .await
}

/// Mails a reset link when an active account has this email; says nothing either way.
pub async fn request_password_reset(state: &AppState, email_raw: &str, ip: Option<String>) -> AppResult<()> {
    let Ok(email) = Email::parse(email_raw) else { return Ok(()) };
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            let Some(user) = find_by_email(tx.conn, &email)? else { return Ok(()) };
            // A resident without a password has an account made at the desk: its way in is
            // the claim code on the receipt, not a link to an address the desk wrote down.
            let unclaimed = user.role == Role::Resident && user.password_hash.is_none();
            if !user.active || unclaimed || !throttle::take_mail_allowance(tx.conn, &user.email, now)? {
                return Ok(());
            }
            let token = issue_token(tx.conn, TokenPurpose::ResetPassword, Some(&user.id), now)?;
            let mail =
                Reset { name: &user.full_name, link: &settings.link(&format!("/password/reset/{}", token.expose())) }
                    .render(locale_of(&user), &settings.org_name)?;
            tx.mail(&user.email, &mail)?;
            tx.audit(
                &Actor::anonymous(ip.as_deref()),
                "account.password_reset_requested",
                Some(Subject::user(&user.id)),
                json!({}),
            )?;
            Ok(())
        })
        .await
}

/// Sets a new password from a reset link. Every session of the account ends, and the
/// link proves the mailbox, so an unconfirmed email becomes confirmed.
pub async fn reset_password(
    state: &AppState,
    token: SecretToken,
    password: &Password,
    ip: Option<String>,
) -> AppResult<TokenOutcome> {
    let hash = state.hasher.hash(password).await?;
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            let Some((_, user)) = live_token_account(tx.conn, &token, TokenPurpose::ResetPassword, now)? else {
                return Ok(TokenOutcome::Invalid);
            };
            // Every outstanding reset link of the account dies with this one.
            diesel::update(
                tokens::table
                    .filter(tokens::user_id.eq(&user.id))
                    .filter(tokens::purpose.eq(TokenPurpose::ResetPassword.as_str()))
                    .filter(tokens::used_at.is_null()),
            )
            .set(tokens::used_at.eq(now))
            .execute(tx.conn)?;
            diesel::update(users::table.find(&user.id))
                .set((
                    users::password_hash.eq(Some(&hash)),
                    users::email_confirmed_at.eq(user.email_confirmed_at.or(Some(now))),
                    users::updated_at.eq(now),
                ))
                .execute(tx.conn)?;
            let ended = session::end_all_for_user(tx.conn, &user.id, None)?;
            password_changed_notice(tx, &settings, &user)?;
            tx.audit(
                &Actor::anonymous(ip.as_deref()),
                "account.password_reset",
                Some(Subject::user(&user.id)),
                json!({ "sessions_ended": ended }),
            )?;
            Ok(TokenOutcome::Done)
        })
        .await
}

fn password_changed_notice(tx: &mut Tx, settings: &crate::app::config::Settings, user: &User) -> AppResult<()> {
    let mail = PasswordChanged { name: &user.full_name, reset_link: &settings.link("/password/forgot") }
        .render(locale_of(user), &settings.org_name)?;
    tx.mail(&user.email, &mail)
}

/// Checks the password of a signed-in person before a sensitive change (new password or
/// e-mail, deletion), under the same throttle as sign-in: someone holding a stolen session
/// cannot guess the password here faster than at the sign-in form. A blocked attempt is
/// a 429 error.
pub async fn verify_current_password(
    state: &AppState,
    user: &User,
    plain: &str,
    ip: Option<String>,
) -> AppResult<bool> {
    let keys = ThrottleKeys::new(&user.email, ip.as_deref());
    let now = state.clock.now();
    let k = keys.clone();
    let blocked = state
        .db(move |conn| {
            let reserve = |conn: &mut DbConn| {
                conn.write_tx(|conn| -> AppResult<_> { Ok(throttle::reserve_attempt(conn, &k, now)?) })
            };
            crate::db::retry_on_unique_violation(conn, reserve)
        })
        .await?;
    if let Some(retry_at) = blocked {
        return Err(AppError::TooManyRequests { retry_after_secs: (retry_at - now).num_seconds().max(1) });
    }
    let ok = state.hasher.verify(plain, user.password_hash.clone()).await?;
    if ok {
        let now = state.clock.now();
        state
            .db(move |conn| conn.write_tx(|conn| -> AppResult<()> { Ok(throttle::forgive(conn, &keys, now)?) }))
            .await?;
    }
    Ok(ok)
}

#[derive(Debug)]
pub enum ChangePasswordOutcome {
    /// Changed; the caller's session was replaced by this one.
    Changed {
        token: SecretToken,
    },
    WrongCurrent,
}

/// Changes the password of a signed-in account after checking the current one. All
/// sessions end, the caller's included, which gets a fresh session in its place.
pub async fn change_password(
    state: &AppState,
    user_id: UserId,
    current: &str,
    new: &Password,
    ip: Option<String>,
    user_agent: Option<String>,
) -> AppResult<ChangePasswordOutcome> {
    let uid = user_id.clone();
    let user = state.db(move |conn| find_by_id(conn, &uid)?.ok_or(AppError::NotFound)).await?;
    if !verify_current_password(state, &user, current, ip.clone()).await? {
        return Ok(ChangePasswordOutcome::WrongCurrent);
    }
    let hash = state.hasher.hash(new).await?;
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            let role = role_of(&user);
            diesel::update(users::table.find(&user.id))
                .set((users::password_hash.eq(Some(&hash)), users::updated_at.eq(now)))
                .execute(tx.conn)?;
            let ended = session::end_all_for_user(tx.conn, &user.id, None)?;
            let token = session::create(tx.conn, &user, role, now, ip.as_deref(), user_agent.as_deref())?;
            password_changed_notice(tx, &settings, &user)?;
            tx.audit(
                &Actor::user(&user.id, role, ip.as_deref()),
                "account.password_changed",
                Some(Subject::user(&user.id)),
                json!({ "sessions_ended": ended }),
            )?;
            Ok(ChangePasswordOutcome::Changed { token })
        })
        .await
}

pub async fn update_profile(
    state: &AppState,
    user_id: UserId,
    role: Role,
    name: PersonName,
    locale: Locale,
    ip: Option<String>,
) -> AppResult<()> {
    state
        .write(move |tx| {
            let now = tx.now;
            let before = find_by_id(tx.conn, &user_id)?.ok_or(AppError::NotFound)?;
            diesel::update(users::table.find(&user_id))
                .set((users::full_name.eq(name.as_str()), users::locale.eq(locale.as_str()), users::updated_at.eq(now)))
                .execute(tx.conn)?;
            let changed: Vec<&str> =
                [("full_name", before.full_name != name.as_str()), ("locale", before.locale != locale)]
                    .into_iter()
                    .filter_map(|(f, c)| c.then_some(f))
                    .collect();
            tx.audit(
                &Actor::user(&user_id, role, ip.as_deref()),
                "account.profile_updated",
                Some(Subject::user(&user_id)),
                json!({ "changed": changed }),
            )?;
            Ok(())
        })
        .await
}

/// How an officer hears of new applications.
pub const NOTIFY_PREFS: [&str; 3] = ["immediate", "daily", "off"];

pub async fn set_notify_pref(
    state: &AppState,
    user_id: UserId,
    role: Role,
    pref: &'static str,
    ip: Option<String>,
) -> AppResult<()> {
    state
        .write(move |tx| {
            let now = tx.now;
            diesel::update(users::table.find(&user_id))
                .set((users::notify_pref.eq(pref), users::updated_at.eq(now)))
                .execute(tx.conn)?;
            tx.audit(
                &Actor::user(&user_id, role, ip.as_deref()),
                "account.notifications_changed",
                Some(Subject::user(&user_id)),
                json!({ "notify": pref }),
            )?;
            Ok(())
        })
        .await
}

pub fn notify_pref(conn: &mut DbConn, user_id: &UserId) -> QueryResult<String> {
    users::table.find(user_id).select(users::notify_pref).first(conn)
}

/// Sets only the language, as the switcher on every page does for a signed-in account.
pub async fn set_locale(state: &AppState, user_id: UserId, locale: Locale) -> AppResult<()> {
    let now = state.clock.now();
    state
        .db(move |conn| {
            diesel::update(users::table.find(&user_id))
                .set((users::locale.eq(locale.as_str()), users::updated_at.eq(now)))
                .execute(conn)?;
            Ok(())
        })
        .await
}

pub async fn end_other_sessions(
    state: &AppState,
    user_id: UserId,
    role: Role,
    keep_session: String,
    ip: Option<String>,
) -> AppResult<usize> {
    state
        .write(move |tx| {
            let ended = session::end_all_for_user(tx.conn, &user_id, Some(&keep_session))?;
            tx.audit(
                &Actor::user(&user_id, role, ip.as_deref()),
                "account.sessions_ended",
                Some(Subject::user(&user_id)),
                json!({ "sessions_ended": ended }),
            )?;
            Ok(ended)
        })
        .await
}

pub fn active_sessions(conn: &mut DbConn, user_id: &UserId, now: NaiveDateTime) -> QueryResult<i64> {
    use crate::db::schema::sessions;
    sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::expires_at.gt(now)).count().get_result(conn)
}

fn commissioner_exists(conn: &mut DbConn) -> QueryResult<bool> {
    let n: i64 = users::table
        .filter(users::role.eq(Role::Commissioner))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// While no commissioner exists, issues a one-time setup token and returns its link.
pub fn ensure_setup_link(
    conn: &mut DbConn,
    settings: &crate::app::config::Settings,
    now: NaiveDateTime,
) -> AppResult<Option<String>> {
    conn.write_tx(|conn| {
        if commissioner_exists(conn)? {
            return Ok(None);
        }
        let token = issue_token(conn, TokenPurpose::Setup, None, now)?;
        Ok(Some(settings.link(&format!("/setup/{}", token.expose()))))
    })
}

pub fn setup_is_open(conn: &mut DbConn, token: &SecretToken, now: NaiveDateTime) -> QueryResult<bool> {
    Ok(!commissioner_exists(conn)? && token_is_live(conn, token, TokenPurpose::Setup, now)?)
}

/// Who a new staff account is.
pub struct NewStaff {
    pub full_name: PersonName,
    pub email: Email,
    pub password: Password,
    pub locale: Locale,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    Created {
        user_id: UserId,
    },
    EmailTaken,
    /// The setup link was used, expired, or a commissioner exists by now.
    Closed,
}

/// A staff account: with a password it is confirmed at once (created on the command line
/// or through the setup link); without one it waits for its invitation to be accepted.
pub(crate) fn insert_staff_account(
    conn: &mut DbConn,
    email: &Email,
    full_name: &PersonName,
    role: Role,
    locale: Locale,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<UserId> {
    let id = UserId::generate();
    diesel::insert_into(users::table)
        .values(NewUser {
            id: &id,
            email: email.as_str(),
            full_name: full_name.as_str(),
            password_hash,
            role: role.as_str(),
            locale: locale.as_str(),
            email_confirmed_at: password_hash.map(|_| now),
            active: true,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    Ok(id)
}

fn insert_commissioner(
    conn: &mut DbConn,
    staff: &NewStaff,
    hash: &str,
    now: NaiveDateTime,
    actor: &Actor,
    action: &str,
) -> AppResult<CreateOutcome> {
    if find_by_email(conn, &staff.email)?.is_some() {
        return Ok(CreateOutcome::EmailTaken);
    }
    let id =
        insert_staff_account(conn, &staff.email, &staff.full_name, Role::Commissioner, staff.locale, Some(hash), now)?;
    let actor = Actor { id: actor.id.clone().or_else(|| Some(id.to_string())), ..actor.clone() };
    audit::record(conn, now, &actor, action, Some(Subject::user(&id)), json!({ "role": "commissioner" }))?;
    Ok(CreateOutcome::Created { user_id: id })
}

/// Creates the first commissioner through the setup link printed at start.
pub async fn setup_commissioner(
    state: &AppState,
    token: SecretToken,
    staff: NewStaff,
    ip: Option<String>,
) -> AppResult<CreateOutcome> {
    let hash = state.hasher.hash(&staff.password).await?;
    state
        .write(move |tx| {
            let now = tx.now;
            if !setup_is_open(tx.conn, &token, now)? {
                return Ok(CreateOutcome::Closed);
            }
            let outcome = insert_commissioner(
                tx.conn,
                &staff,
                &hash,
                now,
                &Actor { id: None, role: Some("setup".into()), ip },
                "account.setup",
            )?;
            if matches!(outcome, CreateOutcome::Created { .. }) {
                // Every other setup link dies too.
                diesel::update(
                    tokens::table
                        .filter(tokens::purpose.eq(TokenPurpose::Setup.as_str()))
                        .filter(tokens::used_at.is_null()),
                )
                .set(tokens::used_at.eq(now))
                .execute(tx.conn)?;
            }
            Ok(outcome)
        })
        .await
}

/// Creates a commissioner from the command line (`vecinal create-commissioner`).
pub fn create_commissioner_now(conn: &mut DbConn, staff: &NewStaff, now: NaiveDateTime) -> AppResult<CreateOutcome> {
    let hash = crate::auth::password::hash_now(&staff.password).map_err(AppError::Internal)?;
    conn.write_tx(|conn| {
        insert_commissioner(conn, staff, &hash, now, &Actor::system("cli"), "account.commissioner_created")
    })
}

/// Whether a mailed link still works (pages show a button, or say the link is used up).
pub async fn link_is_live(state: &AppState, token: SecretToken, purpose: TokenPurpose) -> AppResult<bool> {
    let now = state.clock.now();
    state.db(move |c| Ok(token_is_live(c, &token, purpose, now)?)).await
}

/// Whether the first-commissioner link still works: unused, not expired, and no
/// commissioner exists yet.
pub async fn setup_link_is_open(state: &AppState, token: SecretToken) -> AppResult<bool> {
    let now = state.clock.now();
    state.db(move |c| Ok(setup_is_open(c, &token, now)?)).await
}

/// The account behind a session token, if the session is alive (it is touched, or
/// deleted once dead).
pub async fn session_user(
    state: &AppState,
    token: SecretToken,
) -> AppResult<Option<crate::auth::session::SessionUser>> {
    let now = state.clock.now();
    state.db(move |c| Ok(crate::auth::session::load(c, &token, now)?)).await
}

/// What the account page shows besides the session's own data: how many sessions are
/// open, the officer's notification choice, and a resident's phone (`None` without an
/// application).
pub async fn account_overview(state: &AppState, user_id: UserId) -> AppResult<(i64, String, Option<Option<String>>)> {
    let now = state.clock.now();
    state
        .db(move |c| {
            Ok((
                active_sessions(c, &user_id, now)?,
                notify_pref(c, &user_id)?,
                crate::services::privacy::current_phone(c, &user_id)?,
            ))
        })
        .await
}
