//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations.
//! Committed at `openapi/openapi.json`; regenerate with `cargo run -- openapi > openapi/openapi.json`.

use utoipa::openapi::OpenApi as Spec;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{Problem, ProblemField};

mod formats;
mod problems;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dangjian API",
        description = "JSON REST API of the \"党员有限，服务无限\" programme of a township Party committee. \
Today it serves: the party organisation tree (党组织), villages and villager groups, accounts with scoped \
roles, party members (党员) with their posts and CSV import and export, public pledges (承诺) with their \
review and lifecycle, the public board (公示) with public supervision (群众监督), poor households (贫困户) \
with their helpers and help records (结对帮扶), yearly star ratings (星级评定) with the public star board, \
village collective finances (村集体经济) measured against the income target and disclosed in public \
(村务公开), and a tamper-evident audit trail.\n\nErrors are RFC 9457 problem details (`application/problem+json`) \
with a stable `code`; enum labels in Chinese come from `GET /api/v1/dictionaries`. Lists are cursor-paginated \
(`limit`, `cursor`, `next_cursor`). Creating POSTs accept `Idempotency-Key`; updates require `If-Match`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    modifiers(&BearerAuth, &DomainEnums),
    components(schemas(Problem, ProblemField)),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "dictionaries", description = "Enum values with Chinese labels (字典)"),
        (name = "auth", description = "Sign in, tokens and your own account"),
        (name = "orgs", description = "The organisation tree (党组织)"),
        (name = "places", description = "Villages, communities and villager groups (村/社区, 村民组)"),
        (name = "users", description = "Accounts and role grants"),
        (name = "members", description = "Party members (党员), their posts and moves; CSV import and export"),
        (name = "pledges", description = "Pledges (承诺): writing, review, keeping, evaluation, statistics"),
        (name = "households", description = "Poor households (贫困户), their people and income; CSV import and export"),
        (name = "pairings", description = "Helpers paired with households (结对帮扶), help records (帮扶记录), coverage"),
        (name = "ratings", description = "Star ratings (星级评定) of members and organisations: proposal, approval, counts"),
        (name = "income", description = "Village collective economy (村集体经济): projects, the ledger of income, expenditure and distribution, the target"),
        (name = "overview", description = "The whole programme of a subtree on one screen (统计概览)"),
        (name = "public", description = "No token: the directory, the public board (公示), supervision feedback (群众监督), star board, village finances and the boards' QR codes"),
        (name = "pages", description = "No token: the public side as web pages under /p/ (HTML for phones; errors are pages too), opened from the QR code on the physical board"),
        (name = "audit", description = "The tamper-evident audit trail (审计日志)"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme behind Swagger UI's "Authorize" button.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds every domain enum's schema to the components, so that enums used only in query
/// parameters (`?reveal=pii`, `?status=`) resolve too.
struct DomainEnums;

impl Modify for DomainEnums {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in crate::dictionaries::schemas() {
            components.schemas.insert(name, schema);
        }
    }
}

/// The base document (info, tags, security schemes) that the routes' paths are added to.
pub fn base() -> Spec {
    ApiDoc::openapi()
}

/// The complete document, as served at `/api-docs/openapi.json`.
pub fn spec() -> Spec {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::app::routes)
        .split_for_parts();
    let mut spec = spec;
    formats::apply(&mut spec);
    problems::add_standard_problems(&mut spec);
    spec
}

/// The document as pretty JSON with a final newline: what `dangjian openapi` prints and
/// what is committed.
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
