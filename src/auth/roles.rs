//! Roles, grants and the [`Scope`] every data query takes.
//!
//! A grant `(role, org)` covers that organisation's whole subtree. Organisations store a
//! materialised path (`/<root>/<…>/<self>/`), so "inside the caller's scope" is a path-prefix
//! test that goes straight into SQL.
//!
//! Features ask for scoped rows in one of three ways, each costing the same however large
//! the tree: a single record by [`find_placed`](super::find_placed) and [`Scope::covers`]; a
//! list filtered by an organisation by [`Scope::narrowed_to`]; any other list by
//! [`Scope::org_condition`] (nothing at all for a scope holding the whole tree).

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, Query};
use uuid::Uuid;

crate::labelled_enum! {
    /// A role (角色), from least to most powerful (the declaration order is the ranking).
    /// `inspector` ranks above `branch_secretary` for reading but never writes.
    Role("role", "角色") {
        /// 党员: their own records only.
        Member => ("member", "党员"),
        /// 党小组长: records progress and visits for their group.
        GroupLeader => ("group_leader", "党小组长"),
        /// 党支部书记: manages their branch subtree.
        BranchSecretary => ("branch_secretary", "党支部书记"),
        /// 督查: read-only, everything in scope including the audit trail.
        Inspector => ("inspector", "督查"),
        /// 镇党委 (组织委员): everything.
        TownAdmin => ("town_admin", "镇党委管理员"),
    }
}

impl Role {
    /// Roles that may change data (everyone but the inspector).
    pub fn can_write(self) -> bool {
        self != Role::Inspector
    }
}

/// Which roles an operation needs; the caller's scope for it is the union of the subtrees
/// of their grants with one of these roles.
#[derive(Debug, Clone, Copy)]
pub struct Access(pub &'static [Role]);

impl Access {
    /// Any role may read.
    pub const READ: Access = Access(Role::ALL);
    /// Managing the org tree, members and their records.
    pub const MANAGE: Access = Access(&[Role::TownAdmin, Role::BranchSecretary]);
    /// Town-level administration.
    pub const ADMIN: Access = Access(&[Role::TownAdmin]);
    /// The audit trail.
    pub const AUDIT: Access = Access(&[Role::TownAdmin, Role::Inspector]);
}

/// One grant with the path of its organisation, as loaded for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedGrant {
    pub id: Uuid,
    pub role: Role,
    pub org_id: Uuid,
    pub org_path: String,
}

/// The organisation subtrees a caller may act on for one kind of operation. Query
/// functions that touch scoped data take a `&Scope`, so none can run without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Path prefixes, none inside another.
    prefixes: Vec<String>,
}

impl Scope {
    pub fn new(paths: impl IntoIterator<Item = String>) -> Scope {
        let mut paths: Vec<String> = paths.into_iter().collect();
        paths.sort();
        let mut prefixes: Vec<String> = Vec::new();
        for path in paths {
            if !prefixes.iter().any(|p| path.starts_with(p.as_str())) {
                prefixes.push(path);
            }
        }
        Scope { prefixes }
    }

    /// The path prefixes of the subtrees.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// The organisations at the top of the scope's subtrees (a path ends with its own id):
    /// events about a whole scope are filed under them, so the auditors of that subtree see them.
    pub fn top_orgs(&self) -> Vec<Uuid> {
        self.prefixes
            .iter()
            .filter_map(|p| p.trim_end_matches('/').rsplit('/').next()?.parse().ok())
            .collect()
    }

    /// True when the organisation at `path`, and so its whole subtree, is inside the scope.
    pub fn covers(&self, path: &str) -> bool {
        self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// True when the scope holds the root's path (`/<root id>/`): the whole tree, which no
    /// query needs to filter by. Its callers (a town or county administrator) then pay
    /// nothing for their scope, however large the tree grows.
    pub fn is_whole_tree(&self) -> bool {
        self.prefixes
            .iter()
            .any(|p| !p.trim_matches('/').is_empty() && !p.trim_matches('/').contains('/'))
    }

    /// SQL that holds for every row.
    fn everything() -> Condition {
        Condition::all().add(Expr::val(1).eq(1))
    }

    /// SQL: the path column starts with one of the scope's prefixes (false when empty; no
    /// predicate at all for the whole tree).
    pub fn path_condition(&self, path_column: impl IntoColumnRef + Clone) -> Condition {
        let mut any = Condition::any();
        if self.prefixes.is_empty() {
            return Condition::all().add(Expr::val(1).eq(0));
        }
        if self.is_whole_tree() {
            return Self::everything();
        }
        for prefix in &self.prefixes {
            any = any.add(crate::orgs::queries::path_under(path_column.clone(), prefix));
        }
        any
    }

    /// SQL: the org id column names a live organisation inside the scope. Every table with
    /// an `org_id` filters through this. For the whole tree there is no predicate: no row's
    /// `org_id` names a deleted organisation (an organisation is deleted only when nothing is
    /// filed under it), so every row is in scope.
    pub fn org_condition(&self, org_id_column: impl IntoColumnRef) -> Condition {
        if self.is_whole_tree() {
            return Self::everything();
        }
        let orgs = Query::select()
            .column(crate::orgs::entity::Column::Id)
            .from(crate::orgs::entity::Entity)
            .cond_where(
                Condition::all()
                    .add(Expr::col(crate::orgs::entity::Column::DeletedAt).is_null())
                    .add(self.path_condition(crate::orgs::entity::Column::Path)),
            )
            .to_owned();
        Condition::all().add(Expr::col(org_id_column).in_subquery(orgs))
    }

    /// SQL: the group column names a group inside the scope (group leaders' reads). Rows
    /// without a group are never a group leader's, even for a scope holding the whole tree.
    pub fn group_condition(&self, group_id_column: impl IntoColumnRef + Clone) -> Condition {
        if self.is_whole_tree() {
            return Condition::all().add(Expr::col(group_id_column).is_not_null());
        }
        self.org_condition(group_id_column)
    }

    /// SQL for a list narrowed to the subtree at `root_path`, an organisation the caller
    /// found inside one of their scopes: the subtree's condition alone when this scope covers
    /// it (the scope, however large, then adds nothing), else both, so the list's cost
    /// follows the subtree asked for. (Members and pledges do the same in their own
    /// `list_condition`, which also weighs group leaders' scopes.)
    pub fn narrowed_to(&self, root_path: &str, org_id_column: impl IntoColumnRef + Clone) -> Condition {
        let subtree = Scope::new([root_path.to_string()]).org_condition(org_id_column.clone());
        if self.covers(root_path) {
            subtree
        } else {
            Condition::all().add(self.org_condition(org_id_column)).add(subtree)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scope_holding_the_root_is_the_whole_tree() {
        assert!(Scope::new(["/r/".to_string()]).is_whole_tree());
        assert!(Scope::new(["/r/a/".to_string(), "/r/".to_string()]).is_whole_tree());
        assert!(!Scope::new(["/r/a/".to_string()]).is_whole_tree());
        assert!(!Scope::new(Vec::<String>::new()).is_whole_tree());
    }

    #[test]
    fn nested_paths_collapse_and_cover_their_subtrees() {
        let scope = Scope::new(["/a/b/".to_string(), "/a/".to_string(), "/c/".to_string()]);
        assert!(scope.covers("/a/x/"));
        assert!(scope.covers("/c/"));
        assert!(!scope.covers("/d/"));
        assert_eq!(scope.prefixes, vec!["/a/".to_string(), "/c/".to_string()]);
        assert!(Scope::new(Vec::new()).is_empty());
    }

    #[test]
    fn roles_order_from_member_to_town_admin() {
        assert!(Role::TownAdmin > Role::Inspector);
        assert!(Role::Inspector > Role::BranchSecretary);
        assert!(Role::GroupLeader > Role::Member);
        assert_eq!(Role::parse("group_leader"), Some(Role::GroupLeader));
    }
}
