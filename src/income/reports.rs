//! The finance reports: a village's year (`/villages/{id}/income`, and the same figures in
//! public, `/public/villages/{id}/finances`), and a subtree's summary against the target
//! (`/income/summary`). Every figure is summed from the ledger when asked: no stored total.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::sea_query::{Asterisk, ColumnRef, Condition, Expr, ExprTrait, IntoColumnRef};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use uuid::Uuid;

use super::entity::{project, record, share};
use super::types::*;
use super::{READERS, Target, YearBook, net_amounts, net_of};
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::{Json, Query};
use crate::orgs::queries as orgs;
use crate::places::entity::village;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(village_income)
        .service(income_summary)
        .service(public_finances);
}

/// A village's finances in `year`, with the year before: three statements.
async fn village_finances<C: ConnectionTrait>(
    db: &C,
    target: Target,
    v: &village::Model,
    year: i32,
) -> Result<VillageFinances, ApiError> {
    let rows = net_amounts(
        db,
        Condition::all()
            .add(record::Column::VillageId.eq(v.id))
            .add(record::Column::Year.is_in([year - 1, year])),
    )
    .await?;
    let (mut this, mut before) = (YearBook::default(), YearBook::default());
    for (_, y, category, project, fen) in rows {
        let book = if y == year { &mut this } else { &mut before };
        book.add(category, project, fen);
    }
    let projects = project::Entity::find()
        .filter(project::Column::VillageId.eq(v.id))
        .order_by_asc(project::Column::Name)
        .order_by_asc(project::Column::Id)
        .all(db)
        .await?;
    let sharing: HashMap<Uuid, i64> = if projects.is_empty() {
        HashMap::new()
    } else {
        share::Entity::find()
            .select_only()
            .column(share::Column::ProjectId)
            .column_as(Expr::col(Asterisk).count(), "n")
            .filter(share::Column::ProjectId.is_in(projects.iter().map(|p| p.id)))
            .group_by(share::Column::ProjectId)
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let income = this.flow_totals(FinanceFlow::Income);
    let expenditure = this.flow_totals(FinanceFlow::Expenditure);
    let distribution = this.flow_totals(FinanceFlow::Distribution);
    let operating = this.operating();
    let (before_total, before_operating) = (before.total(FinanceFlow::Income), before.operating());
    Ok(VillageFinances {
        village_id: v.id,
        village_name: v.name.clone(),
        year,
        balance_fen: income.total_fen - expenditure.total_fen - distribution.total_fen,
        target: target.status(&this),
        income: IncomeTotals {
            total_fen: income.total_fen,
            operating_fen: operating,
            by_category: income.by_category,
            by_project: projects
                .iter()
                .map(|p| ProjectIncome {
                    project_id: p.id,
                    name: p.name.clone(),
                    kind: p.kind,
                    kind_label: p.kind.label().to_owned(),
                    status: p.status,
                    capacity: p.capacity,
                    capacity_unit: p.capacity_unit.clone(),
                    households_sharing: sharing.get(&p.id).copied().unwrap_or(0) as u64,
                    amount_fen: this.income_by_project.get(&Some(p.id)).copied().unwrap_or(0),
                })
                .collect(),
            without_project_fen: this.income_by_project.get(&None).copied().unwrap_or(0),
        },
        expenditure,
        distribution,
        previous_year: PreviousYear {
            year: year - 1,
            total_fen: before_total,
            operating_fen: before_operating,
            total_change_fen: income.total_fen - before_total,
            operating_change_fen: operating - before_operating,
        },
    })
}

/// A village's collective finances in a year (村集体经济): income by category and by project,
/// total and operating income, expenditure, distribution, balance, whether it reaches the
/// income target (on the configured basis; both figures are always given), its band, whether
/// it is an empty-shell village (空壳村: no operating income), and the change from the year
/// before.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(("id" = Uuid, Path), YearParams), responses(
    (status = 200, description = "The village's year", body = VillageFinances),
    (status = 404, description = "Village not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/villages/{id}/income")]
async fn village_income(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    Query(params): Query<YearParams>,
) -> Result<Json<VillageFinances>, ApiError> {
    let year = crate::pledges::types::query_year_or_last(params.year)?;
    let v = crate::places::find_village(&state.db, &user.scope(READERS), *id).await?;
    Ok(Json(
        village_finances(&state.db, Target::of(&state.config), &v, year).await?,
    ))
}

/// A village's finances in a year, for villagers (村务公开): the same figures as
/// `/villages/{id}/income` — income by category and by project (with how many poor
/// households share in each, never who), expenditure, distribution and the target status.
/// No token. Cacheable for a minute; `If-None-Match` gives 304.
#[utoipa::path(tag = "public", params(("id" = Uuid, Path), YearParams), responses(
    (status = 200, description = "The village's year", body = VillageFinances, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 404, description = "No such village", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/public/villages/{id}/finances")]
async fn public_finances(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Query(params): Query<YearParams>,
) -> Result<HttpResponse, ApiError> {
    let year = crate::pledges::types::query_year_or_last(params.year)?;
    let finances = public_village_finances(&state, *id, year).await?;
    let body = serde_json::to_vec(&finances).map_err(ApiError::internal)?;
    Ok(crate::http::conditional::public_json(&req, body))
}

/// A village's finances in `year` for the public (the JSON route and the web page), else 404.
pub async fn public_village_finances(state: &AppState, id: Uuid, year: i32) -> Result<VillageFinances, ApiError> {
    let v = village::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    village_finances(&state.db, Target::of(&state.config), &v, year).await
}

/// The collective economy of a subtree's villages in a year, against the income target:
/// villages at or above it, empty-shell villages (空壳村, no operating income) by name,
/// villages per income band, income by category and by project kind, expenditure,
/// distribution, and the year before. The target (`DANGJIAN_INCOME_TARGET_FEN`, default
/// 5,000,000 fen) is measured on `DANGJIAN_INCOME_TARGET_BASIS` (`total`, the default, or
/// `operating`); bands use the same figure.
#[utoipa::path(tag = "income", security(("bearer" = [])), params(SummaryParams), responses(
    (status = 200, description = "The summary", body = IncomeSummary),
    (status = 404, description = "Organisation not found in your scope", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/income/summary")]
async fn income_summary(
    state: web::Data<AppState>,
    user: AuthUser,
    Query(params): Query<SummaryParams>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.db;
    let year = crate::pledges::types::query_year_or_last(params.year)?;
    let target = Target::of(&state.config);
    let scope = user.scope(READERS);
    // A committee opens this page often: the same question since the last write anywhere
    // gets the same answer without summing the ledger again. (An `org_id` outside the
    // caller's scope is refused below, so its key is never stored.)
    let key = format!("income-summary {:?} {:?} {year}", scope.prefixes(), params.org_id);
    let compute = async {
        // The subtree asked for, else the caller's scope: its organisations, named in each
        // statement.
        let ids = orgs::subtree_ids(db, &scope, params.org_id).await?;
        let summary = summarise(db, target, &ids, year).await?;
        Ok(IncomeSummary {
            org_id: params.org_id,
            ..summary
        })
    };
    state.computed.json(db, key, compute).await
}

/// The summary of the villages served by the organisations `ids` (`None`: every village) in
/// `year`, with the year before. Six statements, whatever the size of the subtree.
pub async fn summarise<C: ConnectionTrait>(
    db: &C,
    target: Target,
    ids: &Option<Vec<Uuid>>,
    year: i32,
) -> Result<IncomeSummary, ApiError> {
    let condition = |column: ColumnRef| orgs::ids_condition(ids, column);
    let villages: Vec<(Uuid, String)> = village::Entity::find()
        .select_only()
        .column(village::Column::Id)
        .column(village::Column::Name)
        .filter(condition(village::Column::OrgId.into_column_ref()))
        .order_by_asc(village::Column::Name)
        .order_by_asc(village::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let years = Condition::all()
        .add(record::Column::Year.is_in([year - 1, year]))
        .add(condition(record::Column::OrgId.into_column_ref()));
    // Each village's income and subsidies in the two years (operating = income - subsidies).
    let per_village: Vec<(Uuid, i32, i64, i64)> = record::Entity::find()
        .select_only()
        .column(record::Column::VillageId)
        .column(record::Column::Year)
        .column_as(
            crate::db::sum_i64(net_of(|c| c.flow() == FinanceFlow::Income)),
            "income",
        )
        .column_as(crate::db::sum_i64(net_of(|c| c == FinanceCategory::Subsidy)), "subsidy")
        .filter(years.clone())
        .group_by(record::Column::VillageId)
        .group_by(record::Column::Year)
        .into_tuple()
        .all(db)
        .await?;
    // Every category's total in the two years.
    let per_category: Vec<(i32, FinanceCategory, i64)> = record::Entity::find()
        .select_only()
        .column(record::Column::Year)
        .column(record::Column::Category)
        .column_as(crate::db::sum_i64(net_of(|_| true)), "net")
        .filter(years)
        .group_by(record::Column::Year)
        .group_by(record::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    // The year's income by the kind of project it came from.
    let per_kind: Vec<(ProjectKind, i64)> = record::Entity::find()
        .select_only()
        .column_as(Expr::col((project::Entity, project::Column::Kind)), "kind")
        .column_as(crate::db::sum_i64(net_of(|c| c.flow() == FinanceFlow::Income)), "net")
        .join(JoinType::InnerJoin, record::Relation::Project.def())
        .filter(record::Column::Year.eq(year))
        .filter(condition((record::Entity, record::Column::OrgId).into_column_ref()))
        .group_by(Expr::col((project::Entity, project::Column::Kind)))
        .into_tuple()
        .all(db)
        .await?;
    let (mut this, mut before) = (YearBook::default(), YearBook::default());
    for (y, category, fen) in per_category {
        let book = if y == year { &mut this } else { &mut before };
        book.add(category, None, fen);
    }
    let mut figures: HashMap<(Uuid, i32), (i64, i64)> = HashMap::new();
    for (village_id, y, income, subsidy) in per_village {
        figures.insert((village_id, y), (income, income - subsidy));
    }
    let by_kind: HashMap<ProjectKind, i64> = per_kind.into_iter().collect();
    let mut bands: HashMap<IncomeBand, u64> = HashMap::new();
    let (mut at_target, mut before_at_target, mut before_empty) = (0, 0, 0);
    let mut empty_shell_villages = Vec::new();
    for (id, name) in &villages {
        let (total, operating) = figures.get(&(*id, year)).copied().unwrap_or((0, 0));
        let status = target.measure(total, operating);
        *bands.entry(status.band).or_default() += 1;
        at_target += u64::from(status.reached);
        if status.empty_shell {
            empty_shell_villages.push(VillageRef {
                id: *id,
                name: name.clone(),
            });
        }
        let (total, operating) = figures.get(&(*id, year - 1)).copied().unwrap_or((0, 0));
        let before_status = target.measure(total, operating);
        before_at_target += u64::from(before_status.reached);
        before_empty += u64::from(before_status.empty_shell);
    }
    let income = this.flow_totals(FinanceFlow::Income);
    let operating = this.operating();
    let (before_total, before_operating) = (before.total(FinanceFlow::Income), before.operating());
    let with_project: i64 = by_kind.values().sum();
    Ok(IncomeSummary {
        org_id: None,
        year,
        basis: target.basis,
        basis_label: target.basis.label().to_owned(),
        target_fen: target.fen,
        villages: villages.len() as u64,
        at_target,
        empty_shell: empty_shell_villages.len() as u64,
        empty_shell_villages,
        bands: IncomeBand::ALL
            .iter()
            .map(|&band| BandCount {
                band,
                label: band.label().to_owned(),
                villages: bands.get(&band).copied().unwrap_or(0),
            })
            .collect(),
        operating_fen: operating,
        by_project_kind: ProjectKind::ALL
            .iter()
            .map(|&kind| KindAmount {
                kind,
                label: kind.label().to_owned(),
                amount_fen: by_kind.get(&kind).copied().unwrap_or(0),
            })
            .collect(),
        without_project_fen: income.total_fen - with_project,
        expenditure: this.flow_totals(FinanceFlow::Expenditure),
        distribution: this.flow_totals(FinanceFlow::Distribution),
        previous_year: SummaryPreviousYear {
            year: year - 1,
            total_fen: before_total,
            operating_fen: before_operating,
            at_target: before_at_target,
            empty_shell: before_empty,
            total_change_fen: income.total_fen - before_total,
            operating_change_fen: operating - before_operating,
        },
        income,
    })
}
