//! `GET /api/v1/dictionaries`: every enum the API uses, with its Chinese label, so
//! front-ends never hard-code labels. A feature registers its enums in [`all`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ErrorCode;
use crate::state::{AppState, Rendered};

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

/// What [`labelled_enum!`] gives a domain enum for the dictionaries endpoint.
pub trait Labelled {
    /// The dictionary's name, snake_case (`member_status`).
    const DICTIONARY: &'static str;
    /// Its Chinese name (`党员状态`).
    const DICTIONARY_LABEL: &'static str;
    /// `(value, label)` pairs in declaration order.
    fn entries() -> Vec<(&'static str, &'static str)>;
}

fn dictionary<T: Labelled>() -> Dictionary {
    Dictionary {
        name: T::DICTIONARY,
        label: T::DICTIONARY_LABEL,
        entries: T::entries()
            .into_iter()
            .map(|(value, label)| DictionaryEntry { value, label })
            .collect(),
    }
}

/// The OpenAPI schema of a labelled enum: a string with exactly the values serde writes.
pub fn enum_schema(doc: &[&str], values: &[&str]) -> RefOr<Schema> {
    let description = doc.iter().map(|line| line.trim()).collect::<Vec<_>>().join("\n");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// The one list of domain enums. A new enum declared with [`labelled_enum!`] is added here;
/// a test fails when an enum of the spec is missing from the dictionaries.
macro_rules! registry {
    ($($t:ty),* $(,)?) => {
        /// Every dictionary: the error codes, then each domain enum.
        pub fn all() -> Vec<Dictionary> {
            let errors = Dictionary {
                name: "error_code",
                label: "错误代码",
                entries: ErrorCode::ALL
                    .iter()
                    .map(|c| DictionaryEntry { value: c.as_str(), label: c.label() })
                    .collect(),
            };
            vec![errors, $(dictionary::<$t>()),*]
        }

        /// Per domain enum: its schema name and the values serde writes for it (what the spec
        /// and the dictionaries must both say).
        pub fn wire_values() -> Vec<(String, Vec<String>)> {
            vec![$((
                <$t as ToSchema>::name().into_owned(),
                <$t>::ALL.iter().map(|v| serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()).collect(),
            )),*]
        }

        /// The schemas of every domain enum, for the spec's components: enums that appear only
        /// in query parameters are referenced there too.
        pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
            vec![$((<$t as ToSchema>::name().into_owned(), <$t as PartialSchema>::schema())),*]
        }
    };
}

registry!(
    crate::auth::Role,
    crate::orgs::OrgKind,
    crate::places::VillageKind,
    crate::members::types::Gender,
    crate::members::types::Education,
    crate::members::types::MemberStatus,
    crate::members::types::LeftReason,
    crate::members::types::PostKind,
    crate::members::types::Reveal,
    crate::members::types::MemberSort,
    crate::pledges::types::PledgeKind,
    crate::pledges::lifecycle::PledgeState,
    crate::pledges::lifecycle::Transition,
    crate::pledges::types::EvaluationResult,
    crate::households::types::HouseholdAttribute,
    crate::households::types::HouseholdStatus,
    crate::households::types::PovertyCause,
    crate::households::types::Relation,
    crate::households::types::LabourAbility,
    crate::pairings::types::HelpKind,
    crate::pairings::types::HelperKind,
    crate::ratings::types::RatingSubject,
    crate::ratings::types::RatingLevel,
    crate::ratings::types::RatingState,
    crate::ratings::types::RatingStep,
    crate::ratings::types::ObjectionStatus,
    crate::ratings::types::ObjectionAnswer,
    crate::income::types::ProjectKind,
    crate::income::types::ProjectStatus,
    crate::income::types::FinanceFlow,
    crate::income::types::FinanceCategory,
    crate::income::types::IncomeBasis,
    crate::income::types::IncomeBand,
    crate::overview::types::AgeBand,
    crate::overview::types::PartyYearsBand,
    crate::http::export::ExportFormat,
);

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

/// Declares a domain enum once, and from that one declaration it gets everything it needs:
/// English snake_case values in JSON (serde), the same values in the OpenAPI schema, a column
/// type storing the same string (sea-orm; an unknown stored value is an error, never a
/// default), Chinese labels, parsing from either (CSV files may hold either), and its
/// dictionary name for `GET /api/v1/dictionaries` (register it in [`registry!`] below).
///
/// ```text
/// labelled_enum! {
///     /// Gender (性别).
///     Gender("gender", "性别") { Male => ("male", "男"), Female => ("female", "女") }
/// }
/// ```
#[macro_export]
macro_rules! labelled_enum {
    ($(#[doc = $doc:literal])* $name:ident ($dict:literal, $dict_label:literal) {
        $($(#[$vmeta:meta])* $variant:ident => ($value:literal, $label:literal)),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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
        }

        impl $crate::dictionaries::Labelled for $name {
            const DICTIONARY: &'static str = $dict;
            const DICTIONARY_LABEL: &'static str = $dict_label;
            fn entries() -> Vec<(&'static str, &'static str)> {
                $name::ALL.iter().map(|v| (v.as_str(), v.label())).collect()
            }
        }

        // The schema is written here rather than derived: utoipa's derive does not see serde
        // renames that come through a macro, and would publish the Rust variant names.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::dictionaries::enum_schema(&[$($doc),*], &[$($value),*])
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::convert::From<$name> for sea_orm::Value {
            fn from(v: $name) -> Self {
                v.as_str().into()
            }
        }

        impl sea_orm::TryGetable for $name {
            fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, idx: I) -> Result<Self, sea_orm::TryGetError> {
                let stored = String::try_get_by(res, idx)?;
                $name::ALL.iter().copied().find(|v| v.as_str() == stored).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                        "unknown {} value {:?} in the database", $dict, stored
                    )))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $name {
            fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let stored = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
                $name::ALL.iter().copied().find(|v| v.as_str() == stored).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::N(32))
            }
        }

        impl sea_orm::sea_query::Nullable for $name {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> sea_orm::ActiveValue<$name> {
                sea_orm::ActiveValue::Set(self)
            }
        }

        /// Part of a composite primary key (as text is): never an auto-incremented id.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }
    };
}
