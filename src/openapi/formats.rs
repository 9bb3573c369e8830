//! The named string formats of request fields (`#[schema(format = "short-text")]`), turned
//! into the patterns of [`crate::http::validate::FORMATS`] once the document is built. A
//! field keeps its own documentation and length next to it; the rule itself is written once.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaFormat};
use utoipa::openapi::{OpenApi as Spec, RefOr};

use crate::http::validate::FORMATS;

/// Replaces every named format in `spec` (component schemas, parameters, request bodies)
/// with its pattern and least length.
pub fn apply(spec: &mut Spec) {
    if let Some(components) = spec.components.as_mut() {
        for schema in components.schemas.values_mut() {
            walk(schema);
        }
    }
    for item in spec.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            operation(op);
        }
    }
}

fn operation(op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        if let RefOr::T(param) = param
            && let Some(schema) = param.schema.as_mut()
        {
            walk(schema);
        }
    }
    if let Some(RefOr::T(body)) = op.request_body.as_mut() {
        for content in body.content.values_mut() {
            if let RefOr::T(content) = content
                && let Some(schema) = content.schema.as_mut()
            {
                walk(schema);
            }
        }
    }
}

fn walk(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            if let Some(SchemaFormat::Custom(name)) = &object.format
                && let Some((_, pattern, min_length)) = FORMATS.iter().find(|(n, ..)| n == name)
            {
                object.format = None;
                object.pattern = Some((*pattern).to_owned());
                if object.min_length.is_none() {
                    object.min_length = *min_length;
                }
            }
            object.properties.values_mut().for_each(walk);
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                walk(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(walk),
        Schema::AllOf(all) => all.items.iter_mut().for_each(walk),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(walk),
        _ => {}
    }
}
