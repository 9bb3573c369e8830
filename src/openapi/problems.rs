//! The problem responses every operation shares, documented once.
//!
//! Handlers write out only the answers that say something specific to them ("Username
//! taken", "Only drafts can be edited"). The standard ones follow from what an operation
//! has: a bearer token, a role rule, path or query parameters, a JSON body or a file, an
//! `If-Match` or `Idempotency-Key` header. [`add_standard_problems`] reads those traits off
//! the finished document and adds each missing answer, so a new route is documented
//! truthfully the moment it is registered.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi as Spec, Ref, RefOr, Type};

use crate::auth::Role;
use crate::auth::policy::{Allow, Effect, ROUTES};

/// What an operation has that decides which standard problems it can answer.
#[derive(Debug, Default)]
struct Traits {
    bearer: bool,
    role_rule: bool,
    path_params: bool,
    query_params: bool,
    cursor: bool,
    org_filter: bool,
    json_body: bool,
    /// A file upload: CSV, an `.xlsx` workbook, or a form with either.
    file_body: bool,
    if_match: bool,
    idempotency_key: bool,
}

impl Traits {
    fn of(method: &str, path: &str, op: &Operation) -> Traits {
        let mut t = Traits {
            bearer: op.security.as_ref().is_some_and(|s| !s.is_empty()),
            ..Traits::default()
        };
        // The middleware answers 403 when a role rule leaves some signed-in callers out:
        // roles listed, or an operation that writes (inspectors never write).
        if let Some(rule) = ROUTES.iter().find(|r| r.method == method && r.pattern == path) {
            t.role_rule = match rule.allow {
                Allow::Roles(access) => access.0.len() < Role::ALL.len() || rule.effect == Effect::Writes,
                Allow::Public | Allow::SignedIn => false,
            };
        }
        for param in op.parameters.iter().flatten() {
            let RefOr::T(param) = param else { continue };
            match param.parameter_in {
                ParameterIn::Path => t.path_params = true,
                ParameterIn::Query => {
                    t.query_params = true;
                    t.cursor |= param.name == "cursor";
                    t.org_filter |= param.name == "org_id";
                }
                ParameterIn::Header if param.name.eq_ignore_ascii_case("If-Match") => t.if_match = true,
                ParameterIn::Header if param.name.eq_ignore_ascii_case("Idempotency-Key") => t.idempotency_key = true,
                _ => {}
            }
        }
        if let Some(RefOr::T(body)) = &op.request_body {
            t.json_body = body.content.keys().any(|c| c.contains("json"));
            t.file_body = body.content.keys().any(|c| {
                c.starts_with("text/csv") || c == crate::http::xlsx::MEDIA_TYPE || c.starts_with("multipart/")
            });
        }
        t
    }

    /// The standard answers, by status: each one's description lists every reason.
    fn problems(&self, path: &str) -> BTreeMap<u16, Vec<&'static str>> {
        let mut out: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
        let mut add = |status: u16, why: &'static str| out.entry(status).or_default().push(why);
        if self.path_params {
            add(400, "`invalid_path`: a path parameter is malformed");
            add(
                404,
                if self.bearer {
                    "`not_found`: nothing at this address, or it is outside your scope"
                } else {
                    "`not_found`: nothing at this address"
                },
            );
        }
        if self.query_params {
            add(
                400,
                "`invalid_query`: an unknown query parameter, or a value out of its range",
            );
        }
        if self.org_filter {
            add(
                404,
                "`not_found`: the `org_id` filter names an organisation outside your scope",
            );
        }
        if self.cursor {
            add(400, "`invalid_cursor`: the cursor is not one this list gave out");
        }
        if self.json_body {
            add(400, "`malformed_json`: the body is not JSON of the documented shape");
            add(413, "`payload_too_large`: the body is over its limit");
            add(415, "`unsupported_media_type`: the body is not `application/json`");
            add(
                422,
                "`validation_failed`: a field breaks a rule; `errors` lists each one",
            );
        }
        if self.file_body {
            add(413, "`payload_too_large`: the file is over its limit");
            add(
                415,
                "`unsupported_media_type`: not `text/csv`, an `.xlsx` workbook or `multipart/form-data`",
            );
        }
        if self.if_match {
            add(400, "`invalid_header`: `If-Match` is not an entity tag");
            add(412, "`precondition_failed`: changed since your read; fetch it again");
            add(
                428,
                "`precondition_required`: send `If-Match` with the ETag of your last read",
            );
        }
        if self.idempotency_key {
            add(
                400,
                "`invalid_header`: `Idempotency-Key` is empty, too long or not printable ASCII",
            );
            add(
                409,
                "`idempotency_key_in_use`: a request with this key is still running",
            );
            add(
                422,
                "`idempotency_key_reused`: this key was used with a different request",
            );
        }
        if self.bearer {
            add(401, "`unauthorized`: no access token, or it is expired or revoked");
        }
        if self.role_rule {
            add(403, "`forbidden`: your role may not use this operation");
        }
        if path != "/healthz" && path != "/metrics" {
            add(
                503,
                "`database_unavailable`: the database cannot be reached; retry after `Retry-After`",
            );
        }
        out
    }
}

/// States the syntax of the shared request headers where an operation takes them, so that
/// clients and fuzzers send well-formed ones.
fn describe_shared_headers(op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        if param.parameter_in != ParameterIn::Header {
            continue;
        }
        let pattern = if param.name.eq_ignore_ascii_case("If-Match") {
            crate::http::conditional::IF_MATCH_PATTERN
        } else if param.name.eq_ignore_ascii_case("Idempotency-Key") {
            crate::http::idempotency::IDEMPOTENCY_KEY_PATTERN
        } else {
            continue;
        };
        param.schema = Some(RefOr::T(utoipa::openapi::Schema::Object(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .build(),
        )));
    }
}

/// Adds the standard problem responses to every operation of `spec` that lacks them, and
/// the syntax of the shared headers. Hand-written responses with the same status are kept.
pub fn add_standard_problems(spec: &mut Spec) {
    for (path, item) in spec.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            describe_shared_headers(op);
            let traits = Traits::of(method, path, op);
            for (status, reasons) in traits.problems(path) {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::T(problem_response(status, &reasons, crate::pages::is_page(path))));
            }
        }
    }
}

/// The answer for `status`; on a web page (`page`), the same problem shown as an HTML page.
fn problem_response(status: u16, reasons: &[&str], page: bool) -> utoipa::openapi::Response {
    let description = if reasons.len() == 1 {
        reasons[0].to_string()
    } else {
        reasons.iter().map(|r| format!("- {r}")).collect::<Vec<_>>().join("\n")
    };
    let mut response = ResponseBuilder::new().description(description);
    response = if page {
        response.content(
            "text/html",
            Content::new(Some(utoipa::openapi::schema::Object::with_type(Type::String))),
        )
    } else {
        response.content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
    };
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(utoipa::openapi::schema::Object::with_type(Type::String)))
            .description(Some(description))
            .build()
    };
    match status {
        401 => response = response.header("WWW-Authenticate", header("`Bearer`")),
        429 | 503 => response = response.header("Retry-After", header("Seconds to wait before retrying")),
        _ => {}
    }
    response.build()
}
