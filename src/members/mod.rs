//! Party members (党员): the programme's core records, with their posts (岗位) and branch
//! moves. Personal data (ID number, phone) is encrypted at rest and masked in responses.

pub mod checks;
mod csv;
pub mod entity;
mod import;
mod moves;
pub mod pii;
mod posts;
mod queries;
mod routes;
mod template;
pub mod types;

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::audit::{VersionedEntity, Write};
use crate::auth::{Access, AuthUser, Place, Role, Scope, find_placed};
use crate::error::{ApiError, FieldError};
use crate::orgs::{OrgKind, entity as org, queries as orgs};
use crate::text;
use checks::{parse_id_number, pinyin_of, valid_mobile};
use entity::member::{self, Column, Entity, Model};
use pii::{DataKeys, mask_id_number, mask_phone};
pub use routes::configure;
use types::{Education, Gender, MemberStatus, MemberView, NewMember};

/// Roles that may read member records of their subtree (members see only themselves).
pub const READERS: Access = Access(&[Role::TownAdmin, Role::Inspector, Role::BranchSecretary]);
/// Group leaders read the members of their group.
pub const GROUP_READERS: Access = Access(&[Role::GroupLeader]);

/// What a caller may do with member records.
pub struct MemberAccess {
    /// Subtrees whose members (by branch) the caller may read.
    pub read: Scope,
    /// Groups whose members the caller may read (group leaders).
    pub groups: Scope,
    /// Subtrees whose members the caller may change and reveal.
    pub manage: Scope,
    /// The caller's own member record, if their account is linked to one.
    pub own: Option<Uuid>,
}

impl MemberAccess {
    pub fn of(user: &AuthUser) -> MemberAccess {
        MemberAccess {
            read: user.scope(READERS),
            groups: user.scope(GROUP_READERS),
            manage: user.scope(Access::MANAGE),
            own: user.principal.member_id,
        }
    }

    /// SQL: the member rows this caller may read. Kept to one `IN` for most callers, so
    /// lists can walk the (org, name) and (name) indexes.
    pub fn visible(&self) -> Condition {
        let mut any = Condition::any().add(self.read.org_condition(Column::OrgId));
        if !self.groups.is_empty() {
            any = any.add(self.groups.group_condition(Column::GroupId));
        }
        if let Some(own) = self.own {
            any = any.add(Column::Id.eq(own));
        }
        any
    }

    /// SQL: the member rows this caller may change.
    pub fn managed(&self) -> Condition {
        Condition::all().add(self.manage.org_condition(Column::OrgId))
    }
}

impl MemberAccess {
    /// Whether the caller may read the member `id` filed at `place`.
    fn reads(&self, id: Uuid, place: &Place) -> bool {
        self.read.covers(&place.org_path)
            || place.group_path.as_deref().is_some_and(|g| self.groups.covers(g))
            || self.own == Some(id)
    }
}

/// A member the caller may read, and whether they also manage them; else 404. One
/// statement, whatever the size of the caller's scope.
pub async fn find_with_rights<C: ConnectionTrait>(
    db: &C,
    access: &MemberAccess,
    id: Uuid,
) -> Result<(Model, bool), ApiError> {
    let (m, place) = find_placed(db, Entity::find_by_id(id), Column::OrgId, Some(Column::GroupId))
        .await?
        .ok_or(ApiError::NotFound)?;
    if !access.reads(m.id, &place) {
        return Err(ApiError::NotFound);
    }
    let manages = access.manage.covers(&place.org_path);
    Ok((m, manages))
}

/// A member the caller may read, else 404.
pub async fn find<C: ConnectionTrait>(db: &C, access: &MemberAccess, id: Uuid) -> Result<Model, ApiError> {
    Ok(find_with_rights(db, access, id).await?.0)
}

/// True when the caller manages the member's branch (false for no such member).
pub async fn manages<C: ConnectionTrait>(db: &C, access: &MemberAccess, id: Uuid) -> Result<bool, ApiError> {
    let placed = find_placed(db, Entity::find_by_id(id), Column::OrgId, None::<Column>).await?;
    Ok(placed.is_some_and(|(_, place)| access.manage.covers(&place.org_path)))
}

/// The member for a write by a manager: 404 when invisible, 403 when visible but not managed.
pub async fn find_managed<C: ConnectionTrait>(db: &C, access: &MemberAccess, id: Uuid) -> Result<Model, ApiError> {
    let (member, manages) = find_with_rights(db, access, id).await?;
    if !manages {
        return Err(ApiError::Forbidden {
            detail: text!(
                "Only the branch secretary or an administrator may do this.",
                "只有支部书记或管理员可以执行此操作。"
            ),
        });
    }
    Ok(member)
}

/// The response view: personal data decrypted, then masked unless `reveal` (the birth date
/// then shrinks to its year: with the region code it would narrow the ID number too far).
///
/// A stored value that cannot be decrypted (a wrong `DANGJIAN_DATA_KEY`, a damaged row) is
/// an internal error, logged with the member: showing it as empty would hide the fault and
/// make the next update fail with a misleading 422.
pub fn view(m: &Model, keys: &DataKeys, reveal: bool) -> Result<MemberView, ApiError> {
    let undecryptable =
        |field: &str| ApiError::internal(format!("member {}: the stored {field} cannot be decrypted", m.id));
    let id_number = keys
        .decrypt(&m.id_number_enc, &context(m.id, "id_number"))
        .ok_or_else(|| undecryptable("id_number"))?;
    let phone = match &m.phone_enc {
        Some(p) => Some(
            keys.decrypt(p, &context(m.id, "phone"))
                .ok_or_else(|| undecryptable("phone"))?,
        ),
        None => None,
    };
    Ok(MemberView {
        id: m.id,
        name: m.name.clone(),
        gender: m.gender,
        birth_date: reveal.then_some(m.birth_date),
        birth_year: m.birth_date.year(),
        ethnicity: m.ethnicity.clone(),
        education: m.education,
        id_number: if reveal { id_number } else { mask_id_number(&id_number) },
        phone: phone.map(|p| if reveal { p } else { mask_phone(&p) }),
        address: m.address.clone(),
        joined_on: m.joined_on,
        status: m.status,
        org_id: m.org_id,
        group_id: m.group_id,
        rural: m.rural,
        specialty: m.specialty.clone(),
        note: m.note.clone(),
        active: m.active,
        left_reason: m.left_reason,
        left_on: m.left_on,
        pii_revealed: reveal,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Associated data binding an encrypted value to its record and field.
fn context(id: Uuid, field: &str) -> String {
    format!("member:{id}:{field}")
}

/// A member's fields after validation, ready to store.
#[derive(Debug, Clone)]
pub struct MemberFields {
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub id_number: String,
    pub joined_on: NaiveDate,
    pub status: MemberStatus,
    pub org_id: Uuid,
    pub group_id: Option<Uuid>,
    pub rural: bool,
    pub ethnicity: Option<String>,
    pub education: Option<Education>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub specialty: Option<String>,
    pub note: Option<String>,
}

/// An optional text field: blank is none, else checked as [`short_text`](crate::http::validate::short_text)
/// with its problem added to `errors`.
pub fn optional_text(value: Option<String>, pointer: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    // Blank means none; the length is counted as sent, as the schema states it.
    let value = value.filter(|v| !v.trim().is_empty())?;
    match crate::http::validate::short_text(&value, pointer, max) {
        Ok(v) => Some(v),
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(_) => None,
    }
}

/// Field-by-field checks that need no database; every problem is reported at once.
pub fn validate(input: NewMember) -> Result<MemberFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = match crate::http::validate::short_text(&input.name, "/name", 50) {
        Ok(n) => n,
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            String::new()
        }
        Err(_) => String::new(),
    };
    let id_number = match parse_id_number(&input.id_number) {
        Ok((id, birth)) => {
            if birth != input.birth_date {
                errors.push(FieldError::body(
                    "/birth_date",
                    "mismatch",
                    text!(
                        "does not match the birth date in the ID number ({birth})",
                        "与身份证号中的出生日期（{birth}）不符"
                    ),
                ));
            }
            id
        }
        Err(e) => {
            errors.push(e.field_error("/id_number"));
            String::new()
        }
    };
    let today = crate::db::now().date_naive();
    if input.birth_date > today {
        errors.push(FieldError::body(
            "/birth_date",
            "future",
            text!("is in the future", "不能晚于今天"),
        ));
    }
    if input.joined_on > today {
        errors.push(FieldError::body(
            "/joined_on",
            "future",
            text!("is in the future", "不能晚于今天"),
        ));
    }
    let adult = input
        .birth_date
        .with_year(input.birth_date.year() + 18)
        .unwrap_or(input.birth_date);
    if input.joined_on < adult {
        errors.push(FieldError::body(
            "/joined_on",
            "too_early",
            text!("members join the Party at 18 or older", "入党时须年满 18 周岁"),
        ));
    }
    let phone = input.phone.filter(|p| !p.is_empty());
    if let Some(p) = &phone
        && !valid_mobile(p)
    {
        errors.push(FieldError::body(
            "/phone",
            "format",
            text!("must be 11 digits starting with 1", "须为以 1 开头的 11 位数字"),
        ));
    }
    let ethnicity = optional_text(input.ethnicity, "/ethnicity", 20, &mut errors);
    let address = optional_text(input.address, "/address", 200, &mut errors);
    let specialty = optional_text(input.specialty, "/specialty", 200, &mut errors);
    let note = optional_text(input.note, "/note", 1000, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MemberFields {
        name,
        gender: input.gender,
        birth_date: input.birth_date,
        id_number,
        joined_on: input.joined_on,
        status: input.status,
        org_id: input.org_id,
        group_id: input.group_id,
        rural: input.rural,
        ethnicity,
        education: input.education,
        phone,
        address,
        specialty,
        note,
    })
}

/// Checks that `org_id` is a branch in `scope` and `group_id` a group inside it.
pub async fn check_placement<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    org_id: Uuid,
    group_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let branch = orgs::find(db, scope, org_id).await?;
    if branch.kind != OrgKind::Branch {
        return Err(ApiError::invalid_field(
            "/org_id",
            "not_a_branch",
            text!("members belong to a party branch", "党员须属于一个党支部"),
        ));
    }
    if let Some(group_id) = group_id {
        let group = org::Entity::find_by_id(group_id)
            .filter(org::Column::DeletedAt.is_null())
            .one(db)
            .await?
            .filter(|g| g.kind == OrgKind::Group && g.parent_id == Some(branch.id));
        if group.is_none() {
            return Err(ApiError::invalid_field(
                "/group_id",
                "not_in_branch",
                text!("must be a party group inside the branch", "须为该党支部下的党小组"),
            ));
        }
    }
    Ok(())
}

/// Where an ID number already belongs to an active member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clashes {
    /// With members the caller may read: named, so the caller can fix their input.
    pub in_scope: usize,
    /// With members elsewhere in the town: never said which, or where.
    pub elsewhere: usize,
}

impl Clashes {
    pub fn any(&self) -> bool {
        self.in_scope + self.elsewhere > 0
    }
}

/// Active members (other than `except`) holding one of these ID-number hashes, each with
/// whether the caller may read it.
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    access: &MemberAccess,
    hashes: Vec<String>,
    except: Option<Uuid>,
) -> Result<Vec<(Model, bool)>, ApiError> {
    let mut found = Vec::new();
    for chunk in hashes.chunks(500) {
        let mut select = Entity::find()
            .filter(Column::IdNumberHash.is_in(chunk.to_vec()))
            .filter(Column::Active.eq(true));
        if let Some(except) = except {
            select = select.filter(Column::Id.ne(except));
        }
        let rows = select.all(db).await?;
        if rows.is_empty() {
            continue;
        }
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        let visible: Vec<Uuid> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Id.is_in(ids))
            .filter(access.visible())
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|m| {
            let readable = visible.contains(&m.id);
            (m, readable)
        }));
    }
    Ok(found)
}

/// Active members (other than `except`) that already hold `id_number`.
pub async fn find_clashes<C: ConnectionTrait>(
    db: &C,
    access: &MemberAccess,
    keys: &DataKeys,
    id_number: &str,
    except: Option<Uuid>,
) -> Result<Clashes, ApiError> {
    let found = holders(db, access, vec![keys.lookup_hash(id_number)], except).await?;
    Ok(Clashes {
        in_scope: found.iter().filter(|(_, readable)| *readable).count(),
        elsewhere: found.iter().filter(|(_, readable)| !*readable).count(),
    })
}

/// The answer to an ID number that active members already hold, after recording the attempt
/// in the audit trail (`member.duplicate_id_number`, in a transaction of its own, since the
/// write it belongs to is refused: roll that one back first). A plain 409 when the caller can
/// see the member; otherwise `cannot_register_here`, which confirms neither where nor who.
/// Repeated attempts from one account are how someone would probe the town's register.
pub async fn refuse_clashes(
    db: &sea_orm::DatabaseConnection,
    user: &AuthUser,
    org_id: Uuid,
    source: &str,
    clashes: Clashes,
) -> ApiError {
    if let Err(err) = record_clashes(db, user, org_id, source, clashes).await {
        return err;
    }
    if clashes.in_scope > 0 {
        return ApiError::conflict(text!(
            "An active member with this ID number already exists.",
            "已有使用此身份证号的在册党员。"
        ));
    }
    ApiError::Conflict {
        code: crate::error::ErrorCode::CannotRegisterHere,
        detail: text!(
            "This ID number cannot be registered here; ask the town committee (镇党委), which sees every branch.",
            "此身份证号无法在此登记，请联系能看到所有党支部的镇党委。"
        ),
    }
}

async fn record_clashes(
    db: &sea_orm::DatabaseConnection,
    user: &AuthUser,
    org_id: Uuid,
    source: &str,
    clashes: Clashes,
) -> Result<(), ApiError> {
    let event = crate::audit::Event {
        entity_id: None,
        ..crate::audit::Event::new("member.duplicate_id_number", "member", "")
    }
    .org(org_id)
    .after(serde_json::json!({"source": source, "in_scope": clashes.in_scope, "elsewhere": clashes.elsewhere}))
    .failed();
    Write::record_alone(db, &user.audit, event).await
}

/// Inserts a validated member.
pub async fn insert(w: &Write, keys: &DataKeys, f: MemberFields) -> Result<Model, ApiError> {
    let model = build(keys, f);
    Entity::insert(active_model(&model))
        .exec_without_returning(w.db())
        .await?;
    Ok(model)
}

/// A new member row; the id is chosen first so encryption can bind to it.
pub fn build(keys: &DataKeys, f: MemberFields) -> Model {
    build_at(keys, f, Uuid::now_v7(), crate::db::now())
}

/// [`build`] with a chosen id and creation time (generated data sets).
pub fn build_at(keys: &DataKeys, f: MemberFields, id: Uuid, now: chrono::DateTime<chrono::Utc>) -> Model {
    let (pinyin, initials) = pinyin_of(&f.name);
    Model {
        id,
        org_id: f.org_id,
        group_id: f.group_id,
        name: f.name,
        name_pinyin: pinyin,
        name_initials: initials,
        gender: f.gender,
        birth_date: f.birth_date,
        ethnicity: f.ethnicity,
        education: f.education,
        id_number_enc: keys.encrypt(&f.id_number, &context(id, "id_number")),
        id_number_hash: keys.lookup_hash(&f.id_number),
        phone_enc: f.phone.map(|p| keys.encrypt(&p, &context(id, "phone"))),
        address: f.address,
        joined_on: f.joined_on,
        status: f.status,
        rural: f.rural,
        specialty: f.specialty,
        note: f.note,
        active: true,
        left_reason: None,
        left_on: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts many new rows at once (500 per statement).
pub async fn insert_all(w: &Write, rows: &[Model]) -> Result<(), ApiError> {
    for chunk in rows.chunks(500) {
        Entity::insert_many(chunk.iter().map(active_model))
            .exec_without_returning(w.db())
            .await?;
    }
    Ok(())
}

fn active_model(m: &Model) -> member::ActiveModel {
    member::ActiveModel {
        id: Set(m.id),
        org_id: Set(m.org_id),
        group_id: Set(m.group_id),
        name: Set(m.name.clone()),
        name_pinyin: Set(m.name_pinyin.clone()),
        name_initials: Set(m.name_initials.clone()),
        gender: Set(m.gender),
        birth_date: Set(m.birth_date),
        ethnicity: Set(m.ethnicity.clone()),
        education: Set(m.education),
        id_number_enc: Set(m.id_number_enc.clone()),
        id_number_hash: Set(m.id_number_hash.clone()),
        phone_enc: Set(m.phone_enc.clone()),
        address: Set(m.address.clone()),
        joined_on: Set(m.joined_on),
        status: Set(m.status),
        rural: Set(m.rural),
        specialty: Set(m.specialty.clone()),
        note: Set(m.note.clone()),
        active: Set(m.active),
        left_reason: Set(m.left_reason),
        left_on: Set(m.left_on),
        version: Set(m.version),
        created_at: Set(m.created_at),
        updated_at: Set(m.updated_at),
    }
}

/// Stores `updated` (a changed copy of `current`) if nobody changed it meanwhile; 412 otherwise.
pub async fn save(w: &Write, current: &Model, mut updated: Model) -> Result<Model, ApiError> {
    let changes = Entity::changes(current, &updated);
    let bumped = w
        .update_versioned::<Entity>(current.id, current.version, changes)
        .await?;
    updated.version = bumped.version;
    updated.updated_at = bumped.updated_at;
    Ok(updated)
}

/// Re-encrypts and re-hashes personal data after a change.
pub fn set_pii(m: &mut Model, keys: &DataKeys, id_number: Option<&str>, phone: Option<Option<&str>>) {
    if let Some(id_number) = id_number {
        m.id_number_enc = keys.encrypt(id_number, &context(m.id, "id_number"));
        m.id_number_hash = keys.lookup_hash(id_number);
    }
    if let Some(phone) = phone {
        m.phone_enc = phone.map(|p| keys.encrypt(p, &context(m.id, "phone")));
    }
}

/// Members and posts attached to an organisation (it cannot be deleted while any exist).
pub async fn count_attached_to<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    let members = Entity::find()
        .filter(
            Condition::any()
                .add(Column::OrgId.eq(org_id))
                .add(Column::GroupId.eq(org_id)),
        )
        .count(db)
        .await?;
    let posts = entity::post::Entity::find()
        .filter(entity::post::Column::OrgId.eq(org_id))
        .count(db)
        .await?;
    Ok(members + posts)
}

/// SQL: members who hold a post of `kind` on `today`.
pub fn holding_post(kind: types::PostKind, today: NaiveDate) -> Condition {
    use entity::post;
    let holders = sea_orm::sea_query::Query::select()
        .column(post::Column::MemberId)
        .from(post::Entity)
        .and_where(Expr::col(post::Column::Kind).eq(kind.as_str()))
        .and_where(Expr::col(post::Column::StartOn).lte(today))
        .cond_where(
            Condition::any()
                .add(Expr::col(post::Column::EndOn).is_null())
                .add(Expr::col(post::Column::EndOn).gte(today)),
        )
        .to_owned();
    Condition::all().add(Expr::col(Column::Id).in_subquery(holders))
}

/// After a group moved to another branch: its members now belong to that branch, and each
/// move is written to their history (`/members/{id}/history`) like a transfer.
pub async fn follow_group(w: &Write, group_id: Uuid, branch_id: Uuid, actor: Uuid) -> Result<(), ApiError> {
    let moving = Entity::find()
        .filter(Column::GroupId.eq(group_id))
        .filter(Column::OrgId.ne(branch_id))
        .all(w.db())
        .await?;
    let now = crate::db::now();
    let rows = moving.iter().map(|m| entity::transfer::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(m.id),
        from_org_id: Set(m.org_id),
        to_org_id: Set(branch_id),
        from_group_id: Set(Some(group_id)),
        to_group_id: Set(Some(group_id)),
        moved_at: Set(now),
        actor_user_id: Set(Some(actor)),
    });
    for chunk in rows.collect::<Vec<_>>().chunks(500) {
        entity::transfer::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.db())
            .await?;
    }
    Entity::update_many()
        .col_expr(Column::OrgId, Expr::value(branch_id))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(crate::db::now()))
        .filter(Column::GroupId.eq(group_id))
        .exec(w.db())
        .await?;
    Ok(())
}
