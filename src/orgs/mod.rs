//! The organisation tree (党组织): committee 党委 → general branch 党总支 → branch 党支部 →
//! group 党小组. Every permission is scoped to a node and covers its subtree.

pub mod entity;
pub mod queries;
mod routes;
pub mod types;

pub use routes::configure;
pub use types::OrgKind;
