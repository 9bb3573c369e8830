//! Village collective economy (村集体经济): income-generating projects, the village ledger of
//! income, expenditure and distribution, measured against the income target and disclosed
//! to villagers (村务公开). Money is in fen, summed in 64-bit integers.

pub mod entity;
mod projects;
mod records;
pub mod reports;
pub mod types;

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::auth::{Access, Scope, find_placed};
use crate::error::ApiError;
use entity::{project, record, share};
use types::*;

/// Roles that read a subtree's projects and ledgers: the town, inspectors and secretaries.
/// Everyone else reads the public finances.
pub const READERS: Access = crate::members::READERS;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    projects::configure(cfg);
    records::configure(cfg);
    reports::configure(cfg);
}

/// A project inside `scope`, else 404. One statement.
pub async fn find_project<C: ConnectionTrait>(db: &C, scope: &Scope, id: Uuid) -> Result<project::Model, ApiError> {
    match find_placed(
        db,
        project::Entity::find_by_id(id),
        project::Column::OrgId,
        None::<project::Column>,
    )
    .await?
    {
        Some((p, place)) if scope.covers(&place.org_path) => Ok(p),
        _ => Err(ApiError::NotFound),
    }
}

/// A ledger record inside `scope`, else 404. One statement.
pub async fn find_record<C: ConnectionTrait>(db: &C, scope: &Scope, id: Uuid) -> Result<record::Model, ApiError> {
    match find_placed(
        db,
        record::Entity::find_by_id(id),
        record::Column::OrgId,
        None::<record::Column>,
    )
    .await?
    {
        Some((r, place)) if scope.covers(&place.org_path) => Ok(r),
        _ => Err(ApiError::NotFound),
    }
}

/// The households sharing in each of these projects' returns.
pub async fn shares_of<C: ConnectionTrait>(db: &C, projects: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if projects.is_empty() {
        return Ok(out);
    }
    let rows = share::Entity::find()
        .filter(share::Column::ProjectId.is_in(projects.iter().copied()))
        .all(db)
        .await?;
    for s in rows {
        out.entry(s.project_id).or_default().push(s.household_id);
    }
    for ids in out.values_mut() {
        ids.sort();
    }
    Ok(out)
}

/// Whether a household shares in any project (it is then not deleted).
pub async fn household_shares<C: ConnectionTrait>(db: &C, household_id: Uuid) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(share::Entity::find()
        .filter(share::Column::HouseholdId.eq(household_id))
        .count(db)
        .await?
        > 0)
}

/// SQL: a record's amount as it counts, negative for a reversing record.
fn net_amount() -> Expr {
    Expr::case(
        record::Column::ReversesId.is_null(),
        Expr::col(record::Column::AmountFen),
    )
    .finally(Expr::val(0).sub(Expr::col(record::Column::AmountFen)))
    .into()
}

/// SQL: the net amount of records of these categories (0 for the others).
pub(crate) fn net_of(categories: impl Fn(FinanceCategory) -> bool) -> Expr {
    let wanted: Vec<FinanceCategory> = FinanceCategory::ALL
        .iter()
        .copied()
        .filter(|c| categories(*c))
        .collect();
    Expr::case(record::Column::Category.is_in(wanted), net_amount())
        .finally(Expr::val(0))
        .into()
}

/// Net amounts of the records matching `condition`, per village, year, category and
/// project: one grouped statement.
pub(crate) async fn net_amounts<C: ConnectionTrait>(
    db: &C,
    condition: Condition,
) -> Result<Vec<(Uuid, i32, FinanceCategory, Option<Uuid>, i64)>, ApiError> {
    Ok(record::Entity::find()
        .select_only()
        .column(record::Column::VillageId)
        .column(record::Column::Year)
        .column(record::Column::Category)
        .column(record::Column::ProjectId)
        .column_as(crate::db::sum_i64(net_amount()), "net")
        .filter(condition)
        .group_by(record::Column::VillageId)
        .group_by(record::Column::Year)
        .group_by(record::Column::Category)
        .group_by(record::Column::ProjectId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The net amounts of one village (or of many together) in one year.
#[derive(Debug, Default, Clone)]
pub struct YearBook {
    pub by_category: BTreeMap<FinanceCategory, i64>,
    /// Income by project (`None`: recorded without one).
    pub income_by_project: HashMap<Option<Uuid>, i64>,
}

impl YearBook {
    pub fn add(&mut self, category: FinanceCategory, project: Option<Uuid>, fen: i64) {
        *self.by_category.entry(category).or_default() += fen;
        if category.flow() == FinanceFlow::Income {
            *self.income_by_project.entry(project).or_default() += fen;
        }
    }

    pub fn total(&self, flow: FinanceFlow) -> i64 {
        self.by_category
            .iter()
            .filter(|(c, _)| c.flow() == flow)
            .map(|(_, fen)| fen)
            .sum()
    }

    /// Operating income (经营性收入): every income but subsidies.
    pub fn operating(&self) -> i64 {
        self.by_category
            .iter()
            .filter(|(c, _)| c.is_operating_income())
            .map(|(_, fen)| fen)
            .sum()
    }

    /// Every category of `flow`, 0 where none.
    pub fn flow_totals(&self, flow: FinanceFlow) -> FlowTotals {
        FlowTotals {
            total_fen: self.total(flow),
            by_category: FinanceCategory::ALL
                .iter()
                .filter(|c| c.flow() == flow)
                .map(|&c| CategoryAmount {
                    category: c,
                    label: c.label().to_owned(),
                    amount_fen: self.by_category.get(&c).copied().unwrap_or(0),
                })
                .collect(),
        }
    }
}

/// The income target and the basis it is measured on, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub fen: i64,
    pub basis: IncomeBasis,
}

impl Target {
    pub fn of(config: &crate::config::Config) -> Target {
        Target {
            fen: config.income_target_fen,
            basis: config.income_target_basis,
        }
    }

    /// How a village's year measures against the target.
    pub fn status(&self, book: &YearBook) -> TargetStatus {
        self.measure(book.total(FinanceFlow::Income), book.operating())
    }

    /// How a year of `total` income, `operating` of it, measures against the target.
    pub fn measure(&self, total: i64, operating: i64) -> TargetStatus {
        let measured = match self.basis {
            IncomeBasis::Total => total,
            IncomeBasis::Operating => operating,
        };
        let band = IncomeBand::of(measured);
        TargetStatus {
            basis: self.basis,
            basis_label: self.basis.label().to_owned(),
            target_fen: self.fen,
            measured_fen: measured,
            reached: measured >= self.fen,
            band,
            band_label: band.label().to_owned(),
            empty_shell: operating <= 0,
        }
    }
}
