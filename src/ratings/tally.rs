//! The star board's counts per level, kept as they change rather than counted on every read
//! (a town's board: about a hundred tally rows against five thousand ratings). A rating joins
//! the board when published and leaves it only when an objection to it is upheld; those two
//! steps call [`add`] in their own transactions, by increments that concurrent writes cannot
//! lose. Seeding, which writes ratings wholesale, calls [`recount`].

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::{rating, tally};
use super::types::{RatingLevel, RatingState, RatingSubject};
use crate::audit::Write;
use crate::auth::Scope;
use crate::error::ApiError;

/// Counts `delta` (1: joined the board, -1: left it) for each of `ratings`.
pub(super) async fn add<'r>(
    w: &Write,
    ratings: impl IntoIterator<Item = &'r rating::Model>,
    delta: i64,
) -> Result<(), ApiError> {
    let mut changes: BTreeMap<(Uuid, i32, RatingSubject, RatingLevel), i64> = BTreeMap::new();
    for r in ratings {
        *changes.entry((r.org_id, r.year, r.subject, r.level)).or_default() += delta;
    }
    for ((org_id, year, subject, level), change) in changes {
        let row = tally::ActiveModel {
            org_id: Set(org_id),
            year: Set(year),
            subject: Set(subject),
            level: Set(level),
            count: Set(change),
        };
        // count = count + change, in the statement: a concurrent change to the same row waits
        // for this one and adds to its result.
        tally::Entity::insert(row)
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
            .exec_without_returning(w.db())
            .await?;
    }
    Ok(())
}

/// Recounts every tally from the ratings: after seeding, which writes ratings wholesale.
pub async fn recount(w: &Write) -> Result<(), ApiError> {
    tally::Entity::delete_many().exec(w.db()).await?;
    let counted = Query::select()
        .columns([
            rating::Column::OrgId,
            rating::Column::Year,
            rating::Column::Subject,
            rating::Column::Level,
        ])
        .expr(Expr::col(sea_orm::sea_query::Asterisk).count())
        .from(rating::Entity)
        .and_where(rating::Column::State.is_in([RatingState::Noticed, RatingState::Final]))
        .group_by_columns([
            rating::Column::OrgId,
            rating::Column::Year,
            rating::Column::Subject,
            rating::Column::Level,
        ])
        .to_owned();
    let insert = Query::insert()
        .into_table(tally::Entity)
        .columns([
            tally::Column::OrgId,
            tally::Column::Year,
            tally::Column::Subject,
            tally::Column::Level,
            tally::Column::Count,
        ])
        .select_from(counted)
        .map_err(ApiError::internal)?
        .to_owned();
    w.db().execute(&insert).await?;
    Ok(())
}

/// `(subject, level, count)` of the ratings on the board of `year` in `subtree`, as
/// [`super::count_levels`] gives them.
pub(super) async fn on_board<C: ConnectionTrait>(
    db: &C,
    subtree: &Scope,
    year: i32,
) -> Result<Vec<(RatingSubject, RatingLevel, i64)>, ApiError> {
    Ok(tally::Entity::find()
        .select_only()
        .column(tally::Column::Subject)
        .column(tally::Column::Level)
        .column_as(crate::db::sum_i64(Expr::col(tally::Column::Count)), "n")
        .filter(subtree.org_condition(tally::Column::OrgId))
        .filter(tally::Column::Year.eq(year))
        .group_by(tally::Column::Subject)
        .group_by(tally::Column::Level)
        .into_tuple()
        .all(db)
        .await?)
}
