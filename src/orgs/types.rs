//! Request and response types of the organisation endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::entity;

crate::labelled_enum! {
    /// Kind of party organisation (党组织类型).
    OrgKind("org_kind", "党组织类型") {
        /// 党委: the root of the tree.
        Committee => ("committee", "党委"),
        /// 党总支.
        GeneralBranch => ("general_branch", "党总支"),
        /// 党支部.
        Branch => ("branch", "党支部"),
        /// 党小组 (a grid group 网格党小组 when tied to a villager group).
        Group => ("group", "党小组"),
    }
}

impl OrgKind {
    /// The structural rule: which kinds may sit directly under `parent`.
    pub fn may_sit_under(self, parent: OrgKind) -> bool {
        matches!(
            (parent, self),
            (OrgKind::Committee, OrgKind::GeneralBranch)
                | (OrgKind::Committee, OrgKind::Branch)
                | (OrgKind::GeneralBranch, OrgKind::Branch)
                | (OrgKind::Branch, OrgKind::Group)
        )
    }
}

/// An organisation as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    /// `null` for the root committee.
    pub parent_id: Option<Uuid>,
    pub kind: OrgKind,
    #[schema(example = "大洼社区党支部")]
    pub name: String,
    /// For a grid group: the villager group (村民组) it serves.
    pub villager_group_id: Option<Uuid>,
    /// Send as `If-Match: "<version>"` to change it.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&entity::Model> for OrgView {
    fn from(m: &entity::Model) -> Self {
        OrgView {
            id: m.id,
            parent_id: m.parent_id,
            kind: m.kind,
            name: m.name.clone(),
            villager_group_id: m.villager_group_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One node of `GET /api/v1/orgs/{id}/tree`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgTreeNode {
    pub id: Uuid,
    pub kind: OrgKind,
    pub name: String,
    pub villager_group_id: Option<Uuid>,
    #[schema(no_recursion)]
    pub children: Vec<OrgTreeNode>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"parent_id": "0192f3a4-7c1e-7b2a-9f00-3c5d2e1f0a11", "kind": "group", "name": "司山党小组"}))]
pub struct NewOrg {
    /// The parent organisation; the root committee exists from installation.
    pub parent_id: Uuid,
    pub kind: OrgKind,
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
    /// Only for groups: the villager group a grid group serves.
    pub villager_group_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "司山网格党小组"}))]
pub struct OrgPatch {
    /// 1–100 characters.
    #[schema(format = "short-text", max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveOrg {
    /// The new parent; must accept this kind and not lie inside the moved subtree.
    pub parent_id: Uuid,
}

/// Filters of `GET /api/v1/orgs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgFilters {
    /// Only organisations in this one's subtree (itself included).
    pub org_id: Option<Uuid>,
    /// Only this kind.
    pub kind: Option<OrgKind>,
    /// Name contains this text.
    #[param(format = "search-text", max_length = 200)]
    pub q: Option<String>,
}
