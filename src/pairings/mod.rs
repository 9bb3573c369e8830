//! Helpers and pairings (帮扶责任人, 结对帮扶): who helps which poor household, from when to
//! when, and what they did (help records, 帮扶记录); and the coverage a secretary watches.
//!
//! A helper is a party member or a cadre (`cadres`). A household may have several helpers;
//! while any pairing is active exactly one is primary. The database keeps the rules that two
//! concurrent requests could otherwise both pass (partial unique indexes): one active pairing
//! per helper and household, one active primary per household.

pub mod cadres;
mod coverage;
pub mod entity;
mod help_records;
mod routes;
pub mod types;

use std::collections::HashMap;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::{Access, AuthUser, find_placed};
use crate::error::ApiError;
use crate::households::entity::household;
use crate::members::entity::member;
use entity::{cadre, pairing};
use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    coverage::configure(cfg);
    routes::configure(cfg);
    help_records::configure(cfg);
    cadres::configure(cfg);
}

/// The caller as a helper: the member or cadre record their account is linked to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Helper {
    pub member_id: Option<Uuid>,
    pub cadre_id: Option<Uuid>,
}

impl Helper {
    pub fn of(user: &AuthUser) -> Helper {
        Helper {
            member_id: user.principal.member_id,
            cadre_id: user.principal.cadre_id,
        }
    }

    /// True when `p` is one of the caller's own pairings.
    pub fn is(&self, p: &pairing::Model) -> bool {
        (p.member_id.is_some() && p.member_id == self.member_id)
            || (p.cadre_id.is_some() && p.cadre_id == self.cadre_id)
    }

    /// SQL on `pairings`: the caller's own; `None` for an account linked to nobody.
    pub fn own_pairings(&self) -> Option<Condition> {
        let mut any = Condition::any();
        if let Some(m) = self.member_id {
            any = any.add(pairing::Column::MemberId.eq(m));
        }
        if let Some(c) = self.cadre_id {
            any = any.add(pairing::Column::CadreId.eq(c));
        }
        (self.member_id.is_some() || self.cadre_id.is_some()).then_some(any)
    }

    /// The households the caller helps now (a subquery of their ids).
    pub fn active_households(&self) -> Option<SelectStatement> {
        let own = self.own_pairings()?;
        Some(
            Query::select()
                .column(pairing::Column::HouseholdId)
                .from(pairing::Entity)
                .and_where(Expr::col(pairing::Column::EndOn).is_null())
                .cond_where(own)
                .to_owned(),
        )
    }

    /// Whether the caller helps the household now.
    pub async fn helps<C: ConnectionTrait>(&self, db: &C, household_id: Uuid) -> Result<bool, ApiError> {
        let Some(own) = self.own_pairings() else {
            return Ok(false);
        };
        Ok(pairing::Entity::find()
            .filter(pairing::Column::HouseholdId.eq(household_id))
            .filter(pairing::Column::EndOn.is_null())
            .filter(own)
            .count(db)
            .await?
            > 0)
    }
}

/// What the caller may do with one pairing.
#[derive(Debug, Clone, Copy)]
pub struct Rights {
    /// Reads it (the household's readers and helpers, the helper's group leader).
    pub read: bool,
    /// Manages it (secretaries and administrators over the household).
    pub manage: bool,
    /// The caller is the helper.
    pub own: bool,
    /// The caller leads the party group of the (member) helper.
    pub group_leader: bool,
}

/// A pairing the caller may read, with their rights over it; else 404.
pub async fn find_with_rights<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    id: Uuid,
) -> Result<(pairing::Model, Rights), ApiError> {
    let (p, place) = find_placed(
        db,
        pairing::Entity::find_by_id(id),
        pairing::Column::OrgId,
        None::<pairing::Column>,
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let own = Helper::of(user).is(&p);
    let group_leaders = user.scope(crate::members::GROUP_READERS);
    let group_leader = match p.member_id {
        Some(member_id) if !group_leaders.is_empty() => {
            let placed = find_placed(
                db,
                member::Entity::find_by_id(member_id),
                member::Column::OrgId,
                Some(member::Column::GroupId),
            )
            .await?;
            placed.is_some_and(|(_, place)| place.group_path.is_some_and(|g| group_leaders.covers(&g)))
        }
        _ => false,
    };
    let readers = own || group_leader || user.scope(crate::households::READERS).covers(&place.org_path);
    let rights = Rights {
        // A helper of the household also sees its other pairings (as its history shows them).
        read: readers || Helper::of(user).helps(db, p.household_id).await?,
        manage: user.scope(Access::MANAGE).covers(&place.org_path),
        own,
        group_leader,
    };
    if !rights.read {
        return Err(ApiError::NotFound);
    }
    Ok((p, rights))
}

/// SQL on `pairings`: those the caller may read, as [`find_with_rights`] decides for one:
/// about households of their subtree, their own, the other pairings of households they help,
/// and (group leaders) those of the members of their groups.
pub fn visible(user: &AuthUser) -> Condition {
    let mut any = Condition::any().add(
        user.scope(crate::households::READERS)
            .org_condition(pairing::Column::OrgId),
    );
    let helper = Helper::of(user);
    if let Some(own) = helper.own_pairings() {
        any = any.add(own);
    }
    if let Some(helped) = helper.active_households() {
        any = any.add(Expr::col(pairing::Column::HouseholdId).in_subquery(helped));
    }
    let groups = user.scope(crate::members::GROUP_READERS);
    if !groups.is_empty() {
        let members = Query::select()
            .column(member::Column::Id)
            .from(member::Entity)
            .cond_where(groups.group_condition(member::Column::GroupId))
            .to_owned();
        any = any.add(Expr::col(pairing::Column::MemberId).in_subquery(members));
    }
    any
}

/// Takes the household's row lock for the rest of the write: every change to a household's
/// pairings or help records starts here, so that two of them (ending the primary while another
/// pairing is added, logging help while the pairing ends) run one after the other and each sees
/// what the other did. On SQLite the write lock is taken by this first statement.
pub async fn lock_household(w: &crate::audit::Write, household_id: Uuid) -> Result<(), ApiError> {
    let locked = household::Entity::update_many()
        .col_expr(household::Column::Id, Expr::col(household::Column::Id))
        .filter(household::Column::Id.eq(household_id))
        .exec(w.db())
        .await?;
    if locked.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// How many active pairings a member has as a helper.
pub async fn active_pairings_of_member<C: ConnectionTrait>(db: &C, member_id: Uuid) -> Result<u64, ApiError> {
    Ok(pairing::Entity::find()
        .filter(pairing::Column::MemberId.eq(member_id))
        .filter(pairing::Column::EndOn.is_null())
        .count(db)
        .await?)
}

/// The view of one pairing.
pub async fn view<C: ConnectionTrait>(db: &C, p: &pairing::Model) -> Result<PairingView, ApiError> {
    views(db, std::slice::from_ref(p))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no view of a pairing"))
}

/// Views of pairings, with their households and helpers' names: three statements for any
/// number of pairings.
pub async fn views<C: ConnectionTrait>(db: &C, rows: &[pairing::Model]) -> Result<Vec<PairingView>, ApiError> {
    let households: HashMap<Uuid, household::Model> = household::Entity::find()
        .filter(household::Column::Id.is_in(rows.iter().map(|p| p.household_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let names = helper_names(db, rows.iter().map(|p| (p.member_id, p.cadre_id))).await?;
    rows.iter()
        .map(|p| {
            let h = households
                .get(&p.household_id)
                .ok_or_else(|| ApiError::internal(format!("pairing {}: no household", p.id)))?;
            Ok(PairingView {
                id: p.id,
                household: PairedHousehold {
                    id: h.id,
                    head_name: h.head_name.clone(),
                    village_id: h.village_id,
                    villager_group_id: h.villager_group_id,
                    status: h.status,
                },
                helper: helper_view(&names, p.member_id, p.cadre_id),
                is_primary: p.is_primary,
                start_on: p.start_on,
                end_on: p.end_on,
                end_reason: p.end_reason.clone(),
                active: p.end_on.is_none(),
                org_id: p.org_id,
                created_at: p.created_at,
            })
        })
        .collect()
}

/// Names of helpers, by member or cadre id: two statements.
pub async fn helper_names<C: ConnectionTrait>(
    db: &C,
    helpers: impl Iterator<Item = (Option<Uuid>, Option<Uuid>)>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    let (members, cadres): (Vec<_>, Vec<_>) = helpers.unzip();
    let members: Vec<Uuid> = members.into_iter().flatten().collect();
    let cadres: Vec<Uuid> = cadres.into_iter().flatten().collect();
    let mut names = HashMap::new();
    if !members.is_empty() {
        for m in member::Entity::find()
            .filter(member::Column::Id.is_in(members))
            .all(db)
            .await?
        {
            names.insert(m.id, m.name);
        }
    }
    if !cadres.is_empty() {
        for c in cadre::Entity::find()
            .filter(cadre::Column::Id.is_in(cadres))
            .all(db)
            .await?
        {
            names.insert(c.id, c.name);
        }
    }
    Ok(names)
}

pub fn helper_view(names: &HashMap<Uuid, String>, member_id: Option<Uuid>, cadre_id: Option<Uuid>) -> HelperView {
    let id = member_id.or(cadre_id).unwrap_or_default();
    HelperView {
        kind: if member_id.is_some() {
            HelperKind::Member
        } else {
            HelperKind::Cadre
        },
        member_id,
        cadre_id,
        name: names.get(&id).cloned().unwrap_or_default(),
    }
}

/// SQL on `pairings`: active on `day` (started on or before it, not ended before it).
pub fn active_on(day: chrono::NaiveDate) -> Condition {
    Condition::all()
        .add(Expr::col((pairing::Entity, pairing::Column::StartOn)).lte(day))
        .add(
            Condition::any()
                .add(Expr::col((pairing::Entity, pairing::Column::EndOn)).is_null())
                .add(Expr::col((pairing::Entity, pairing::Column::EndOn)).gte(day)),
        )
}

/// Households and cadres attached to an organisation (it cannot be deleted while any exist;
/// pairings and help records follow their households).
pub async fn count_attached_to<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    let households = household::Entity::find()
        .filter(household::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    let cadres = cadre::Entity::find()
        .filter(cadre::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    Ok(households + cadres)
}
