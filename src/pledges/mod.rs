//! Pledges (承诺): members and organisations pledge publicly, the branch reviews (把关), the
//! public watches them being kept (公示, 群众监督) and the keeping is evaluated (评诺).

pub mod board;
mod categories;
pub mod entity;
mod feedback;
pub mod lifecycle;
pub mod lists;
mod routes;
mod steps;
pub mod types;

use chrono::NaiveDate;
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::audit::Write;
use crate::auth::{Access, AuthUser, Place, Role, Scope, find_placed};
use crate::error::ApiError;
use entity::{event, pledge};
use lifecycle::PledgeState;
use types::PledgeView;

use crate::text;
pub use routes::configure;

/// What a caller may do with pledges; the same shape as member access.
pub struct PledgeAccess {
    /// Subtrees whose pledges the caller reads.
    pub read: Scope,
    /// Groups whose members' (and own) pledges the caller reads: group leaders.
    pub groups: Scope,
    /// Subtrees whose pledges the caller reviews, writes collectively and evaluates.
    pub manage: Scope,
    /// The caller's own member record.
    pub own: Option<Uuid>,
}

impl PledgeAccess {
    pub fn of(user: &AuthUser) -> PledgeAccess {
        PledgeAccess {
            read: user.scope(crate::members::READERS),
            groups: user.scope(Access(&[Role::GroupLeader])),
            manage: user.scope(Access::MANAGE),
            own: user.principal.member_id,
        }
    }

    /// SQL: pledges the caller may read.
    pub fn visible(&self) -> Condition {
        let mut any = Condition::any().add(self.read.org_condition(pledge::Column::OrgId));
        if !self.groups.is_empty() {
            any = any.add(self.groups.group_condition(pledge::Column::GroupId));
        }
        if let Some(own) = self.own {
            any = any.add(pledge::Column::MemberId.eq(own));
        }
        any
    }
}

impl PledgeAccess {
    /// How the caller relates to the pledge `p` filed at `place`; `None` when they may not
    /// read it.
    fn relation(&self, p: &pledge::Model, place: &Place) -> Option<Relation> {
        let relation = Relation {
            author: p.member_id.is_some() && p.member_id == self.own,
            manager: self.manage.covers(&place.org_path),
            group_leader: place.group_path.as_deref().is_some_and(|g| self.groups.covers(g)),
        };
        let readable = self.read.covers(&place.org_path) || relation.group_leader || relation.author;
        readable.then_some(relation)
    }
}

/// A pledge the caller may read and how they relate to it, else 404. One statement, whatever
/// the size of the caller's scope.
pub async fn find_related<C: ConnectionTrait>(
    db: &C,
    access: &PledgeAccess,
    id: Uuid,
) -> Result<(pledge::Model, Relation), ApiError> {
    let (p, place) = find_placed(
        db,
        pledge::Entity::find_by_id(id),
        pledge::Column::OrgId,
        Some(pledge::Column::GroupId),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let relation = access.relation(&p, &place).ok_or(ApiError::NotFound)?;
    Ok((p, relation))
}

/// A pledge the caller may read, else 404.
pub async fn find<C: ConnectionTrait>(db: &C, access: &PledgeAccess, id: Uuid) -> Result<pledge::Model, ApiError> {
    Ok(find_related(db, access, id).await?.0)
}

/// How the caller relates to one pledge: decides who may do what to it.
pub struct Relation {
    /// The member who made it (individual pledges).
    pub author: bool,
    /// Secretary or administrator over its organisation.
    pub manager: bool,
    /// Leader of the group it belongs to.
    pub group_leader: bool,
}

pub fn state_of(p: &pledge::Model) -> PledgeState {
    p.state
}

/// Past due and not yet kept.
pub fn is_overdue(p: &pledge::Model, today: NaiveDate) -> bool {
    state_of(p).can_be_overdue() && p.due_on.is_some_and(|due| due < today)
}

pub fn view(p: &pledge::Model) -> PledgeView {
    let state = state_of(p);
    PledgeView {
        id: p.id,
        year: p.year,
        kind: p.kind,
        member_id: p.member_id,
        org_id: p.org_id,
        group_id: p.group_id,
        title: p.title.clone(),
        content: p.content.clone(),
        category: p.category_code.clone(),
        villager_group_id: p.villager_group_id,
        post_id: p.post_id,
        due_on: p.due_on,
        state,
        overdue: is_overdue(p, crate::db::now().date_naive()),
        allowed_transitions: state.allowed(),
        return_reason: p.return_reason.clone(),
        evaluation_result: p.evaluation_result,
        evaluation_comment: p.evaluation_comment.clone(),
        progress_percent: p.progress_percent,
        version: p.version,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Appends a timeline entry.
#[allow(clippy::too_many_arguments)]
pub async fn record_event(
    w: &Write,
    pledge_id: Uuid,
    kind: &str,
    from: Option<PledgeState>,
    to: Option<PledgeState>,
    note: Option<String>,
    percentage: Option<i32>,
    evidence: &[String],
    user: &AuthUser,
) -> Result<(), ApiError> {
    event::Entity::insert(event::ActiveModel {
        id: Set(Uuid::now_v7()),
        pledge_id: Set(pledge_id),
        kind: Set(kind.into()),
        from_state: Set(from),
        to_state: Set(to),
        note: Set(note),
        percentage: Set(percentage),
        evidence: Set(if evidence.is_empty() {
            None
        } else {
            serde_json::to_string(evidence).ok()
        }),
        actor_user_id: Set(Some(user.id())),
        actor_name: Set(Some(user.principal.username.clone())),
        occurred_at: Set(crate::db::now()),
    })
    .exec_without_returning(w.db())
    .await?;
    Ok(())
}

/// The category exists and, for new choices, is active.
pub async fn check_category<C: ConnectionTrait>(db: &C, code: &str) -> Result<(), ApiError> {
    match entity::category::Entity::find_by_id(code.to_owned()).one(db).await? {
        Some(c) if c.active => Ok(()),
        _ => Err(ApiError::invalid_field(
            "/category",
            "unknown",
            text!("is not an active pledge category", "不是可用的承诺类别"),
        )),
    }
}

/// Pledges attached to an organisation (it cannot be deleted while any exist).
pub async fn count_attached_to<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    pledge::Entity::find()
        .filter(pledge::Column::OrgId.eq(org_id))
        .count(db)
        .await
}
