//! `GET /api/v1/pairings/coverage`: the secretary's dashboard. Who helps, who is paired,
//! who has been forgotten, computed from the records of one subtree on one day.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::{help_record, pairing};
use super::types::*;
use super::{active_on, helper_names, helper_view};
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorCode};
use crate::households::entity::household;
use crate::households::types::HouseholdStatus;
use crate::http::Query;
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::text;

/// A helper as pairings store them: (member id, cadre id), exactly one set.
type HelperKey = (Option<Uuid>, Option<Uuid>);

/// SQL: `column` names one of `orgs` (`None`: any organisation).
fn within(orgs: &Option<Vec<Uuid>>, column: impl IntoColumnRef) -> Condition {
    match orgs {
        Some(ids) => Condition::all().add(Expr::col(column).is_in(ids.clone())),
        None => Condition::all(),
    }
}

/// The ids of the live organisations at and under `path`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(coverage);
}

fn out_of_range(name: &str, low: u32, high: u32) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidQuery,
        text!("{name} must be {low} to {high}", "{name} 须在 {low} 到 {high} 之间"),
    )
}

/// Pairing coverage of a subtree on a day (帮扶覆盖情况): members and cadres helping,
/// households paired, households needing help without a helper (listed), households not
/// visited for `stale_days` (listed), help records of the period by kind, and helpers with
/// more than `max_households` households.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(CoverageParams), responses(
    (status = 200, description = "The figures", body = Coverage),
))]
#[get("/api/v1/pairings/coverage")]
async fn coverage(
    state: web::Data<AppState>,
    user: AuthUser,
    Query(params): Query<CoverageParams>,
) -> Result<HttpResponse, ApiError> {
    let as_of = params.as_of.unwrap_or_else(|| crate::db::now().date_naive());
    let stale_days = params.stale_days.unwrap_or(90);
    if !(1..=3650).contains(&stale_days) {
        return Err(out_of_range("stale_days", 1, 3650));
    }
    let max_households = params.max_households.unwrap_or(5);
    if !(1..=1000).contains(&max_households) {
        return Err(out_of_range("max_households", 1, 1000));
    }
    let cutoff = as_of
        .checked_sub_days(chrono::Days::new(u64::from(stale_days)))
        .unwrap_or(NaiveDate::MIN);
    // A `from` after `as_of` is an empty period: nothing is counted.
    let from = params.from.unwrap_or(cutoff);
    let scope = user.scope(crate::households::READERS);
    let db = &state.db;

    // Secretaries refresh this page often: the same question since the last write anywhere
    // gets the same answer without computing it again.
    let key = format!(
        "coverage {:?} {:?} {as_of} {stale_days} {from} {max_households}",
        scope.prefixes(),
        params.org_id
    );
    let compute = async {
        // The organisations of the subtree, read once (`None`: the whole tree, no filter), and
        // named in each of the statements below (see `orgs::subtree_at`). The root is found through
        // the caller's scope, so the subtree is theirs.
        let orgs: Option<Vec<Uuid>> = orgs::subtree_ids(db, &scope, params.org_id).await?;

        // Every household of the subtree, once: the count, those needing help, and the names.
        let all: Vec<(Uuid, String, Uuid, HouseholdStatus)> = household::Entity::find()
            .select_only()
            .columns([
                household::Column::Id,
                household::Column::HeadName,
                household::Column::VillageId,
                household::Column::Status,
            ])
            .filter(within(&orgs, household::Column::OrgId))
            .into_tuple()
            .all(db)
            .await?;
        let households = all.len() as u64;
        let pairings_in = within(&orgs, pairing::Column::OrgId);
        let records_in = within(&orgs, help_record::Column::OrgId);

        // Pairings active on the day: who helps whom.
        let active: Vec<(Uuid, Option<Uuid>, Option<Uuid>)> = pairing::Entity::find()
            .select_only()
            .columns([
                pairing::Column::HouseholdId,
                pairing::Column::MemberId,
                pairing::Column::CadreId,
            ])
            .filter(pairings_in)
            .filter(active_on(as_of))
            .into_tuple()
            .all(db)
            .await?;
        let paired: HashSet<Uuid> = active.iter().map(|(h, ..)| *h).collect();
        let members: HashSet<Uuid> = active.iter().filter_map(|(_, m, _)| *m).collect();
        let cadres: HashSet<Uuid> = active.iter().filter_map(|(.., c)| *c).collect();
        let mut load: HashMap<HelperKey, HashSet<Uuid>> = HashMap::new();
        for (h, m, c) in &active {
            load.entry((*m, *c)).or_default().insert(*h);
        }

        // Each household's latest help record on or before the day.
        let latest: HashMap<Uuid, NaiveDate> = help_record::Entity::find()
            .select_only()
            .column(help_record::Column::HouseholdId)
            .column_as(help_record::Column::Date.max(), "latest")
            .filter(records_in.clone())
            .filter(help_record::Column::Date.lte(as_of))
            .group_by(help_record::Column::HouseholdId)
            .into_tuple::<(Uuid, NaiveDate)>()
            .all(db)
            .await?
            .into_iter()
            .collect();

        let listed = |(id, head_name, village_id, status): &(Uuid, String, Uuid, HouseholdStatus)| CoverageHousehold {
            id: *id,
            head_name: head_name.clone(),
            village_id: *village_id,
            status: *status,
            last_help_on: latest.get(id).copied(),
        };
        // Households needing help without a helper, and paired ones not visited since the
        // cutoff: every one of them, by name.
        let by_name = |a: &CoverageHousehold, b: &CoverageHousehold| (&a.head_name, a.id).cmp(&(&b.head_name, b.id));
        let mut unpaired: Vec<CoverageHousehold> = all
            .iter()
            .filter(|(id, _, _, status)| HouseholdStatus::NEEDING_HELP.contains(status) && !paired.contains(id))
            .map(listed)
            .collect();
        unpaired.sort_by(by_name);
        let mut stale: Vec<CoverageHousehold> = all
            .iter()
            .filter(|(id, ..)| paired.contains(id) && latest.get(id).is_none_or(|d| *d < cutoff))
            .map(listed)
            .collect();
        stale.sort_by(by_name);

        // Help records of the period, by kind (every kind, zeros included).
        let counted: Vec<(HelpKind, i64)> = help_record::Entity::find()
            .select_only()
            .column(help_record::Column::Kind)
            .column_as(help_record::Column::Id.count(), "n")
            .filter(records_in)
            .filter(help_record::Column::Date.gte(from))
            .filter(help_record::Column::Date.lte(as_of))
            .group_by(help_record::Column::Kind)
            .into_tuple()
            .all(db)
            .await?;
        let by_kind: BTreeMap<HelpKind, i64> = counted.into_iter().collect();
        let help_records_by_kind = HelpKind::ALL
            .iter()
            .map(|k| KindCount {
                kind: *k,
                count: u64::try_from(by_kind.get(k).copied().unwrap_or(0)).unwrap_or(0),
            })
            .collect();

        // Helpers carrying more households than `max_households`.
        let busy: Vec<(HelperKey, u64)> = load
            .into_iter()
            .map(|(helper, hs)| (helper, hs.len() as u64))
            .filter(|(_, n)| *n > u64::from(max_households))
            .collect();
        let names = helper_names(db, busy.iter().map(|((m, c), _)| (*m, *c))).await?;
        let mut busy_helpers: Vec<BusyHelper> = busy
            .into_iter()
            .map(|((m, c), n)| BusyHelper {
                helper: helper_view(&names, m, c),
                households: n,
            })
            .collect();
        busy_helpers.sort_by(|a, b| b.households.cmp(&a.households).then(a.helper.name.cmp(&b.helper.name)));

        let coverage = Coverage {
            as_of,
            from,
            stale_days,
            households,
            members_helping: members.len() as u64,
            cadres_helping: cadres.len() as u64,
            households_paired: paired.len() as u64,
            unpaired,
            stale,
            help_records_by_kind,
            busy_helpers,
            max_households,
        };
        Ok(coverage)
    };
    state.computed.json(db, key, compute).await
}
