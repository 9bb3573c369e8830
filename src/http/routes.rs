//! What each route answers, read once from the generated OpenAPI spec, so the 405 `Allow`
//! header, the unknown-query-parameter check and the documentation can never disagree.

use std::collections::HashMap;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

#[derive(Debug, Default)]
pub struct RouteTable {
    /// Route pattern → methods, sorted.
    methods: HashMap<String, Vec<String>>,
    /// (method, route pattern) → documented query parameter names.
    query_params: HashMap<(String, String), Vec<String>>,
}

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> RouteTable {
        let mut table = RouteTable::default();
        for (path, item) in spec.paths.paths.iter() {
            let operations: [(&str, &Option<Operation>); 5] = [
                ("DELETE", &item.delete),
                ("GET", &item.get),
                ("PATCH", &item.patch),
                ("POST", &item.post),
                ("PUT", &item.put),
            ];
            let mut methods = Vec::new();
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                methods.push(method.to_string());
                let names = operation
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                        _ => None,
                    })
                    .collect();
                table.query_params.insert((method.to_string(), path.clone()), names);
            }
            table.methods.insert(path.clone(), methods);
        }
        table
    }

    /// Methods for a matched route pattern; routes outside the spec (Swagger UI's files)
    /// are read-only.
    pub fn allowed_methods(&self, pattern: &str) -> Vec<String> {
        self.methods
            .get(pattern)
            .cloned()
            .unwrap_or_else(|| vec!["GET".to_string()])
    }

    /// The documented query parameters of an operation, `None` for undocumented routes.
    pub fn query_params(&self, method: &str, pattern: &str) -> Option<&[String]> {
        self.query_params
            .get(&(method.to_string(), pattern.to_string()))
            .map(Vec::as_slice)
    }

    /// Every documented `(method, path)` pair, for route-by-route tests.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<_> = self.query_params.keys().cloned().collect();
        all.sort();
        all
    }
}
