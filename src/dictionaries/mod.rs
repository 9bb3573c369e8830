//! `GET /api/v1/dictionaries`: every enum the API uses, with its Chinese label, so
//! front-ends never hard-code labels. A feature registers its enums in [`all`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ErrorCode;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_dictionaries);
}

/// One enum: its name as used in field docs, a Chinese label, and its values.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dictionary {
    #[schema(example = "error_code")]
    pub name: &'static str,
    #[schema(example = "错误代码")]
    pub label: &'static str,
    pub entries: Vec<DictionaryEntry>,
}

/// An enum value (English snake_case, as in JSON) and its Chinese label.
#[derive(Debug, Serialize, ToSchema)]
pub struct DictionaryEntry {
    #[schema(example = "not_found")]
    pub value: &'static str,
    #[schema(example = "资源不存在")]
    pub label: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dictionaries {
    pub dictionaries: Vec<Dictionary>,
}

/// Every registered dictionary. Features add a line here for each enum they expose.
pub fn all() -> Vec<Dictionary> {
    vec![Dictionary {
        name: "error_code",
        label: "错误代码",
        entries: ErrorCode::ALL
            .iter()
            .map(|c| DictionaryEntry {
                value: c.as_str(),
                label: c.label(),
            })
            .collect(),
    }]
}

/// The dictionaries serialised once at start-up, with their ETag.
pub struct Rendered {
    pub body: Vec<u8>,
    pub etag: String,
}

pub fn render() -> Rendered {
    let body = serde_json::to_vec(&Dictionaries { dictionaries: all() }).unwrap_or_default();
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..16]);
    Rendered { body, etag }
}

/// All enums with their Chinese labels. Public and cacheable; supports `If-None-Match`.
#[utoipa::path(tag = "dictionaries", responses(
    (status = 200, description = "Every enum of the API with Chinese labels", body = Dictionaries,
     headers(("ETag" = String, description = "Changes when any dictionary changes"))),
    (status = 304, description = "Unchanged since the ETag in If-None-Match"),
))]
#[get("/api/v1/dictionaries")]
async fn list_dictionaries(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let rendered = &state.dictionaries;
    let cache = (header::CACHE_CONTROL, "public, max-age=300");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == rendered.etag));
    if matches {
        return HttpResponse::NotModified()
            .insert_header(cache)
            .insert_header((header::ETAG, rendered.etag.clone()))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(cache)
        .insert_header((header::ETAG, rendered.etag.clone()))
        .content_type("application/json")
        .body(rendered.body.clone())
}

/// Declares an API enum: English snake_case values in JSON, a Chinese label for the
/// dictionaries endpoint, and parsing from either (CSV files may hold either).
///
/// ```text
/// labelled_enum! {
///     /// 性别.
///     Gender { Male => ("male", "男"), Female => ("female", "女") }
/// }
/// ```
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => ($value:literal, $label:literal)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $value)] $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),* }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            /// From the English value or the Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.as_str() == s || v.label() == s)
            }

            /// `(value, label)` pairs, for the dictionaries endpoint.
            pub fn entries() -> impl Iterator<Item = (&'static str, &'static str)> {
                $name::ALL.iter().map(|v| (v.as_str(), v.label()))
            }
        }
    };
}
