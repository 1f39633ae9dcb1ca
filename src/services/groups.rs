//! Neighbourhood groups: what residents apply to, officers review for, and commissioners
//! manage. Each change is one transaction with its audit entry.

use diesel::prelude::*;
use serde_json::json;

use crate::app::AppState;
use crate::app::Tx;
use crate::audit::{Actor, Subject};
use crate::db::models::Group;
use crate::db::queries;
use crate::db::queries::groups::find_by_slug;
use crate::db::schema::groups;
use crate::domain::GroupId;
use crate::domain::group::{GroupSettings, GroupSlug};
use crate::error::{AppError, AppResult};

/// Active groups by name, for the landing page and residents choosing theirs.
pub async fn list_active(state: &AppState) -> AppResult<Vec<Group>> {
    state.db(|c| Ok(queries::groups::list_active(c)?)).await
}

/// Every group, active ones first, for the commissioners' list.
pub async fn list_all(state: &AppState) -> AppResult<Vec<Group>> {
    state.db(|c| Ok(queries::groups::list_all(c)?)).await
}

/// The group at `slug`, active or not (commissioners).
pub async fn find(state: &AppState, slug: GroupSlug) -> AppResult<Group> {
    state.db(move |c| queries::groups::find_by_slug(c, slug.as_str())?.ok_or(AppError::NotFound)).await
}

/// The active group at `slug` (residents applying).
pub async fn find_active(state: &AppState, slug: String) -> AppResult<Group> {
    state.db(move |c| queries::groups::find_active_by_slug(c, &slug)?.ok_or(AppError::NotFound)).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved {
        id: GroupId,
    },
    /// Another group has this slug; the form says so.
    SlugTaken,
}

/// Inserts an active group and its audit entry. The caller checks that the slug is free.
pub fn insert(tx: &mut Tx, s: &GroupSettings, actor: &Actor) -> AppResult<GroupId> {
    let now = tx.now;
    let id = GroupId::generate();
    diesel::insert_into(groups::table)
        .values(Group {
            id: id.clone(),
            slug: s.slug.as_str().to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            area: s.area.clone(),
            invite_link: s.invite_link.clone(),
            validity_days: s.validity_days,
            certificate_max_age_days: s.certificate_max_age_days,
            two_approvals: s.two_approvals,
            active: true,
            created_at: now,
            updated_at: now,
            member_seq: 0,
        })
        .execute(tx.conn)?;
    tx.audit(actor, "group.created", Some(Subject { kind: "group", id: &id }), json!({}))?;
    Ok(id)
}

/// Two commissioners saving the same new slug at once: the check inside the transaction
/// sees it free for both on PostgreSQL, and the unique index refuses the second.
fn slug_race_to_outcome(result: AppResult<SaveOutcome>) -> AppResult<SaveOutcome> {
    match result {
        Err(e) if e.is_unique_violation() => Ok(SaveOutcome::SlugTaken),
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(slug = %settings.slug))]
pub async fn create(state: &AppState, settings: GroupSettings, actor: Actor) -> AppResult<SaveOutcome> {
    slug_race_to_outcome(
        state
            .write(move |tx| {
                if find_by_slug(tx.conn, settings.slug.as_str())?.is_some() {
                    return Ok(SaveOutcome::SlugTaken);
                }
                Ok(SaveOutcome::Saved { id: insert(tx, &settings, &actor)? })
            })
            .await,
    )
}

/// The names of the fields `new` changes, for the audit entry (names only: the values are
/// in the row, and the log outlives them).
fn changed_fields(old: &Group, new: &GroupSettings) -> Vec<&'static str> {
    [
        ("name", old.name != new.name),
        ("slug", old.slug != new.slug.as_str()),
        ("description", old.description != new.description),
        ("area", old.area != new.area),
        ("invite_link", old.invite_link != new.invite_link),
        ("validity_days", old.validity_days != new.validity_days),
        ("certificate_max_age_days", old.certificate_max_age_days != new.certificate_max_age_days),
        ("two_approvals", old.two_approvals != new.two_approvals),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// Saves new settings for the group now at `slug`; the slug itself may change if the new
/// one is free. Saving without changes writes nothing.
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn update(
    state: &AppState,
    slug: GroupSlug,
    settings: GroupSettings,
    actor: Actor,
) -> AppResult<SaveOutcome> {
    slug_race_to_outcome(
        state
            .write(move |tx| {
                let now = tx.now;
                let old = find_by_slug(tx.conn, slug.as_str())?.ok_or(AppError::NotFound)?;
                let changed = changed_fields(&old, &settings);
                if changed.is_empty() {
                    return Ok(SaveOutcome::Saved { id: old.id });
                }
                if changed.contains(&"slug") && find_by_slug(tx.conn, settings.slug.as_str())?.is_some() {
                    return Ok(SaveOutcome::SlugTaken);
                }
                diesel::update(groups::table.find(&old.id))
                    .set((
                        groups::slug.eq(settings.slug.as_str()),
                        groups::name.eq(&settings.name),
                        groups::description.eq(&settings.description),
                        groups::area.eq(&settings.area),
                        groups::invite_link.eq(&settings.invite_link),
                        groups::validity_days.eq(settings.validity_days),
                        groups::certificate_max_age_days.eq(settings.certificate_max_age_days),
                        groups::two_approvals.eq(settings.two_approvals),
                        groups::updated_at.eq(now),
                    ))
                    .execute(tx.conn)?;
                tx.audit(
                    &actor,
                    "group.updated",
                    Some(Subject { kind: "group", id: &old.id }),
                    json!({ "changed": changed }),
                )?;
                Ok(SaveOutcome::Saved { id: old.id })
            })
            .await,
    )
}

/// Opens or closes a group to new applications and the public list. Setting the state it
/// already has writes nothing.
#[tracing::instrument(skip_all, fields(slug = %slug, active))]
pub async fn set_active(state: &AppState, slug: GroupSlug, active: bool, actor: Actor) -> AppResult<()> {
    state
        .write(move |tx| {
            let group = find_by_slug(tx.conn, slug.as_str())?.ok_or(AppError::NotFound)?;
            if group.active == active {
                return Ok(());
            }
            diesel::update(groups::table.find(&group.id))
                .set((groups::active.eq(active), groups::updated_at.eq(tx.now)))
                .execute(tx.conn)?;
            let action = if active { "group.activated" } else { "group.deactivated" };
            tx.audit(&actor, action, Some(Subject { kind: "group", id: &group.id }), json!({}))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::group::RawGroup;

    #[test]
    fn changed_fields_names_each_field_that_differs_and_nothing_else() {
        let now = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let old = Group {
            id: GroupId::generate(),
            slug: "centro".into(),
            name: "Centro".into(),
            description: String::new(),
            area: "Plaza".into(),
            invite_link: "https://chat.example.org/invite/centro".into(),
            validity_days: 365,
            certificate_max_age_days: 90,
            two_approvals: false,
            active: true,
            created_at: now,
            updated_at: now,
            member_seq: 0,
        };
        let raw = RawGroup {
            name: "Centro",
            slug: "centro",
            description: "",
            area: "Plaza",
            invite_link: "https://chat.example.org/invite/centro",
            validity_days: "365",
            certificate_max_age_days: "90",
            two_approvals: false,
        };
        assert!(changed_fields(&old, &GroupSettings::parse(&raw).unwrap()).is_empty());
        let new =
            GroupSettings::parse(&RawGroup { slug: "centro-viejo", validity_days: "180", two_approvals: true, ..raw })
                .unwrap();
        assert_eq!(changed_fields(&old, &new), ["slug", "validity_days", "two_approvals"]);
    }
}
