//! Poor households (贫困户, 建档立卡户): the head's record with personal data encrypted and
//! masked as a member's, the people of the household and their per-capita income by year.
//! A household belongs to the branch serving its village; it appears on no public endpoint.

pub mod entity;
mod import;
mod routes;
mod template;
pub mod types;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::audit::{VersionedEntity, Write};
use crate::auth::{Access, AuthUser, Role, Scope, find_placed};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::validate::collect_text;
use crate::members::checks::{parse_id_number, valid_mobile};
use crate::members::optional_text;
use crate::members::pii::{DataKeys, mask_id_number, mask_phone};
use crate::pairings::Helper;
use crate::places::entity::{village, villager_group};
use crate::text;
use entity::{household, income, person};
pub use routes::configure;
use types::*;

/// Roles that read the households of their subtree. Helpers see the households they are
/// paired with; nobody else, and no public page, sees any.
pub const READERS: Access = Access(&[Role::TownAdmin, Role::Inspector, Role::BranchSecretary]);

/// What a caller may do with household records.
pub struct HouseholdAccess {
    /// Subtrees whose households the caller reads.
    pub read: Scope,
    /// Subtrees whose households the caller changes and reveals.
    pub manage: Scope,
    /// The caller as a helper (their linked member or cadre record).
    pub helper: Helper,
}

impl HouseholdAccess {
    pub fn of(user: &AuthUser) -> HouseholdAccess {
        HouseholdAccess {
            read: user.scope(READERS),
            manage: user.scope(Access::MANAGE),
            helper: Helper::of(user),
        }
    }

    /// SQL: the households this caller may read.
    pub fn visible(&self) -> Condition {
        let mut any = Condition::any().add(self.read.org_condition(household::Column::OrgId));
        if let Some(paired) = self.helper.active_households() {
            any = any.add(Expr::col(household::Column::Id).in_subquery(paired));
        }
        any
    }
}

/// A household the caller may read, and whether they manage it; else 404. One statement
/// for readers of its subtree, one more for a helper.
pub async fn find_with_rights<C: ConnectionTrait>(
    db: &C,
    access: &HouseholdAccess,
    id: Uuid,
) -> Result<(household::Model, bool), ApiError> {
    let (h, place) = find_placed(
        db,
        household::Entity::find_by_id(id),
        household::Column::OrgId,
        None::<household::Column>,
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let manages = access.manage.covers(&place.org_path);
    if access.read.covers(&place.org_path) || access.helper.helps(db, h.id).await? {
        return Ok((h, manages));
    }
    Err(ApiError::NotFound)
}

/// The household for a change: 404 when invisible, 403 when visible but not managed.
pub async fn find_managed<C: ConnectionTrait>(
    db: &C,
    access: &HouseholdAccess,
    id: Uuid,
) -> Result<household::Model, ApiError> {
    let (h, manages) = find_with_rights(db, access, id).await?;
    if !manages {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only the branch secretary or an administrator changes a household.",
                "只有支部书记或管理员可以修改贫困户信息。"
            ),
        });
    }
    Ok(h)
}

/// Associated data binding an encrypted value to its record and field.
fn context(kind: &str, id: Uuid, field: &str) -> String {
    format!("{kind}:{id}:{field}")
}

fn undecryptable(what: &str, id: Uuid, field: &str) -> ApiError {
    ApiError::internal(format!("{what} {id}: the stored {field} cannot be decrypted"))
}

/// `,a,b,` for the causes (empty for none).
fn encode_causes(causes: &[PovertyCause]) -> String {
    if causes.is_empty() {
        return String::new();
    }
    format!(",{},", causes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","))
}

/// The causes stored by [`encode_causes`]; a value the code does not know is an error.
fn decode_causes(id: Uuid, stored: &str) -> Result<Vec<PovertyCause>, ApiError> {
    stored
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            PovertyCause::ALL
                .iter()
                .copied()
                .find(|v| v.as_str() == c)
                .ok_or_else(|| ApiError::internal(format!("household {id}: unknown cause {c:?}")))
        })
        .collect()
}

/// The record without its people and incomes: decrypted, then masked unless `reveal`.
pub fn summary(h: &household::Model, keys: &DataKeys, reveal: bool) -> Result<HouseholdSummary, ApiError> {
    let (id_number, phone) = head_pii(h, keys)?;
    Ok(HouseholdSummary {
        id: h.id,
        org_id: h.org_id,
        village_id: h.village_id,
        villager_group_id: h.villager_group_id,
        head_name: h.head_name.clone(),
        id_number: if reveal { id_number } else { mask_id_number(&id_number) },
        phone: phone.map(|p| if reveal { p } else { mask_phone(&p) }),
        address: h.address.clone(),
        size: h.size,
        attribute: h.attribute,
        main_cause: h.main_cause,
        secondary_causes: decode_causes(h.id, &h.secondary_causes)?,
        identified_year: h.identified_year,
        status: h.status,
        lifted_year: h.lifted_year,
        note: h.note.clone(),
        version: h.version,
        created_at: h.created_at,
        updated_at: h.updated_at,
    })
}

/// The head's ID number and phone, decrypted.
fn head_pii(h: &household::Model, keys: &DataKeys) -> Result<(String, Option<String>), ApiError> {
    let id_number = keys
        .decrypt(&h.id_number_enc, &context("household", h.id, "id_number"))
        .ok_or_else(|| undecryptable("household", h.id, "id_number"))?;
    let phone = match &h.phone_enc {
        Some(p) => Some(
            keys.decrypt(p, &context("household", h.id, "phone"))
                .ok_or_else(|| undecryptable("household", h.id, "phone"))?,
        ),
        None => None,
    };
    Ok((id_number, phone))
}

/// The whole record with its people and incomes, masked unless `reveal`.
pub async fn view<C: ConnectionTrait>(
    db: &C,
    h: &household::Model,
    keys: &DataKeys,
    reveal: bool,
) -> Result<HouseholdView, ApiError> {
    let people = person::Entity::find()
        .filter(person::Column::HouseholdId.eq(h.id))
        .order_by_asc(person::Column::CreatedAt)
        .order_by_asc(person::Column::Id)
        .all(db)
        .await?;
    let incomes = income::Entity::find()
        .filter(income::Column::HouseholdId.eq(h.id))
        .order_by_asc(income::Column::Year)
        .all(db)
        .await?;
    let people = people
        .iter()
        .map(|p| {
            let id_number = match &p.id_number_enc {
                Some(enc) => Some(
                    keys.decrypt(enc, &context("household_person", p.id, "id_number"))
                        .ok_or_else(|| undecryptable("household person", p.id, "id_number"))?,
                ),
                None => None,
            };
            Ok(PersonView {
                id: p.id,
                name: p.name.clone(),
                relation: p.relation,
                id_number: id_number.map(|n| if reveal { n } else { mask_id_number(&n) }),
                labour: p.labour,
                health: p.health.clone(),
                in_school: p.in_school,
                working_away: p.working_away,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HouseholdView {
        household: summary(h, keys, reveal)?,
        people,
        incomes: incomes
            .iter()
            .map(|i| IncomeView {
                year: i.year,
                per_capita_fen: i.per_capita_fen,
            })
            .collect(),
        pii_revealed: reveal,
    })
}

/// A household's fields after validation, ready to store.
#[derive(Debug, Clone)]
pub struct HouseholdFields {
    pub head_name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub village_id: Uuid,
    pub villager_group_id: Option<Uuid>,
    pub address: Option<String>,
    pub size: i32,
    pub attribute: HouseholdAttribute,
    pub main_cause: PovertyCause,
    pub secondary_causes: Vec<PovertyCause>,
    pub identified_year: i32,
    pub status: HouseholdStatus,
    pub lifted_year: Option<i32>,
    pub note: Option<String>,
}

/// Field-by-field checks that need no database; every problem is reported at once.
pub fn validate(input: NewHousehold) -> Result<HouseholdFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let head_name = collect_text(&input.head_name, "/head_name", 50, &mut errors);
    let id_number = match parse_id_number(&input.id_number) {
        Ok((id, _)) => id,
        Err(e) => {
            errors.push(e.field_error("/id_number"));
            String::new()
        }
    };
    let phone = input.phone.filter(|p| !p.is_empty());
    if phone.as_deref().is_some_and(|p| !valid_mobile(p)) {
        errors.push(FieldError::body(
            "/phone",
            "format",
            text!("must be 11 digits starting with 1", "须为以 1 开头的 11 位数字"),
        ));
    }
    if !(1..=30).contains(&input.size) {
        errors.push(FieldError::body(
            "/size",
            "out_of_range",
            text!("must be 1 to 30 people", "家庭人口须在 1 到 30 之间"),
        ));
    }
    let this_year = chrono::Datelike::year(&crate::db::now());
    if !(2000..=this_year).contains(&input.identified_year) {
        errors.push(FieldError::body(
            "/identified_year",
            "out_of_range",
            text!("must be 2000 to {this_year}", "须在 2000 到 {this_year} 之间"),
        ));
    }
    match input.lifted_year {
        None if input.status == HouseholdStatus::Lifted => errors.push(FieldError::body(
            "/lifted_year",
            "required",
            text!(
                "a lifted household needs the year it was lifted (脱贫年度)",
                "已脱贫户须填写脱贫年度"
            ),
        )),
        Some(y) if y < input.identified_year || y > this_year => errors.push(FieldError::body(
            "/lifted_year",
            "out_of_range",
            text!(
                "must be from the year identified to {this_year}",
                "须在识别年度到 {this_year} 之间"
            ),
        )),
        _ => {}
    }
    if input.secondary_causes.len() > 10 {
        errors.push(FieldError::body(
            "/secondary_causes",
            "too_many",
            text!("at most 10 causes", "至多 10 个原因"),
        ));
    }
    for (i, cause) in input.secondary_causes.iter().enumerate() {
        if *cause == input.main_cause || input.secondary_causes[..i].contains(cause) {
            errors.push(FieldError::body(
                format!("/secondary_causes/{i}"),
                "duplicate",
                text!("is the main cause or listed twice", "与主要致贫原因相同或重复"),
            ));
        }
    }
    let address = optional_text(input.address, "/address", 200, &mut errors);
    let note = optional_text(input.note, "/note", 1000, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HouseholdFields {
        head_name,
        id_number,
        phone,
        village_id: input.village_id,
        villager_group_id: input.villager_group_id,
        address,
        size: input.size,
        attribute: input.attribute,
        main_cause: input.main_cause,
        secondary_causes: input.secondary_causes,
        identified_year: input.identified_year,
        status: input.status,
        lifted_year: input.lifted_year,
        note,
    })
}

/// The village (served by a branch in `scope`, else 404) and, if named, its villager group
/// (else 422): where a household may be registered.
pub async fn check_place<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    village_id: Uuid,
    group_id: Option<Uuid>,
) -> Result<village::Model, ApiError> {
    let village = crate::places::find_village(db, scope, village_id).await?;
    if let Some(group_id) = group_id {
        let group = villager_group::Entity::find_by_id(group_id).one(db).await?;
        if group.is_none_or(|g| g.village_id != village.id) {
            return Err(ApiError::invalid_field(
                "/villager_group_id",
                "not_in_village",
                text!("must be a villager group of the village", "须为该村的村民组"),
            ));
        }
    }
    Ok(village)
}

/// Whether another household's head has this ID number: `Some(true)` when the caller can
/// read that household, `Some(false)` when not, `None` when nobody's.
pub async fn duplicate_head<C: ConnectionTrait>(
    db: &C,
    access: &HouseholdAccess,
    hash: &str,
    except: Option<Uuid>,
) -> Result<Option<bool>, ApiError> {
    let mut select = household::Entity::find().filter(household::Column::IdNumberHash.eq(hash));
    if let Some(except) = except {
        select = select.filter(household::Column::Id.ne(except));
    }
    let Some(holder) = select.one(db).await? else {
        return Ok(None);
    };
    let visible = household::Entity::find_by_id(holder.id)
        .filter(access.visible())
        .one(db)
        .await?
        .is_some();
    Ok(Some(visible))
}

/// The answer to a head's ID number another household has, after recording the attempt in
/// the audit trail (`household.duplicate_id_number`, in a transaction of its own: roll the
/// refused write back first), as for members: repeated attempts are how someone would probe
/// who is registered as poor. A plain 409 when the caller can read that household; otherwise
/// `cannot_register_here`, which says neither where nor who.
pub async fn refuse_duplicate_head(
    db: &sea_orm::DatabaseConnection,
    user: &AuthUser,
    org_id: Uuid,
    source: &str,
    visible: bool,
) -> ApiError {
    let event = crate::audit::Event {
        entity_id: None,
        ..crate::audit::Event::new("household.duplicate_id_number", "household", "")
    }
    .org(org_id)
    .after(serde_json::json!({"source": source, "in_scope": visible}))
    .failed();
    if let Err(err) = Write::record_alone(db, &user.audit, event).await {
        return err;
    }
    if visible {
        return ApiError::conflict(text!(
            "A household with this head's ID number is already registered.",
            "已有以此身份证号为户主的贫困户。"
        ));
    }
    ApiError::Conflict {
        code: ErrorCode::CannotRegisterHere,
        detail: text!(
            "This head of household cannot be registered here; ask the town committee (镇党委), which sees every village.",
            "此户主无法在此登记，请联系能看到所有村的镇党委。"
        ),
    }
}

/// A new household row of the branch `org_id`; the id is chosen first so encryption can
/// bind to it.
pub fn build(
    keys: &DataKeys,
    f: HouseholdFields,
    org_id: Uuid,
    id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> household::Model {
    household::Model {
        id,
        org_id,
        village_id: f.village_id,
        villager_group_id: f.villager_group_id,
        head_name: f.head_name,
        id_number_enc: keys.encrypt(&f.id_number, &context("household", id, "id_number")),
        id_number_hash: keys.lookup_hash(&f.id_number),
        phone_enc: f.phone.map(|p| keys.encrypt(&p, &context("household", id, "phone"))),
        address: f.address,
        size: f.size,
        attribute: f.attribute,
        main_cause: f.main_cause,
        secondary_causes: encode_causes(&f.secondary_causes),
        identified_year: f.identified_year,
        status: f.status,
        lifted_year: f.lifted_year,
        note: f.note,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts new households, 500 per statement.
pub async fn insert_all(w: &Write, rows: &[household::Model]) -> Result<(), ApiError> {
    for chunk in rows.chunks(500) {
        household::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(w.db())
            .await?;
    }
    Ok(())
}

/// A person's row `id`, its ID number encrypted for that id.
pub fn build_person(
    keys: &DataKeys,
    id: Uuid,
    household_id: Uuid,
    p: PersonFields,
    now: chrono::DateTime<chrono::Utc>,
) -> person::Model {
    person::Model {
        id,
        household_id,
        name: p.name,
        relation: p.relation,
        id_number_enc: p
            .id_number
            .map(|n| keys.encrypt(&n, &context("household_person", id, "id_number"))),
        labour: p.labour,
        health: p.health,
        in_school: p.in_school,
        working_away: p.working_away,
        created_at: now,
    }
}

/// A person's fields after validation.
#[derive(Debug, Clone)]
pub struct PersonFields {
    pub name: String,
    pub relation: Relation,
    pub id_number: Option<String>,
    pub labour: LabourAbility,
    pub health: Option<String>,
    pub in_school: bool,
    pub working_away: bool,
}

pub fn validate_person(input: NewPerson) -> Result<PersonFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = collect_text(&input.name, "/name", 50, &mut errors);
    let id_number = match input.id_number.filter(|n| !n.is_empty()).map(|n| parse_id_number(&n)) {
        None => None,
        Some(Ok((n, _))) => Some(n),
        Some(Err(e)) => {
            errors.push(e.field_error("/id_number"));
            None
        }
    };
    let health = optional_text(input.health, "/health", 100, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PersonFields {
        name,
        relation: input.relation,
        id_number,
        labour: input.labour,
        health,
        in_school: input.in_school,
        working_away: input.working_away,
    })
}

/// Stores `updated` (a changed copy of `current`) if nobody changed it meanwhile; 412
/// otherwise. Changes to people and incomes bump the household too (`updated == current`):
/// its ETag covers the whole record.
pub async fn save(
    w: &Write,
    current: &household::Model,
    mut updated: household::Model,
) -> Result<household::Model, ApiError> {
    let changes = household::Entity::changes(current, &updated);
    let bumped = w
        .update_versioned::<household::Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    Ok(updated)
}

/// Re-encrypts the head's personal data after a change.
pub fn set_pii(h: &mut household::Model, keys: &DataKeys, id_number: Option<&str>, phone: Option<Option<&str>>) {
    if let Some(n) = id_number {
        h.id_number_enc = keys.encrypt(n, &context("household", h.id, "id_number"));
        h.id_number_hash = keys.lookup_hash(n);
    }
    if let Some(phone) = phone {
        h.phone_enc = phone.map(|p| keys.encrypt(p, &context("household", h.id, "phone")));
    }
}

/// SQL: households with (`true`) or without an active pairing.
pub fn paired(yes: bool) -> Condition {
    use crate::pairings::entity::pairing;
    let active = Query::select()
        .column(pairing::Column::HouseholdId)
        .from(pairing::Entity)
        .and_where(Expr::col(pairing::Column::EndOn).is_null())
        .to_owned();
    let col = Expr::col((household::Entity, household::Column::Id));
    Condition::all().add(if yes {
        col.in_subquery(active)
    } else {
        col.not_in_subquery(active)
    })
}

/// SQL: households without a help record dated on or after `since`.
pub fn not_visited_since(since: chrono::NaiveDate) -> Condition {
    use crate::pairings::entity::help_record;
    let recent = Query::select()
        .expr(Expr::val(1))
        .from(help_record::Entity)
        .and_where(
            Expr::col((help_record::Entity, help_record::Column::HouseholdId))
                .equals((household::Entity, household::Column::Id)),
        )
        .and_where(Expr::col((help_record::Entity, help_record::Column::Date)).gte(since))
        .to_owned();
    Condition::all().add(Expr::exists(recent).not())
}
