//! Whole-list exports: every list that exports answers with CSV (`Accept: text/csv`) or an
//! Excel workbook (`Accept:` the xlsx media type), or `?format=csv|xlsx` for a plain link.
//! A list declares its columns once ([`Column`]: the Chinese header and what the cells
//! hold) and pages through its rows once; the format only decides how cells are written.
//! Memory stays at a page of rows whatever the list's size (the workbook's rows go to a
//! temporary file as they are written, see [`super::workbook`]).

use std::future::Future;

use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

crate::labelled_enum! {
    /// A whole-list export's file format (`?format=`).
    ExportFormat("export_format", "导出格式") {
        Csv => ("csv", "CSV"),
        Xlsx => ("xlsx", "Excel 工作簿"),
    }
}

/// `?format=`: the whole filtered list as a file instead of a page of JSON (for links, where
/// no `Accept` header can be set).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (UTF-8 with BOM) or `xlsx` (Excel workbook): the whole filtered list as a file,
    /// as `Accept: text/csv` or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`.
    pub format: Option<ExportFormat>,
}

/// What a cell of an export column holds, so that a workbook stores it as Excel would:
/// text stays text (an ID number never becomes `3.40822E+17`), dates are dates, money is a
/// number of yuan with two decimals. CSV writes every kind as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    /// `YYYY-MM-DD`; anything else (a birth year alone, masked) is written as text.
    Date,
    /// Yuan with two decimals as the list writes them (`1234.56`, from fen, exact).
    Money,
    /// A whole number (year, count, score).
    Integer,
}

/// An export column: its header (Chinese, the same in CSV and workbook) and cell kind.
pub type Column = (&'static str, CellKind);

/// A list's export, declared once: the file's name without extension (`members`), the
/// workbook's sheet (`党员`), and the columns.
pub struct Export {
    pub file: &'static str,
    pub sheet: &'static str,
    pub columns: &'static [Column],
}

/// The format a request asks for: `?format=` first, then `Accept`; `None` for JSON.
pub fn wanted(req: &actix_web::HttpRequest) -> Result<Option<ExportFormat>, ApiError> {
    let asked: ExportParams = super::extract::deserialize_query(req.query_string())?;
    if asked.format.is_some() {
        return Ok(asked.format);
    }
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Ok(if accept.contains(super::xlsx::MEDIA_TYPE) {
        Some(ExportFormat::Xlsx)
    } else if accept.contains("text/csv") {
        Some(ExportFormat::Csv)
    } else {
        None
    })
}

/// Streams the header of `export`'s columns and then every page `fetch` returns, in `format`,
/// as the file `<file>.csv` or `<file>.xlsx`. `fetch` is given the cursor of the previous page
/// (`None` first) and returns rows of cells (as text, one per column) and the next cursor
/// (`None` at the end).
fn stream<K, F, Fut>(format: ExportFormat, export: &'static Export, fetch: F) -> HttpResponse
where
    K: 'static,
    F: Fn(Option<K>) -> Fut + 'static,
    Fut: Future<Output = Result<(Vec<Vec<String>>, Option<K>), ApiError>> + 'static,
{
    match format {
        ExportFormat::Csv => super::csv::stream(&format!("{}.csv", export.file), export.columns, fetch),
        ExportFormat::Xlsx => super::workbook::stream(export, fetch),
    }
}

/// Yuan with two decimals from fen, exactly (integer arithmetic, no floating point): how every
/// export writes money.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Rows fetched per page by [`stream_pages`].
pub const EXPORT_BATCH: u64 = 500;

/// Streams every row of a keyset-paged list: `page(after, limit)` returns up to `limit + 1`
/// rows in list order after the cursor `after`; `key` gives a row's cursor and `cells` its
/// cells. Memory stays at one page whatever the list's size.
pub fn stream_pages<R, K, P, Fut>(
    format: ExportFormat,
    export: &'static Export,
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
    stream(format, export, move |after| {
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
