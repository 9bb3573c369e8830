//! HTTP plumbing shared by every feature: extractors, middleware, pagination,
//! idempotency, conditional requests, metrics and the route table.

pub mod computed;
pub mod conditional;
pub mod csv;
pub mod csv_import;
pub mod export;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod routes;
pub mod upload;
pub mod validate;
pub mod workbook;
pub mod xlsx;

pub use conditional::{IfMatch, Versioned};
pub use extract::{Json, Query};
pub use idempotency::{Claim, IdempotencyKey, StoredResponse};
pub use pagination::{ListQuery, Page, PageParams};
