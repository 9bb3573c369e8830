//! CSV responses: UTF-8 with a BOM (so Excel opens Chinese correctly), streamed page by
//! page so memory stays flat whatever the list's size.

use std::future::Future;

use actix_web::HttpResponse;
use actix_web::web::Bytes;

use crate::error::ApiError;

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// True when the request asks for CSV (`Accept: text/csv`).
pub fn wanted(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

/// Writes one record. Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first,
/// and not a number) is prefixed with `'`.
pub fn write_record(out: &mut Vec<u8>, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells
        .into_iter()
        .map(|c| {
            if c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err() {
                format!("'{c}")
            } else {
                c
            }
        })
        .collect();
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    if writer.write_record(&cells).is_ok()
        && let Ok(bytes) = writer.into_inner()
    {
        out.extend(bytes);
    }
}

/// Streams `header` and then every page `fetch` returns: given the cursor of the previous
/// page (`None` first), it returns rows and the next cursor (`None` at the end).
pub fn stream<K, F, Fut>(filename: &str, header: &'static [&'static str], fetch: F) -> HttpResponse
where
    K: 'static,
    F: Fn(Option<K>) -> Fut + 'static,
    Fut: Future<Output = Result<(Vec<Vec<String>>, Option<K>), ApiError>> + 'static,
{
    let fetch = std::rc::Rc::new(fetch);
    // State: the next page's cursor (outer None: finished), and whether this is the first chunk.
    let body = futures_util::stream::unfold((Some(None::<K>), true), move |(next, first)| {
        let fetch = fetch.clone();
        async move {
            let cursor = next?;
            let mut out = Vec::new();
            if first {
                out.extend_from_slice(BOM);
                write_record(&mut out, header.iter().map(|h| h.to_string()));
            }
            match fetch(cursor).await {
                Ok((rows, following)) => {
                    for row in rows {
                        write_record(&mut out, row);
                    }
                    Some((
                        Ok::<_, actix_web::Error>(Bytes::from(out)),
                        (following.map(Some), false),
                    ))
                }
                Err(err) => {
                    tracing::error!(error = %err, "CSV export failed midway");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        (None, false),
                    ))
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .streaming(body)
}

/// Rows fetched per page by [`stream_pages`].
pub const EXPORT_BATCH: u64 = 500;

/// Streams every row of a keyset-paged list: `page(after, limit)` returns up to `limit + 1`
/// rows in list order after the cursor `after`; `key` gives a row's cursor and `cells` its
/// record. Memory stays at one page whatever the list's size.
pub fn stream_pages<R, K, P, Fut>(
    filename: &str,
    header: &'static [&'static str],
    page: P,
    key: impl Fn(&R) -> K + 'static,
    cells: impl Fn(&R) -> Result<Vec<String>, ApiError> + 'static,
) -> HttpResponse
where
    R: 'static,
    K: 'static,
    P: Fn(Option<K>, u64) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<R>, ApiError>> + 'static,
{
    let page = std::rc::Rc::new(page);
    let key = std::rc::Rc::new(key);
    let cells = std::rc::Rc::new(cells);
    stream(filename, header, move |after| {
        let (page, key, cells) = (page.clone(), key.clone(), cells.clone());
        async move {
            let mut rows = page(after, EXPORT_BATCH).await?;
            let more = rows.len() as u64 > EXPORT_BATCH;
            rows.truncate(EXPORT_BATCH as usize);
            let next = if more { rows.last().map(|r| key(r)) } else { None };
            let records = rows.iter().map(|r| cells(r)).collect::<Result<_, _>>()?;
            Ok((records, next))
        }
    })
}
