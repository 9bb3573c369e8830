//! Cursor (keyset) pagination shared by every list endpoint.
//!
//! A list handler takes [`ListQuery<Filters>`] (filters and page parameters from one query
//! string, unknown names refused) and documents `params(Filters, PageParams)`; it fetches
//! `limit + 1` rows ordered by its sort keys (ending with `id`), restricted by
//! [`keyset_after`] when a cursor was given, and builds a [`Page`] with [`Page::from_rows`].
//! A page deep in a large table costs the same as the first: no OFFSET.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Condition, ExprTrait, SimpleExpr};
use sea_orm::{Order, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorCode};
use crate::http::extract::{check_query, deserialize_query, param_names};
use crate::text;

/// The query of a list endpoint: the feature's `filters` plus `?limit=&cursor=&include_total=`.
pub struct ListQuery<F> {
    pub filters: F,
    pub page: PageParams,
}

impl<F: DeserializeOwned + IntoParams> actix_web::FromRequest for ListQuery<F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let query = req.query_string();
        let mut known = param_names::<F>();
        known.extend(param_names::<PageParams>());
        // Read by `export::wanted` on lists that export; the route table refuses it elsewhere.
        known.extend(param_names::<crate::http::export::ExportParams>());
        std::future::ready(check_query(query, &known).and_then(|_| {
            Ok(ListQuery {
                filters: deserialize_query(query)?,
                page: deserialize_query(query)?,
            })
        }))
    }
}

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// The largest `limit` accepted (and clamped to [`MAX_LIMIT`]): 2^53 − 1, the largest
/// integer every JSON client holds exactly.
pub const LARGEST_LIMIT: u64 = 9_007_199_254_740_991;

/// The filters of a list that has none besides paging.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NoFilters {}

/// `?limit=&cursor=&include_total=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: default 20, at most 100 (larger values, up to 2^53 − 1, are clamped
    /// to 100).
    #[param(minimum = 1, maximum = 9007199254740991_u64, example = 20)]
    pub limit: Option<u64>,
    /// Opaque cursor: the `next_cursor` of the previous page; empty means the first page.
    /// One this API did not issue is 400 `invalid_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// Also return `total`, the number of items matching the filters (costs a count).
    pub include_total: Option<bool>,
}

impl PageParams {
    /// The page size after defaulting and clamping; 0 and more than [`LARGEST_LIMIT`] are
    /// refused, as the spec's bounds say.
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if n == 0 || n > LARGEST_LIMIT => Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                text!(
                    "limit must be between 1 and 2^53 − 1 (values above 100 are clamped to 100)",
                    "limit 须在 1 到 2^53 − 1 之间（超过 100 按 100 处理）"
                ),
            )),
            Some(n) => Ok(Ord::min(n, MAX_LIMIT)),
        }
    }

    pub fn include_total(&self) -> bool {
        self.include_total.unwrap_or(false)
    }

    /// Decodes the cursor into the sort-key values of the last item seen.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        let Some(cursor) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let invalid = || {
            ApiError::bad_request(
                ErrorCode::InvalidCursor,
                text!(
                    "cursor is not one this API issued; start from the first page",
                    "分页游标不是本接口发出的，请从第一页开始"
                ),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).map_err(|_| invalid())?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        // A decoded cursor is input like any other: no NUL reaches the database.
        let mut nul = Vec::new();
        crate::http::extract::find_nul(&value, &mut String::new(), &mut nul);
        if !nul.is_empty() {
            return Err(invalid());
        }
        serde_json::from_value(value).map(Some).map_err(|_| invalid())
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Present only with `?include_total=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl<T> Page<T> {
    /// A page with nothing on it and nothing after it.
    pub fn empty() -> Page<T> {
        Page {
            items: Vec::new(),
            next_cursor: None,
            total: None,
        }
    }

    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    /// `key` gives an item's sort-key values, encoded into the cursor.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> Page<T> {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
            total: None,
        }
    }

    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }
}

fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// The keyset condition "after this row" for a sort order of several columns, each
/// ascending or descending: `a >= x AND ((a > x) OR (a = x AND b > y) OR …)`. The leading
/// `a >= x` says nothing new, but it is what lets the database start the index scan at the
/// cursor: without it PostgreSQL walked the `(name, id)` index from the first row (a page
/// 2,500 rows deep: 19 ms and 34,000 buffers, against 0.06 ms and 20 with it).
pub fn keyset_after(keys: Vec<(SimpleExpr, Order, Value)>) -> Condition {
    let Some((first, first_order, first_value)) = keys.first().cloned() else {
        return Condition::all();
    };
    let bound = match first_order {
        Order::Desc => first.lte(first_value),
        _ => first.gte(first_value),
    };
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (column, _, value) in &keys[..i] {
            all = all.add(column.clone().eq(value.clone()));
        }
        let (column, order, value) = &keys[i];
        all = all.add(match order {
            Order::Desc => column.clone().lt(value.clone()),
            _ => column.clone().gt(value.clone()),
        });
        any = any.add(all);
    }
    Condition::all().add(bound).add(any)
}

/// Up to `limit + 1` rows of `select` in `order` of `key` then `id`, after the row whose
/// key and id are `after`: one keyset page (lists and streamed exports alike).
pub async fn keyset_rows<E, C>(
    db: &C,
    select: sea_orm::Select<E>,
    (key, id): (E::Column, E::Column),
    order: Order,
    after: Option<(Value, uuid::Uuid)>,
    limit: u64,
) -> Result<Vec<E::Model>, ApiError>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::sea_query::Expr;
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let mut select = select;
    if let Some((value, after_id)) = after {
        select = select.filter(keyset_after(vec![
            (Expr::col(key), order.clone(), value),
            (Expr::col(id), order.clone(), after_id.into()),
        ]));
    }
    Ok(select
        .order_by(key, order.clone())
        .order_by(id, order)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// One page of `select` ordered by a text column then `id` (the lists sorted by name), with
/// the total when asked. Items' cursors are `(text, id)`: build the page with
/// `Page::from_rows(views, limit, |v| (v.name.clone(), v.id))`.
pub async fn page_by_text<E, C>(
    db: &C,
    select: sea_orm::Select<E>,
    text: E::Column,
    id: E::Column,
    page: &PageParams,
) -> Result<(Vec<E::Model>, Option<u64>), ApiError>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::PaginatorTrait;
    let total = if page.include_total() {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let after = page.after::<(String, uuid::Uuid)>()?.map(|(key, id)| (key.into(), id));
    let rows = keyset_rows(db, select, (text, id), Order::Asc, after, page.limit()?).await?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyset_page_is_bounded_below_by_its_first_key() {
        use sea_orm::sea_query::{Alias, Expr, PostgresQueryBuilder, Query};
        let condition = keyset_after(vec![
            (Expr::col(Alias::new("name")), Order::Asc, "程".into()),
            (Expr::col(Alias::new("id")), Order::Asc, 7.into()),
        ]);
        let sql = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .cond_where(condition)
            .to_string(PostgresQueryBuilder);
        assert!(
            sql.contains(r#"WHERE "name" >= '程' AND ("name" > '程' OR ("name" = '程' AND "id" > 7))"#),
            "{sql}"
        );
        let desc = keyset_after(vec![(Expr::col(Alias::new("seq")), Order::Desc, 5.into())]);
        let sql = Query::select()
            .column(Alias::new("seq"))
            .from(Alias::new("t"))
            .cond_where(desc)
            .to_string(PostgresQueryBuilder);
        assert!(sql.contains(r#""seq" <= 5 AND "seq" < 5"#), "{sql}");
    }

    #[test]
    fn limit_defaults_clamps_and_refuses_zero() {
        let p = |limit| PageParams {
            limit,
            ..Default::default()
        };
        assert_eq!(p(None).limit().unwrap(), 20);
        assert_eq!(p(Some(500)).limit().unwrap(), 100);
        assert!(p(Some(0)).limit().is_err());
        assert_eq!(p(Some(LARGEST_LIMIT)).limit().unwrap(), 100);
        assert!(p(Some(LARGEST_LIMIT + 1)).limit().is_err());
    }

    #[test]
    fn cursor_round_trips_and_garbage_is_refused() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| ("k", *n));
        assert_eq!(page.items, vec![1, 2]);
        let params = PageParams {
            cursor: page.next_cursor.clone(),
            ..Default::default()
        };
        assert_eq!(params.after::<(String, i32)>().unwrap(), Some(("k".to_string(), 2)));
        let bad = PageParams {
            cursor: Some("!!".into()),
            ..Default::default()
        };
        assert!(bad.after::<(String, i32)>().is_err());
        assert!(Page::from_rows(vec![1], 2, |n| *n).next_cursor.is_none());
    }
}
