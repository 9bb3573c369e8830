//! CSV responses: UTF-8 with a BOM (so Excel opens Chinese correctly), streamed page by
//! page so memory stays flat whatever the list's size. Lists reach this through
//! [`super::export`], which also offers the same rows as a workbook.

use std::future::Future;

use actix_web::HttpResponse;
use actix_web::web::Bytes;

use super::export::Column;
use crate::error::ApiError;

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

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

/// Streams the header of `columns` and then every page `fetch` returns (see
/// [`super::export::stream_pages`]).
pub fn stream<K, F, Fut>(filename: &str, columns: &'static [Column], fetch: F) -> HttpResponse
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
                write_record(&mut out, columns.iter().map(|(header, _)| header.to_string()));
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
