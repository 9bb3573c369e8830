//! The committed OpenAPI document matches the code, and every operation is documented well
//! enough for an integrator reading Swagger UI.

use serde_json::Value;

#[test]
fn committed_spec_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json exists");
    let generated = dangjian::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_has_a_summary_a_tag_and_documented_responses() {
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    assert_eq!(spec["info"]["title"], "dangjian API");
    assert!(spec["info"]["license"]["name"].is_string());
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer",
        "Authorize button"
    );
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: summary");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name}: tag");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{name}: responses");
            // Web pages answer errors with pages; everything else with problem+json.
            let error_media = if path.starts_with("/p/") {
                "text/html"
            } else {
                "application/problem+json"
            };
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = &response["content"][error_media];
                    assert!(content.is_object(), "{name} {status}: {error_media} body");
                }
            }
        }
    }
}

#[test]
fn every_protected_operation_declares_the_bearer_scheme() {
    use dangjian::auth::policy::{Allow, ROUTES};
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    for rule in ROUTES {
        let (method, path) = (rule.method, rule.pattern);
        let op = &spec["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is documented");
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        match rule.allow {
            Allow::Public => assert!(!secured, "{method} {path} is public but asks for a token"),
            _ => assert!(
                secured,
                "{method} {path} needs a token: add security((\"bearer\" = [])) so Authorize works"
            ),
        }
    }
}

/// Every `$ref` in `value`, as schema names.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.trim_start_matches("#/components/schemas/").to_owned()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_spec_has_no_dangling_reference() {
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(found.len() > 50, "the walk finds the references");
    let dangling: Vec<&String> = found.iter().filter(|r| !schemas.contains_key(r.as_str())).collect();
    assert!(dangling.is_empty(), "references to undefined schemas: {dangling:?}");
}

#[test]
fn enums_in_the_spec_say_what_serde_writes_and_each_has_a_dictionary() {
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let wire = dangjian::dictionaries::wire_values();
    let dictionaries = dangjian::dictionaries::all();
    for (name, values) in &wire {
        let in_spec: Vec<String> = schemas[name.as_str()]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an enum in the spec"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(&in_spec, values, "{name}: the spec's values differ from serde's");
        let listed = dictionaries.iter().any(|d| {
            d.entries.iter().map(|e| e.value.to_owned()).collect::<Vec<_>>() == *values
                && !d.label.is_empty()
                && d.entries.iter().all(|e| !e.label.is_empty())
        });
        assert!(listed, "{name} has no dictionary with its values and Chinese labels");
    }
    // Every enum schema of the spec is a registered domain enum.
    for (name, schema) in schemas {
        if schema.get("enum").is_some() {
            assert!(
                wire.iter().any(|(n, _)| n == name),
                "{name} is an enum of the spec but not declared with labelled_enum! and registered"
            );
        }
    }
}

/// The standard problems are documented by what an operation has, not by habit: a token
/// means 401, path parameters 400 and 404, `If-Match` 412 and 428, a JSON body 400, 415 and
/// 422, and every operation touching the database 503.
#[test]
fn every_operation_documents_the_standard_problems_its_traits_imply() {
    let spec: Value = serde_json::from_str(&dangjian::openapi::spec_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            let has = |status: &str| op["responses"][status].is_object();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let param = |place: &str, n: Option<&str>| {
                params
                    .iter()
                    .any(|p| p["in"] == place && n.is_none_or(|n| p["name"].as_str() == Some(n)))
            };
            let must = |statuses: &[&str], why: &str| {
                for s in statuses {
                    assert!(has(s), "{name}: {why} but {s} is not documented");
                }
            };
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                must(&["401"], "needs a token");
            }
            if param("path", None) {
                must(&["400", "404"], "has path parameters");
            }
            if param("query", None) {
                must(&["400"], "has query parameters");
            }
            if param("header", Some("If-Match")) {
                must(&["400", "412", "428"], "takes If-Match");
            }
            if param("header", Some("Idempotency-Key")) {
                must(&["400", "409", "422"], "takes Idempotency-Key");
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                must(&["400", "413", "415", "422"], "takes a JSON body");
            }
            if path != "/healthz" && path != "/metrics" {
                must(&["503"], "reads the database");
            }
        }
    }
}

/// Every named string format of a request field became its pattern, and no pattern holds a
/// raw control character (they are written as `\u0000` escapes for the regex engine).
#[test]
fn named_formats_are_patterns_written_with_escapes() {
    let spec = dangjian::openapi::spec_json();
    assert!(
        !spec.chars().any(|c| c.is_control() && c != '\n'),
        "the spec holds a raw control character"
    );
    for (name, pattern, _) in dangjian::http::validate::FORMATS {
        assert!(
            !spec.contains(&format!("\"format\": \"{name}\"")),
            "format {name} left in the spec"
        );
        let escaped = serde_json::to_string(pattern).unwrap();
        assert!(spec.contains(&escaped), "pattern of {name} not in the spec");
    }
}
