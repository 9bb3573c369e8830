//! Excel workbooks the API writes: whole-list exports ([`stream`], reached through
//! [`super::export`]) and import templates ([`template`]). Offices keep their rosters in
//! Excel; a CSV opened there turns an 18-digit ID number into `3.40822E+17`, a workbook
//! keeps it as text. Text is always written as text, so a cell that looks like a formula
//! is never one.

use std::future::Future;

use actix_web::HttpResponse;
use actix_web::web::{self, Bytes};
use rust_xlsxwriter::{DataValidation, ExcelDateTime, Format, Formula, Workbook, Worksheet, XlsxError};

use super::export::{CellKind, Column, Export};
use super::xlsx::MEDIA_TYPE;
use crate::error::ApiError;

/// Excel's longest text in a cell; longer text is cut there rather than failing the export.
const MAX_CELL_CHARS: usize = 32_767;
/// The widest a column is made, in characters.
const MAX_WIDTH: f64 = 60.0;

/// The cell formats a sheet uses.
struct Formats {
    header: Format,
    text: Format,
    date: Format,
    money: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            text: Format::new().set_num_format("@"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            money: Format::new().set_num_format("0.00"),
        }
    }
}

/// The width `text` takes in a column, in characters: Chinese characters take two.
fn width_of(text: &str) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

/// Writes the header row of `columns`: bold, frozen, and text format for text columns (so
/// numbers typed there later stay text).
fn write_header(sheet: &mut Worksheet, columns: &[Column], formats: &Formats) -> Result<Vec<f64>, XlsxError> {
    let mut widths = Vec::with_capacity(columns.len());
    for (col, (header, kind)) in columns.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *header, &formats.header)?;
        if *kind == CellKind::Text {
            sheet.set_column_format(col, &formats.text)?;
        }
        widths.push(width_of(header) + 2.0);
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(widths)
}

/// Writes one cell of `kind` from its text as the list gives it; returns its width. A value
/// that does not read as its kind (a birth year where a date would be) is written as text.
fn write_cell(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    kind: CellKind,
    text: &str,
    formats: &Formats,
) -> Result<f64, XlsxError> {
    if text.is_empty() {
        return Ok(0.0);
    }
    match kind {
        CellKind::Date => {
            if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                && let Ok(date) = ExcelDateTime::parse_from_str(&date.format("%Y-%m-%d").to_string())
            {
                sheet.write_datetime_with_format(row, col, &date, &formats.date)?;
                return Ok(10.0);
            }
        }
        CellKind::Money => {
            // The nearest double to the decimal, as fen / 100 would give: Excel holds no closer.
            if let Ok(yuan) = text.parse::<f64>() {
                sheet.write_number_with_format(row, col, yuan, &formats.money)?;
                return Ok(width_of(text));
            }
        }
        CellKind::Integer => {
            if let Ok(n) = text.parse::<i64>()
                && n.unsigned_abs() < (1 << 53)
            {
                sheet.write_number(row, col, n as f64)?;
                return Ok(width_of(text));
            }
        }
        CellKind::Text => {}
    }
    let text: String = text.chars().take(MAX_CELL_CHARS).collect();
    sheet.write_string_with_format(row, col, &text, &formats.text)?;
    Ok(width_of(&text))
}

/// Streams a workbook of one sheet: the header of `columns`, then every page `fetch` returns
/// (see [`super::export::stream_pages`]). Rows go to a temporary file as they are written
/// (`constant memory`), so memory stays at a page of rows and the finished file; the file is
/// sent once complete, as a workbook cannot be read before its end.
pub fn stream<K, F, Fut>(export: &'static Export, fetch: F) -> HttpResponse
where
    K: 'static,
    F: Fn(Option<K>) -> Fut + 'static,
    Fut: Future<Output = Result<(Vec<Vec<String>>, Option<K>), ApiError>> + 'static,
{
    let filename = format!("{}.xlsx", export.file);
    let body = futures_util::stream::once(async move {
        match build(export, fetch).await {
            Ok(bytes) => Ok::<_, actix_web::Error>(Bytes::from(bytes)),
            Err(err) => {
                tracing::error!(error = %err, "workbook export failed");
                Err(actix_web::error::ErrorInternalServerError("export failed"))
            }
        }
    });
    HttpResponse::Ok()
        .content_type(MEDIA_TYPE)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .streaming(body)
}

async fn build<K, F, Fut>(export: &'static Export, fetch: F) -> Result<Vec<u8>, ApiError>
where
    F: Fn(Option<K>) -> Fut,
    Fut: Future<Output = Result<(Vec<Vec<String>>, Option<K>), ApiError>>,
{
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let columns = export.columns;
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name(export.sheet).map_err(ApiError::internal)?;
    let mut widths = write_header(sheet, columns, &formats).map_err(ApiError::internal)?;
    let mut row = 0u32;
    let mut cursor = None;
    loop {
        let (rows, next) = fetch(cursor).await?;
        for cells in rows {
            row += 1;
            for (col, ((_, kind), text)) in columns.iter().zip(&cells).enumerate() {
                let width = write_cell(sheet, (row, col as u16), *kind, text, &formats).map_err(ApiError::internal)?;
                widths[col] = widths[col].max(width + 2.0);
            }
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    for (col, width) in widths.into_iter().enumerate() {
        sheet
            .set_column_width(col as u16, width.min(MAX_WIDTH))
            .map_err(ApiError::internal)?;
    }
    // Compressing the sheet is CPU work: off the async workers.
    web::block(move || workbook.save_to_buffer())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// A column of an import template.
pub struct TemplateColumn {
    /// The header, in Chinese (an import reads Chinese or English headers).
    pub header: &'static str,
    /// The English name, as in JSON.
    pub field: &'static str,
    pub required: bool,
    pub kind: CellKind,
    /// The values allowed (their Chinese labels), offered as a drop-down; empty: free.
    pub choices: Vec<&'static str>,
    /// What to write, in a sentence.
    pub note: &'static str,
}

impl TemplateColumn {
    /// The template's columns for an import's `columns` (English name, Chinese name,
    /// required), each described by `describe`: its cells, its fixed values, a note.
    pub fn for_import(
        columns: &[crate::http::csv_import::Column],
        describe: impl Fn(&str) -> (CellKind, Vec<&'static str>, &'static str),
    ) -> Vec<TemplateColumn> {
        columns
            .iter()
            .map(|c| {
                let (kind, choices, note) = describe(c.0);
                TemplateColumn {
                    header: c.1,
                    field: c.0,
                    required: c.2,
                    kind,
                    choices,
                    note,
                }
            })
            .collect()
    }
}

/// A list a template column picks from that lives on its own sheet (e.g. the organisations
/// a caller may place members in): the sheet's name, its headers, and its rows, whose first
/// cell is the value to pick.
pub struct PickList {
    pub sheet: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    /// The template column that picks from it.
    pub field: &'static str,
    /// How many of the first rows the drop-down offers (the rest explain them).
    pub rows_picked: usize,
}

/// Rows of the template that get drop-downs and text format.
const TEMPLATE_ROWS: u32 = 5000;

/// An import template: a first sheet `name` with only the headers (text columns formatted as
/// text, drop-downs for columns with fixed values or a pick list), ready to be filled and
/// imported as it is; a sheet 填写说明 explaining each column with `example`, a filled row;
/// and a sheet per pick list.
pub fn template(
    name: &str,
    columns: &[TemplateColumn],
    example: &[String],
    lists: &[PickList],
) -> Result<Vec<u8>, ApiError> {
    build_template(name, columns, example, lists).map_err(ApiError::internal)
}

fn build_template(
    name: &str,
    columns: &[TemplateColumn],
    example: &[String],
    lists: &[PickList],
) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    for (col, c) in columns.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, c.header, &formats.header)?;
        if c.kind == CellKind::Text {
            sheet.set_column_format(col, &formats.text)?;
        }
        let example = example.get(col as usize).map(String::as_str).unwrap_or_default();
        let width = width_of(c.header).max(width_of(example)) + 2.0;
        sheet.set_column_width(col, width.min(MAX_WIDTH))?;
        let validation = match lists.iter().find(|l| l.field == c.field) {
            Some(list) => Some(DataValidation::new().allow_list_formula(Formula::new(format!(
                "='{}'!$A$2:$A${}",
                list.sheet,
                list.rows_picked.max(1) + 1
            )))),
            None if !c.choices.is_empty() => Some(DataValidation::new().allow_list_strings(&c.choices)?),
            None => None,
        };
        if let Some(validation) = validation {
            sheet.add_data_validation(1, col, TEMPLATE_ROWS, col, &validation)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;

    let help = workbook.add_worksheet();
    help.set_name("填写说明")?;
    let headers = ["列名", "英文列名", "必填", "说明", "可填的值", "示例"];
    for (col, header) in headers.iter().enumerate() {
        help.write_string_with_format(0, col as u16, *header, &formats.header)?;
    }
    for (row, c) in columns.iter().enumerate() {
        let row = row as u32 + 1;
        help.write_string(row, 0, c.header)?;
        help.write_string(row, 1, c.field)?;
        help.write_string(row, 2, if c.required { "是" } else { "否" })?;
        help.write_string(row, 3, c.note)?;
        let allowed = match lists.iter().find(|l| l.field == c.field) {
            Some(list) => format!("见工作表“{}”第一列", list.sheet),
            None => c.choices.join("、"),
        };
        help.write_string(row, 4, &allowed)?;
        let example = example.get(row as usize - 1).map(String::as_str).unwrap_or_default();
        help.write_string(row, 5, example)?;
    }
    for (col, width) in [14.0, 18.0, 6.0, 50.0, 40.0, 40.0].iter().enumerate() {
        help.set_column_width(col as u16, *width)?;
    }

    for list in lists {
        let sheet = workbook.add_worksheet();
        sheet.set_name(list.sheet)?;
        for (col, header) in list.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
            sheet.set_column_width(col as u16, 38.0)?;
        }
        for (row, cells) in list.rows.iter().enumerate() {
            for (col, cell) in cells.iter().enumerate() {
                sheet.write_string(row as u32 + 1, col as u16, cell)?;
            }
        }
    }
    workbook.save_to_buffer()
}

/// A template as a download named `filename`.
pub fn attachment(filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(MEDIA_TYPE)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .body(bytes)
}
