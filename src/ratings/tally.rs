//! The star board's counts per level, kept as they change rather than counted on every read.
//! A tally row counts the ratings on the board of an organisation's whole subtree, so a
//! board's counts are the dozen rows of its own organisation, whatever the size of the
//! subtree. A rating joins the board when published and leaves it only when an objection to
//! it is upheld; those two steps call [`add`], which counts the rating at its organisation and
//! at each ancestor (the ids on its path), by increments that concurrent writes cannot lose.
//! A subtree that moves takes its counts from its old ancestors to its new ones ([`moved`]);
//! an organisation with ratings is never deleted. Seeding, which writes ratings wholesale,
//! calls [`recount`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::{rating, tally};
use super::types::{RatingLevel, RatingState, RatingSubject};
use crate::audit::Write;
use crate::error::ApiError;
use crate::orgs::entity as org;

/// Changes to tally rows: `(org, year, subject, level)` → how much to add.
type Changes = BTreeMap<(Uuid, i32, RatingSubject, RatingLevel), i64>;

/// The organisation at `path` and its ancestors: the ids its path is made of.
fn ids_on(path: &str) -> impl Iterator<Item = Uuid> + '_ {
    path.split('/').filter_map(|id| id.parse().ok())
}

/// Counts `delta` (1: joined the board, -1: left it) for each of `ratings`, at its
/// organisation and at every ancestor.
pub(super) async fn add<'r>(
    w: &Write,
    ratings: impl IntoIterator<Item = &'r rating::Model>,
    delta: i64,
) -> Result<(), ApiError> {
    let mut per_org: Changes = BTreeMap::new();
    for r in ratings {
        *per_org.entry((r.org_id, r.year, r.subject, r.level)).or_default() += delta;
    }
    apply(w.db(), at_ancestors(w, per_org).await?).await
}

/// Each of `per_org`'s changes at its organisation and at every ancestor (the ids of the
/// organisation's path). Only live organisations hold ratings (one with ratings is never
/// deleted); any other counts nowhere.
async fn at_ancestors(w: &Write, per_org: Changes) -> Result<Changes, ApiError> {
    let orgs: BTreeSet<Uuid> = per_org.keys().map(|(org_id, ..)| *org_id).collect();
    let paths: HashMap<Uuid, String> = org::Entity::find()
        .select_only()
        .column(org::Column::Id)
        .column(org::Column::Path)
        .filter(org::Column::Id.is_in(orgs))
        .filter(org::Column::DeletedAt.is_null())
        .into_tuple::<(Uuid, String)>()
        .all(w.db())
        .await?
        .into_iter()
        .collect();
    let mut changes: Changes = BTreeMap::new();
    for ((org_id, year, subject, level), change) in per_org {
        let Some(path) = paths.get(&org_id) else { continue };
        for id in ids_on(path) {
            *changes.entry((id, year, subject, level)).or_default() += change;
        }
    }
    Ok(changes)
}

/// Moves the counts of the subtree at `org` (as it was, with its old path) from its old
/// ancestors to those on `new_parent_path`. Called by the move, in its transaction.
pub async fn moved(w: &Write, org: &org::Model, new_parent_path: &str) -> Result<(), ApiError> {
    let mut changes: Changes = BTreeMap::new();
    for ((_, year, subject, level), count) in own_counts(w, org.id).await? {
        for id in ids_on(&org.path).filter(|id| *id != org.id) {
            *changes.entry((id, year, subject, level)).or_default() -= count;
        }
        for id in ids_on(new_parent_path) {
            *changes.entry((id, year, subject, level)).or_default() += count;
        }
    }
    apply(w.db(), changes).await
}

/// The tally rows of one organisation: its subtree's counts.
async fn own_counts(w: &Write, org_id: Uuid) -> Result<Changes, ApiError> {
    Ok(tally::Entity::find()
        .filter(tally::Column::OrgId.eq(org_id))
        .all(w.db())
        .await?
        .into_iter()
        .map(|t| ((t.org_id, t.year, t.subject, t.level), t.count))
        .collect())
}

/// Adds each change to its tally row (creating it), `count = count + change` in the
/// statement: a concurrent change to the same row waits for this one and adds to its result.
async fn apply<C: ConnectionTrait>(db: &C, changes: Changes) -> Result<(), ApiError> {
    let rows: Vec<tally::ActiveModel> = changes
        .into_iter()
        .filter(|(_, change)| *change != 0)
        .map(|((org_id, year, subject, level), count)| tally::ActiveModel {
            org_id: Set(org_id),
            year: Set(year),
            subject: Set(subject),
            level: Set(level),
            count: Set(count),
        })
        .collect();
    for chunk in rows.chunks(500) {
        tally::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    tally::Column::OrgId,
                    tally::Column::Year,
                    tally::Column::Subject,
                    tally::Column::Level,
                ])
                .value(
                    tally::Column::Count,
                    Expr::col((tally::Entity, tally::Column::Count))
                        .add(Expr::col((Alias::new("excluded"), tally::Column::Count))),
                )
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Recounts every tally from the ratings: after seeding, which writes ratings wholesale.
pub async fn recount(w: &Write) -> Result<(), ApiError> {
    tally::Entity::delete_many().exec(w.db()).await?;
    let per_org: Vec<(Uuid, i32, RatingSubject, RatingLevel, i64)> = rating::Entity::find()
        .select_only()
        .column(rating::Column::OrgId)
        .column(rating::Column::Year)
        .column(rating::Column::Subject)
        .column(rating::Column::Level)
        .column_as(Expr::col(rating::Column::Id).count(), "n")
        .filter(rating::Column::State.is_in([RatingState::Noticed, RatingState::Final]))
        .group_by(rating::Column::OrgId)
        .group_by(rating::Column::Year)
        .group_by(rating::Column::Subject)
        .group_by(rating::Column::Level)
        .into_tuple()
        .all(w.db())
        .await?;
    let per_org: Changes = per_org
        .into_iter()
        .map(|(org_id, year, subject, level, n)| ((org_id, year, subject, level), n))
        .collect();
    apply(w.db(), at_ancestors(w, per_org).await?).await
}

/// `(subject, level, count)` of the ratings on the board of `year` in the subtree of
/// `org_id`, as [`super::level_counts`] takes them: the organisation's own tally rows.
pub(super) async fn on_board<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    year: i32,
) -> Result<Vec<(RatingSubject, RatingLevel, i64)>, ApiError> {
    Ok(tally::Entity::find()
        .select_only()
        .column(tally::Column::Subject)
        .column(tally::Column::Level)
        .column(tally::Column::Count)
        .filter(tally::Column::OrgId.eq(org_id))
        .filter(tally::Column::Year.eq(year))
        .into_tuple()
        .all(db)
        .await?)
}
