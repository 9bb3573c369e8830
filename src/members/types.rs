//! Request and response types of the member endpoints, and the enums they use.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::labelled_enum;

labelled_enum! {
    /// Gender (性别).
    Gender("gender", "性别") { Male => ("male", "男"), Female => ("female", "女") }
}

labelled_enum! {
    /// Highest education (学历).
    Education("education", "学历") {
        Primary => ("primary", "小学"),
        JuniorHigh => ("junior_high", "初中"),
        SeniorHigh => ("senior_high", "高中"),
        Vocational => ("vocational", "中专"),
        College => ("college", "大专"),
        Bachelor => ("bachelor", "本科"),
        Master => ("master", "硕士"),
        Doctorate => ("doctorate", "博士"),
    }
}

labelled_enum! {
    /// Membership status: probationary (预备党员) or full (正式党员).
    MemberStatus("member_status", "党员状态") { Probationary => ("probationary", "预备党员"), Full => ("full", "正式党员") }
}

labelled_enum! {
    /// Why a member left the branch's rolls.
    LeftReason("left_reason", "离开原因") { TransferredOut => ("transferred_out", "组织关系转出"), Deceased => ("deceased", "去世"), Other => ("other", "其他") }
}

labelled_enum! {
    /// A post a member holds (岗位, 设岗定责).
    PostKind("post_kind", "岗位") {
        GroupLeader => ("group_leader", "党小组长"),
        BranchSecretary => ("branch_secretary", "党支部书记"),
        DeputySecretary => ("deputy_secretary", "党支部副书记"),
        FirstSecretary => ("first_secretary", "第一书记"),
        CouncilHead => ("council_head", "理事长"),
        PioneerPost => ("pioneer_post", "党员先锋岗"),
        Other => ("other", "其他"),
    }
}

/// A member as the API shows them. `id_number` and `phone` are masked
/// (`340822************`, `138****5678`) and `birth_date` is left out (only `birth_year` is
/// shown) unless `pii_revealed` is true.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: Uuid,
    #[schema(example = "程军")]
    pub name: String,
    pub gender: Gender,
    /// The full birth date: only with `pii_revealed`, otherwise `null`.
    pub birth_date: Option<NaiveDate>,
    #[schema(example = 1990)]
    pub birth_year: i32,
    #[schema(example = "汉族")]
    pub ethnicity: Option<String>,
    pub education: Option<Education>,
    #[schema(example = "340822************")]
    pub id_number: String,
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Date joined the Party (入党日期).
    pub joined_on: NaiveDate,
    pub status: MemberStatus,
    /// The party branch.
    pub org_id: Uuid,
    /// The party group inside the branch.
    pub group_id: Option<Uuid>,
    /// Rural member (农村党员).
    pub rural: bool,
    /// Specialty (特长).
    pub specialty: Option<String>,
    pub note: Option<String>,
    /// False once the member has left (see `left_reason`).
    pub active: bool,
    pub left_reason: Option<LeftReason>,
    pub left_on: Option<NaiveDate>,
    /// True when `id_number` and `phone` are shown in full (`?reveal=pii`, audited).
    pub pii_revealed: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new member. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "程军", "gender": "male", "birth_date": "1990-03-07", "id_number": "110101199003074514",
    "phone": "13812345678", "joined_on": "2012-07-01", "status": "full", "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11",
    "rural": true, "ethnicity": "汉族", "education": "senior_high", "specialty": "电工"}))]
pub struct NewMember {
    /// 1–50 characters.
    #[schema(format = "short-text", max_length = 50)]
    pub name: String,
    pub gender: Gender,
    /// Must match the birth date inside `id_number`.
    pub birth_date: NaiveDate,
    /// 18 characters with a valid GB 11643 check character (not expressible in the
    /// pattern: a wrong one is 422 `checksum`); unique among active members.
    #[schema(format = "id-number")]
    pub id_number: String,
    pub joined_on: NaiveDate,
    pub status: MemberStatus,
    /// A party branch in your scope.
    pub org_id: Uuid,
    pub rural: bool,
    /// At most 20 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 20)]
    pub ethnicity: Option<String>,
    pub education: Option<Education>,
    /// 11 digits starting with 1; empty means none.
    #[schema(format = "mobile-or-empty")]
    pub phone: Option<String>,
    /// At most 200 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 200)]
    pub address: Option<String>,
    /// A party group inside `org_id`.
    pub group_id: Option<Uuid>,
    /// At most 200 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 200)]
    pub specialty: Option<String>,
    /// At most 1,000 characters; blank means none.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub note: Option<String>,
}

/// `null` clears a field; a missing field is left as it is.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to a member. Secretaries and administrators may change every field; the member
/// themself only `phone` and `address`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "13912345678", "address": "大洼社区司山村民组"}))]
pub struct MemberPatch {
    #[schema(format = "short-text", max_length = 50)]
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    #[schema(format = "id-number")]
    pub id_number: Option<String>,
    pub joined_on: Option<NaiveDate>,
    pub status: Option<MemberStatus>,
    pub rural: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 20)]
    pub ethnicity: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Education>)]
    pub education: Option<Option<Education>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "mobile-or-empty")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 200)]
    pub address: Option<Option<String>>,
    /// A party group inside the member's branch, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub group_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 200)]
    pub specialty: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "text-or-blank", max_length = 1000)]
    pub note: Option<Option<String>>,
}

impl MemberPatch {
    /// True when only the fields a member may change about themself are present.
    pub fn only_contact_fields(&self) -> bool {
        self.name.is_none()
            && self.gender.is_none()
            && self.birth_date.is_none()
            && self.id_number.is_none()
            && self.joined_on.is_none()
            && self.status.is_none()
            && self.rural.is_none()
            && self.ethnicity.is_none()
            && self.education.is_none()
            && self.group_id.is_none()
            && self.specialty.is_none()
            && self.note.is_none()
    }
}

/// Move a member to another branch (组织关系转接, within the town).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The new branch, in your scope.
    pub org_id: Uuid,
    /// A party group inside the new branch.
    pub group_id: Option<Uuid>,
}

/// One branch move of a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub id: Uuid,
    pub from_org_id: Uuid,
    pub to_org_id: Uuid,
    pub from_group_id: Option<Uuid>,
    pub to_group_id: Option<Uuid>,
    pub moved_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
}

/// A member leaves the rolls; the record stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "transferred_out", "left_on": "2017-06-30"}))]
pub struct LeaveRequest {
    pub reason: LeftReason,
    pub left_on: NaiveDate,
    /// At most 1,000 characters (blank means none); appended to the member's note.
    #[schema(format = "text-or-blank", max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "pioneer_post", "duty": "负责司山村民组环境卫生监督", "org_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "start_on": "2017-01-01"}))]
pub struct NewPost {
    pub kind: PostKind,
    /// Required for `other`: the post's name, at most 100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub title: Option<String>,
    /// The duty pledged on a pioneer post (设岗定责), at most 500 characters.
    #[schema(format = "short-text", max_length = 500)]
    pub duty: Option<String>,
    /// The organisation the post is held in (a first secretary's is the village branch).
    pub org_id: Uuid,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPost {
    pub end_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostView {
    pub id: Uuid,
    pub member_id: Uuid,
    #[schema(example = "程军")]
    pub member_name: String,
    pub kind: PostKind,
    pub title: Option<String>,
    pub duty: Option<String>,
    pub org_id: Uuid,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
}

/// `POST /api/v1/members/lookup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id_number": "110101199003074514"}))]
pub struct IdNumberLookup {
    /// 17 digits and a check character; a wrong check character is 422 `checksum`.
    #[schema(format = "id-number")]
    pub id_number: String,
}

/// A list without paging (a member's posts or moves are few).
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

labelled_enum! {
    /// Order of a member list (`?sort=`); `id` breaks ties.
    MemberSort("member_sort", "党员排序") {
        Name => ("name", "按姓名"),
        NameDesc => ("-name", "按姓名倒序"),
        JoinedOn => ("joined_on", "按入党日期"),
        JoinedOnDesc => ("-joined_on", "按入党日期倒序"),
    }
}

labelled_enum! {
    /// `?reveal=pii`: show personal data (ID number, phone, birth date) in full; audited.
    Reveal("reveal", "显示") { Pii => ("pii", "个人信息") }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealParams {
    /// `pii` to see the ID number and phone in full; allowed to the member and to
    /// secretaries and administrators above them; recorded in the audit trail.
    pub reveal: Option<Reveal>,
}

/// Filters of `GET /api/v1/members`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilters {
    /// Members of organisations in this subtree (a branch, or a group for its members).
    pub org_id: Option<Uuid>,
    pub status: Option<MemberStatus>,
    /// Members of this party group.
    pub group_id: Option<Uuid>,
    /// `true` (default view of most screens) or `false` for those who left.
    pub active: Option<bool>,
    pub rural: Option<bool>,
    /// Holders, today, of this post kind.
    pub post: Option<PostKind>,
    /// Name, full pinyin (`chengjun`) or pinyin initials (`cj`).
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
    /// `name` (default), `-name`, `joined_on`, `-joined_on`; `id` breaks ties.
    pub sort: Option<MemberSort>,
    /// `pii` to see ID numbers and phones in full (secretaries and administrators; audited).
    pub reveal: Option<Reveal>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true`: validate only, write nothing.
    pub dry_run: Option<bool>,
}

pub use crate::http::csv_import::ImportReport;
