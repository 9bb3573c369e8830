//! Star ratings (星级评定): every year the town rates its members and its branches on five
//! stars. A branch proposes its members' ratings, the town administrator its organisations';
//! the town administrator approves or returns each, never their own branch's nor their own.

pub mod entity;
pub mod notice;
mod routes;
mod suggestion;
pub mod tally;
pub mod types;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use std::collections::HashMap;

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::audit::Write;
use crate::auth::{Access, AuthUser, Place, Role, Scope, find_placed};
use crate::error::ApiError;
use crate::text;
use entity::{event, rating};
use types::{RatingLevel, RatingState, RatingView};

pub use routes::configure;

/// Ratings filed under an organisation, of it or of its members: it cannot be deleted while
/// any exist (like pledges, they are its record, and the star boards above it count them).
pub async fn count_attached_to<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    rating::Entity::find()
        .filter(
            Condition::any()
                .add(rating::Column::OrgId.eq(org_id))
                .add(rating::Column::SubjectOrgId.eq(org_id)),
        )
        .count(db)
        .await
}

/// Roles that read the ratings of their subtree; a member also reads their own.
pub const READERS: Access = crate::members::READERS;

/// What a caller may do with ratings.
pub struct RatingAccess {
    /// Subtrees whose ratings the caller reads.
    pub read: Scope,
    /// Subtrees whose members' ratings the caller proposes: secretaries and administrators.
    pub manage: Scope,
    /// Subtrees whose ratings the caller approves, and whose organisations they propose:
    /// town administrators.
    pub admin: Scope,
    /// The caller's own member record.
    pub own: Option<Uuid>,
}

impl RatingAccess {
    pub fn of(user: &AuthUser) -> RatingAccess {
        RatingAccess {
            read: user.scope(READERS),
            manage: user.scope(Access::MANAGE),
            admin: user.scope(Access(&[Role::TownAdmin])),
            own: user.principal.member_id,
        }
    }

    fn relation(&self, r: &rating::Model, place: &Place) -> Option<Relation> {
        let relation = Relation {
            own: r.member_id.is_some() && r.member_id == self.own,
            proposer: match r.subject {
                types::RatingSubject::Member => self.manage.covers(&place.org_path),
                types::RatingSubject::Org => self.admin.covers(&place.org_path),
            },
            approver: self.admin.covers(&place.org_path),
        };
        (self.read.covers(&place.org_path) || relation.own).then_some(relation)
    }
}

/// How the caller relates to one rating: decides who may do what to it.
pub struct Relation {
    /// The rating is of the caller themself.
    pub own: bool,
    /// The caller proposes ratings like it (changes, withdraws, resubmits it).
    pub proposer: bool,
    /// The caller approves or returns it (town administrator over it).
    pub approver: bool,
}

/// A rating the caller may read and how they relate to it, else 404. One statement, whatever
/// the size of the caller's scope.
pub async fn find_related<C: ConnectionTrait>(
    db: &C,
    access: &RatingAccess,
    id: Uuid,
) -> Result<(rating::Model, Relation), ApiError> {
    let (r, place) = find_placed(
        db,
        rating::Entity::find_by_id(id),
        rating::Column::OrgId,
        None::<rating::Column>,
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let relation = access.relation(&r, &place).ok_or(ApiError::NotFound)?;
    Ok((r, relation))
}

/// The organisations the caller belongs to: their account's organisation and their member
/// record's branch. Nobody decides on the rating of these.
pub async fn own_orgs<C: ConnectionTrait>(db: &C, user: &AuthUser) -> Result<Vec<Uuid>, ApiError> {
    let mut orgs = vec![user.principal.org_id];
    if let Some(member_id) = user.principal.member_id
        && let Some(m) = crate::members::entity::member::Entity::find_by_id(member_id)
            .one(db)
            .await?
    {
        orgs.push(m.org_id);
    }
    Ok(orgs)
}

/// The state a rating is in now: a notice that has ended with no objection open is final,
/// whether or not the sweeper ([`notice::finalise_due`]) has written it down yet.
pub fn state_at(r: &rating::Model, now: DateTime<Utc>) -> RatingState {
    state_of(r.state, r.notice_ends_at, r.open_objections, now)
}

/// [`state_at`] from the three columns it reads.
fn state_of(
    stored: RatingState,
    notice_ends_at: Option<DateTime<Utc>>,
    open_objections: i32,
    now: DateTime<Utc>,
) -> RatingState {
    match (stored, notice_ends_at) {
        (RatingState::Noticed, Some(ends)) if ends <= now && open_objections == 0 => RatingState::Final,
        (state, _) => state,
    }
}

/// SQL: ratings in `state` now, as [`state_at`] decides it.
pub fn state_condition(state: RatingState, now: DateTime<Utc>) -> Condition {
    let ended = Condition::all()
        .add(rating::Column::State.eq(RatingState::Noticed))
        .add(rating::Column::NoticeEndsAt.lte(now))
        .add(rating::Column::OpenObjections.eq(0));
    match state {
        RatingState::Final => Condition::any()
            .add(rating::Column::State.eq(RatingState::Final))
            .add(ended),
        RatingState::Noticed => Condition::all()
            .add(rating::Column::State.eq(RatingState::Noticed))
            .add(ended.not()),
        other => Condition::all().add(rating::Column::State.eq(other)),
    }
}

pub fn view(r: &rating::Model) -> RatingView {
    let state = state_at(r, crate::db::now());
    RatingView {
        id: r.id,
        year: r.year,
        subject: r.subject,
        member_id: r.member_id,
        subject_org_id: r.subject_org_id,
        org_id: r.org_id,
        subject_name: r.subject_name.clone(),
        level: r.level,
        level_label: r.level.label().to_owned(),
        score: r.score,
        remarks: r.remarks.clone(),
        evidence: r
            .evidence
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
        state,
        allowed_steps: state.allowed(),
        return_reason: r.return_reason.clone(),
        proposed_by: r.proposed_by,
        decided_by: r.decided_by,
        notice_starts_at: r.notice_starts_at,
        notice_ends_at: r.notice_ends_at,
        open_objections: r.open_objections,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Appends an entry to a rating's timeline, in the write that makes the change.
pub async fn record_step(
    w: &Write,
    user: &AuthUser,
    rating_id: Uuid,
    kind: &str,
    states: (Option<RatingState>, Option<RatingState>),
    note: Option<String>,
) -> Result<(), ApiError> {
    event::Entity::insert(event::ActiveModel {
        id: Set(Uuid::now_v7()),
        rating_id: Set(rating_id),
        kind: Set(kind.into()),
        from_state: Set(states.0),
        to_state: Set(states.1),
        note: Set(note),
        actor_user_id: Set(Some(user.id())),
        actor_name: Set(Some(user.principal.username.clone())),
        occurred_at: Set(crate::db::now()),
    })
    .exec_without_returning(w.db())
    .await?;
    Ok(())
}

/// The final ratings of `year` of these members and organisations, as levels by member and
/// by organisation: what the pledge board of the next year shows beside the pledges.
pub async fn final_levels<C: ConnectionTrait>(
    db: &C,
    year: i32,
    member_ids: Vec<Uuid>,
    org_ids: Vec<Uuid>,
) -> Result<(HashMap<Uuid, RatingLevel>, HashMap<Uuid, RatingLevel>), ApiError> {
    let rows: Vec<(Option<Uuid>, Option<Uuid>, RatingLevel)> = rating::Entity::find()
        .select_only()
        .column(rating::Column::MemberId)
        .column(rating::Column::SubjectOrgId)
        .column(rating::Column::Level)
        .filter(rating::Column::Year.eq(year))
        .filter(state_condition(RatingState::Final, crate::db::now()))
        .filter(
            Condition::any()
                .add(rating::Column::MemberId.is_in(member_ids))
                .add(rating::Column::SubjectOrgId.is_in(org_ids)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let (mut members, mut orgs) = (HashMap::new(), HashMap::new());
    for (member, org, level) in rows {
        if let Some(m) = member {
            members.insert(m, level);
        }
        if let Some(o) = org {
            orgs.insert(o, level);
        }
    }
    Ok((members, orgs))
}

/// Refused: a rating of the caller themself.
pub fn forbidden_self() -> ApiError {
    ApiError::Forbidden {
        detail: text!(
            "Nobody proposes or decides their own rating.",
            "任何人都不能提名或审定自己的星级评定。"
        ),
    }
}

/// Refused: a rating of the caller's own organisation.
pub fn forbidden_own_branch() -> ApiError {
    ApiError::Forbidden {
        detail: text!(
            "Nobody rates or decides on the rating of their own organisation.",
            "任何人都不能评定或审定本人所在组织的星级。"
        ),
    }
}

/// A decision on `r` (approve, return, answer an objection) refused when `r` rates one of the
/// caller's own organisations ([`own_orgs`]).
pub async fn refuse_own_organisation<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    r: &rating::Model,
) -> Result<(), ApiError> {
    match r.subject_org_id {
        Some(org) if own_orgs(db, user).await?.contains(&org) => Err(forbidden_own_branch()),
        _ => Ok(()),
    }
}

/// How many ratings matching `condition` there are of each subject and level: one grouped
/// statement, for [`level_counts`].
pub async fn count_levels<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
) -> Result<Vec<(types::RatingSubject, RatingLevel, i64)>, ApiError> {
    use sea_orm::sea_query::{Asterisk, Expr, ExprTrait};
    Ok(rating::Entity::find()
        .select_only()
        .column(rating::Column::Subject)
        .column(rating::Column::Level)
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(condition)
        .group_by(rating::Column::Subject)
        .group_by(rating::Column::Level)
        .into_tuple()
        .all(db)
        .await?)
}

/// Counts per level of `subject` from `(subject, level, count)` rows: every level listed (0
/// where none), `unqualified` for members only.
pub fn level_counts(
    rows: &[(types::RatingSubject, RatingLevel, i64)],
    subject: types::RatingSubject,
) -> Vec<types::LevelCount> {
    RatingLevel::ALL
        .iter()
        .filter(|l| subject == types::RatingSubject::Member || **l != RatingLevel::Unqualified)
        .map(|&level| types::LevelCount {
            level,
            label: level.label().to_owned(),
            count: rows
                .iter()
                .filter(|(s, l, _)| *s == subject && *l == level)
                .map(|(_, _, n)| *n as u64)
                .sum(),
        })
        .collect()
}
