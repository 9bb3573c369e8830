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

/// What an operation does to the data, whatever its HTTP method: inspectors may use every
/// operation that only reads (`POST /members/lookup` carries its question in the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Reads,
    Writes,
}

/// The rule of one route: who may call it and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub pattern: &'static str,
    pub effect: Effect,
    pub allow: Allow,
}

const fn reads(method: &'static str, pattern: &'static str, allow: Allow) -> Rule {
    Rule {
        method,
        pattern,
        effect: Effect::Reads,
        allow,
    }
}

const fn writes(method: &'static str, pattern: &'static str, allow: Allow) -> Rule {
    Rule {
        method,
        pattern,
        effect: Effect::Writes,
        allow,
    }
}

/// The rule of every route.
pub const ROUTES: &[Rule] = &[
    reads("GET", "/healthz", Allow::Public),
    reads("GET", "/readyz", Allow::Public),
    reads("GET", "/metrics", Allow::Public),
    reads("GET", "/api/v1/dictionaries", Allow::Public),
    writes("POST", "/api/v1/auth/login", Allow::Public),
    writes("POST", "/api/v1/auth/refresh", Allow::Public),
    writes("POST", "/api/v1/auth/logout", Allow::Public),
    reads("GET", "/api/v1/me", Allow::SignedIn),
    writes("POST", "/api/v1/me/password", Allow::SignedIn),
    writes("POST", "/api/v1/orgs", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/orgs", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/orgs/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/orgs/{id}", Allow::Roles(Access::MANAGE)),
    writes("DELETE", "/api/v1/orgs/{id}", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/orgs/{id}/children", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/orgs/{id}/tree", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/orgs/{id}/move", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/villages", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/villages", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/villages/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/villages/{id}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/villager-groups", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/villager-groups", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/villager-groups/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/villager-groups/{id}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/users", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/users", Allow::Roles(OVERSEE)),
    reads("GET", "/api/v1/users/{id}", Allow::Roles(OVERSEE)),
    writes("PATCH", "/api/v1/users/{id}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/users/{id}/password", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/users/{id}/grants", Allow::Roles(Access::MANAGE)),
    writes(
        "DELETE",
        "/api/v1/users/{id}/grants/{grant_id}",
        Allow::Roles(Access::MANAGE),
    ),
    writes("POST", "/api/v1/members", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/members", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/members/import", Allow::Roles(Access::MANAGE)),
    reads(
        "GET",
        "/api/v1/members/import-template.xlsx",
        Allow::Roles(Access::MANAGE),
    ),
    reads("POST", "/api/v1/members/lookup", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/members/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/members/{id}", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/members/{id}/transfer", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/members/{id}/history", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/members/{id}/leave", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/members/{id}/posts", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/members/{id}/posts", Allow::Roles(Access::READ)),
    writes(
        "POST",
        "/api/v1/members/{id}/posts/{post_id}/end",
        Allow::Roles(Access::MANAGE),
    ),
    reads("GET", "/api/v1/orgs/{id}/posts", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/pledges", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/pledges", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/pledges/stats", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/pledges/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/pledges/{id}", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/pledges/{id}/progress", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/pledges/{id}/timeline", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/pledges/{id}/{transition}", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/pledges/{id}/feedback", Allow::Roles(OVERSEE)),
    writes(
        "POST",
        "/api/v1/pledges/{id}/feedback/{feedback_id}/reply",
        Allow::Roles(Access::MANAGE),
    ),
    writes(
        "POST",
        "/api/v1/pledges/{id}/feedback/{feedback_id}/visibility",
        Allow::Roles(Access::MANAGE),
    ),
    writes("POST", "/api/v1/pledge-categories", Allow::Roles(Access::ADMIN)),
    writes("PATCH", "/api/v1/pledge-categories/{code}", Allow::Roles(Access::ADMIN)),
    reads("GET", "/api/v1/public/orgs/{id}/board", Allow::Public),
    reads("GET", "/api/v1/public/pledge-categories", Allow::Public),
    writes("POST", "/api/v1/public/pledges/{id}/feedback", Allow::Public),
    writes("POST", "/api/v1/ratings", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/ratings", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/ratings/counts", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/ratings/suggestion", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/ratings/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/ratings/{id}", Allow::Roles(Access::MANAGE)),
    writes("DELETE", "/api/v1/ratings/{id}", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/ratings/{id}/timeline", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/ratings/{id}/{step}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/ratings/notices", Allow::Roles(Access::ADMIN)),
    reads("GET", "/api/v1/ratings/{id}/objections", Allow::Roles(OVERSEE)),
    writes(
        "POST",
        "/api/v1/ratings/{id}/objections/{objection_id}/{answer}",
        Allow::Roles(Access::ADMIN),
    ),
    writes("POST", "/api/v1/public/ratings/{id}/objections", Allow::Public),
    reads("GET", "/api/v1/public/orgs/{id}/star-board", Allow::Public),
    writes("POST", "/api/v1/income-projects", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/income-projects", Allow::Roles(crate::income::READERS)),
    reads(
        "GET",
        "/api/v1/income-projects/{id}",
        Allow::Roles(crate::income::READERS),
    ),
    writes("PATCH", "/api/v1/income-projects/{id}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/finance-records", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/finance-records", Allow::Roles(crate::income::READERS)),
    reads(
        "GET",
        "/api/v1/finance-records/{id}",
        Allow::Roles(crate::income::READERS),
    ),
    writes("PATCH", "/api/v1/finance-records/{id}", Allow::Roles(Access::MANAGE)),
    writes(
        "POST",
        "/api/v1/finance-records/{id}/reverse",
        Allow::Roles(Access::MANAGE),
    ),
    reads(
        "GET",
        "/api/v1/villages/{id}/income",
        Allow::Roles(crate::income::READERS),
    ),
    reads("GET", "/api/v1/income/summary", Allow::Roles(crate::income::READERS)),
    reads("GET", "/api/v1/public/villages/{id}/finances", Allow::Public),
    reads("GET", "/api/v1/public/orgs", Allow::Public),
    reads("GET", "/api/v1/public/villages", Allow::Public),
    reads("GET", "/api/v1/public/orgs/{id}/board/qr.svg", Allow::Public),
    reads("GET", "/api/v1/public/orgs/{id}/board/qr.png", Allow::Public),
    reads("GET", "/p/", Allow::Public),
    reads("GET", "/p/orgs/{id}/board", Allow::Public),
    reads("GET", "/p/orgs/{id}/board/print", Allow::Public),
    reads("GET", "/p/orgs/{id}/stars", Allow::Public),
    reads("GET", "/p/villages/{id}/finances", Allow::Public),
    reads("GET", "/p/pledges/{id}/feedback", Allow::Public),
    writes("POST", "/p/pledges/{id}/feedback", Allow::Public),
    reads("GET", "/p/pledges/{id}/feedback/thanks", Allow::Public),
    reads("GET", "/api/v1/stats/overview", Allow::Roles(crate::overview::READERS)),
    writes("POST", "/api/v1/households", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/households", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/households/import", Allow::Roles(Access::MANAGE)),
    reads(
        "GET",
        "/api/v1/households/import-template.xlsx",
        Allow::Roles(Access::MANAGE),
    ),
    reads("GET", "/api/v1/households/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/households/{id}", Allow::Roles(Access::MANAGE)),
    writes("DELETE", "/api/v1/households/{id}", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/households/{id}/people", Allow::Roles(Access::MANAGE)),
    writes(
        "PUT",
        "/api/v1/households/{id}/people/{person_id}",
        Allow::Roles(Access::MANAGE),
    ),
    writes(
        "DELETE",
        "/api/v1/households/{id}/people/{person_id}",
        Allow::Roles(Access::MANAGE),
    ),
    writes(
        "PUT",
        "/api/v1/households/{id}/incomes/{year}",
        Allow::Roles(Access::MANAGE),
    ),
    writes(
        "DELETE",
        "/api/v1/households/{id}/incomes/{year}",
        Allow::Roles(Access::MANAGE),
    ),
    reads("GET", "/api/v1/households/{id}/pairings", Allow::Roles(Access::READ)),
    writes(
        "POST",
        "/api/v1/households/{id}/primary-helper",
        Allow::Roles(Access::MANAGE),
    ),
    writes("POST", "/api/v1/cadres", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/cadres", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/cadres/{id}", Allow::Roles(Access::READ)),
    writes("PATCH", "/api/v1/cadres/{id}", Allow::Roles(Access::MANAGE)),
    reads("GET", "/api/v1/cadres/{id}/pairings", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/pairings", Allow::Roles(Access::MANAGE)),
    reads(
        "GET",
        "/api/v1/pairings/coverage",
        Allow::Roles(crate::households::READERS),
    ),
    reads("GET", "/api/v1/pairings/{id}", Allow::Roles(Access::READ)),
    writes("POST", "/api/v1/pairings/{id}/end", Allow::Roles(Access::MANAGE)),
    writes("POST", "/api/v1/pairings/{id}/help-records", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/help-records", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/members/{id}/pairings", Allow::Roles(Access::READ)),
    reads("GET", "/api/v1/me/households", Allow::SignedIn),
    reads("GET", "/api/v1/audit-events", Allow::Roles(Access::AUDIT)),
    reads("GET", "/api/v1/audit-events/verify", Allow::Roles(Access::AUDIT)),
];

/// [`ROUTES`] indexed for the middleware.
pub struct Policy {
    rules: HashMap<(&'static str, &'static str), Rule>,
}

impl Policy {
    pub fn new() -> Policy {
        Policy {
            rules: ROUTES.iter().map(|r| ((r.method, r.pattern), *r)).collect(),
        }
    }

    pub fn rule(&self, method: &str, pattern: &str) -> Option<Rule> {
        self.rules.get(&(method, pattern)).copied()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new()
    }
}
