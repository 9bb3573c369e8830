//! Who may call what: one table for every route, enforced by the `authenticate` middleware
//! before any handler runs. A test walks every documented route and fails when one is
//! missing here; at run time a documented route missing here is refused (fail closed).
//!
//! This decides only whether a role may use an operation at all (else 403). Which rows it
//! sees is decided by the [`Scope`](super::Scope) each query takes (else 404).

use std::collections::HashMap;

use super::roles::{Access, Role};

/// What a route requires.
#[derive(Debug, Clone, Copy)]
pub enum Allow {
    /// No token needed.
    Public,
    /// Any signed-in user, whatever their grants.
    SignedIn,
    /// A signed-in user holding one of these roles somewhere.
    Roles(Access),
}

/// Town admins, inspectors and secretaries: those who oversee accounts.
pub const OVERSEE: Access = Access(&[Role::TownAdmin, Role::Inspector, Role::BranchSecretary]);

/// `(method, route pattern, rule)` for every route.
pub const ROUTES: &[(&str, &str, Allow)] = &[
    ("GET", "/healthz", Allow::Public),
    ("GET", "/readyz", Allow::Public),
    ("GET", "/metrics", Allow::Public),
    ("GET", "/api/v1/dictionaries", Allow::Public),
    ("POST", "/api/v1/auth/login", Allow::Public),
    ("POST", "/api/v1/auth/refresh", Allow::Public),
    ("POST", "/api/v1/auth/logout", Allow::Public),
    ("GET", "/api/v1/me", Allow::SignedIn),
    ("POST", "/api/v1/me/password", Allow::SignedIn),
    ("POST", "/api/v1/orgs", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/orgs", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/orgs/{id}", Allow::Roles(Access::READ)),
    ("PATCH", "/api/v1/orgs/{id}", Allow::Roles(Access::MANAGE)),
    ("DELETE", "/api/v1/orgs/{id}", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/orgs/{id}/children", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/orgs/{id}/tree", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/orgs/{id}/move", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/villages", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/villages", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/villages/{id}", Allow::Roles(Access::READ)),
    ("PATCH", "/api/v1/villages/{id}", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/villager-groups", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/villager-groups", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/villager-groups/{id}", Allow::Roles(Access::READ)),
    ("PATCH", "/api/v1/villager-groups/{id}", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/users", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/users", Allow::Roles(OVERSEE)),
    ("GET", "/api/v1/users/{id}", Allow::Roles(OVERSEE)),
    ("PATCH", "/api/v1/users/{id}", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/users/{id}/password", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/users/{id}/grants", Allow::Roles(Access::MANAGE)),
    (
        "DELETE",
        "/api/v1/users/{id}/grants/{grant_id}",
        Allow::Roles(Access::MANAGE),
    ),
    ("POST", "/api/v1/members", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/members", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/members/import", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/members/lookup", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/members/{id}", Allow::Roles(Access::READ)),
    ("PATCH", "/api/v1/members/{id}", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/members/{id}/transfer", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/members/{id}/history", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/members/{id}/leave", Allow::Roles(Access::MANAGE)),
    ("POST", "/api/v1/members/{id}/posts", Allow::Roles(Access::MANAGE)),
    ("GET", "/api/v1/members/{id}/posts", Allow::Roles(Access::READ)),
    (
        "POST",
        "/api/v1/members/{id}/posts/{post_id}/end",
        Allow::Roles(Access::MANAGE),
    ),
    ("GET", "/api/v1/orgs/{id}/posts", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/pledges", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/pledges", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/pledges/stats", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/pledges/{id}", Allow::Roles(Access::READ)),
    ("PATCH", "/api/v1/pledges/{id}", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/pledges/{id}/progress", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/pledges/{id}/timeline", Allow::Roles(Access::READ)),
    ("POST", "/api/v1/pledges/{id}/{transition}", Allow::Roles(Access::READ)),
    ("GET", "/api/v1/pledges/{id}/feedback", Allow::Roles(OVERSEE)),
    (
        "POST",
        "/api/v1/pledges/{id}/feedback/{feedback_id}/reply",
        Allow::Roles(Access::MANAGE),
    ),
    (
        "POST",
        "/api/v1/pledges/{id}/feedback/{feedback_id}/visibility",
        Allow::Roles(Access::MANAGE),
    ),
    ("POST", "/api/v1/pledge-categories", Allow::Roles(Access::ADMIN)),
    ("PATCH", "/api/v1/pledge-categories/{code}", Allow::Roles(Access::ADMIN)),
    ("GET", "/api/v1/public/orgs/{id}/board", Allow::Public),
    ("GET", "/api/v1/public/pledge-categories", Allow::Public),
    ("POST", "/api/v1/public/pledges/{id}/feedback", Allow::Public),
    ("GET", "/api/v1/audit-events", Allow::Roles(Access::AUDIT)),
    ("GET", "/api/v1/audit-events/verify", Allow::Roles(Access::AUDIT)),
];

/// [`ROUTES`] indexed for the middleware.
pub struct Policy {
    rules: HashMap<(&'static str, &'static str), Allow>,
}

impl Policy {
    pub fn new() -> Policy {
        Policy {
            rules: ROUTES.iter().map(|(m, p, a)| ((*m, *p), *a)).collect(),
        }
    }

    pub fn rule(&self, method: &str, pattern: &str) -> Option<Allow> {
        self.rules.get(&(method, pattern)).copied()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new()
    }
}
