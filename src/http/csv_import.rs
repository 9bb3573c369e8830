//! Reading an uploaded spreadsheet for an all-or-nothing import: a CSV file (UTF-8, BOM
//! optional, CRLF or LF) or the first worksheet of an Excel workbook (`.xlsx`, read by
//! [`crate::http::xlsx::read`]). Both readers give a [`Grid`] (the header row's cells and the
//! data rows' cells), and one mapping turns it into a [`Sheet`]: columns named in English or
//! Chinese, every problem reported with its line (the header is line 1; in a workbook, the row
//! number Excel shows) and column as the file names it, and in a workbook its sheet and cell.
//! Each feature's import turns the cells of each [`SheetRow`] into its own record.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{ApiError, FieldError, Text};
use crate::http::xlsx;
use crate::text;

/// Most imports: 2 MiB and 5,000 rows.
pub const IMPORT_LIMIT_BYTES: usize = 2 * 1024 * 1024;
pub const IMPORT_MAX_ROWS: usize = 5000;

/// A column an import reads: English name (as in JSON), Chinese name, and whether required.
pub type Column = (&'static str, &'static str, bool);

// ── What a reader finds ──────────────────────────────────────────────────────────────────────

/// One cell as a reader found it, before the mapping knows its column.
pub enum RawCell {
    /// Text, trimmed (every CSV cell).
    Text(String),
    /// A workbook's number (or date), as the text validators read (`4`, `2015-07-01`). Refused
    /// in text-only columns: Excel keeps 15 significant digits, so an 18-digit ID number typed
    /// as a number has already lost its last digits.
    Number(String),
    /// A workbook's formula: refused wherever it is read (its cached result may be stale, and
    /// formulas are never evaluated here).
    Formula,
    /// A workbook's error value (`#N/A`): refused wherever it is read.
    ErrorValue(String),
}

impl RawCell {
    /// Why the cell is refused wherever it is read: its code and message.
    fn refusal(&self) -> Option<(&'static str, Text)> {
        match self {
            RawCell::Text(_) | RawCell::Number(_) => None,
            RawCell::Formula => Some((
                "formula",
                text!(
                    "holds a formula: copy the column and paste it back as values (选择性粘贴 → 数值)",
                    "是公式：请复制该列，再以“选择性粘贴 → 数值”粘贴回去"
                ),
            )),
            RawCell::ErrorValue(e) => Some((
                "error_value",
                text!(
                    "holds the error value {e}: correct the cell",
                    "是错误值 {e}：请更正该单元格"
                ),
            )),
        }
    }
}

/// One row as a reader found it: its line and its cells by 0-based column.
pub struct RawRow {
    pub line: u64,
    pub cells: Vec<(u32, RawCell)>,
}

/// A file as a reader found it.
pub struct Grid {
    /// The worksheet read, for a workbook (`None` for CSV): errors name it and their cell.
    pub sheet: Option<String>,
    /// The header row; `None` when the file could not be read at all (`errors` say why).
    pub header: Option<RawRow>,
    pub rows: Vec<RawRow>,
    /// Problems found while reading (a broken CSV line, a file that is no workbook).
    pub errors: Vec<FieldError>,
}

impl Grid {
    /// A file that could not be read at all, for the `errors` given.
    pub fn refused(errors: Vec<FieldError>) -> Grid {
        Grid {
            sheet: None,
            header: None,
            rows: Vec::new(),
            errors,
        }
    }
}

// ── What an import reads ─────────────────────────────────────────────────────────────────────

/// One data row: its line and its non-empty cells by English column name.
pub struct SheetRow {
    pub line: u64,
    cells: HashMap<&'static str, String>,
}

impl SheetRow {
    /// The cell of `field`, trimmed; `None` when missing or empty.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.cells.get(field).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Where each field is in the file, to name its cells in errors. Kept apart from the rows so
/// that an import can still name cells after the rows are gone (checks against the database).
#[derive(Clone, Default)]
pub struct SheetColumns {
    /// The worksheet, for a workbook.
    sheet: Option<String>,
    /// Each field's column as the file names it, and its 0-based index.
    fields: HashMap<&'static str, (String, u32)>,
}

impl SheetColumns {
    /// The column of `field` as the file names it (its English name if the file lacks it).
    pub fn column(&self, field: &str) -> String {
        self.fields
            .get(field)
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| field.to_owned())
    }

    /// A problem with the cell of `field` on `line` (or the whole line, with `field` empty):
    /// the column as the file names it and, in a workbook, the sheet and the cell (`F2`).
    pub fn error(&self, line: u64, field: &str, code: impl Into<Cow<'static, str>>, message: Text) -> FieldError {
        let index = self.fields.get(field).map(|(_, i)| *i);
        self.error_at(line, &self.column(field), index, code, message)
    }

    fn error_at(
        &self,
        line: u64,
        column: &str,
        index: Option<u32>,
        code: impl Into<Cow<'static, str>>,
        message: Text,
    ) -> FieldError {
        let mut e = FieldError::body("", code, message);
        e.pointer = None;
        e.line = Some(line);
        e.column = Some(column.to_owned());
        if self.sheet.is_some() {
            e.sheet = self.sheet.clone();
            let row = u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX);
            e.cell = index.map(|i| cell_name(row, i));
        }
        e
    }
}

/// The cell at 0-based `row` and `column`, A1-style (`F2`), as Excel names it.
pub fn cell_name(row: u32, column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = column as u64 + 1;
    while n > 0 {
        letters.push((b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row as u64 + 1).to_string()
}

/// A file read: its rows, the problems found so far, and where each column is.
pub struct Sheet {
    pub rows: Vec<SheetRow>,
    pub errors: Vec<FieldError>,
    pub columns: SheetColumns,
}

impl Sheet {
    /// The column of `field` as the file names it (its English name if the file lacks it).
    pub fn column(&self, field: &str) -> String {
        self.columns.column(field)
    }

    /// A problem with the cell of `field` on `line`; see [`SheetColumns::error`].
    pub fn error(&self, line: u64, field: &str, code: impl Into<Cow<'static, str>>, message: Text) -> FieldError {
        self.columns.error(line, field, code, message)
    }

    /// A validator's error about the record built from `line`, moved from the field its JSON
    /// pointer names (`/phone`, `/secondary_causes/1`) to that field's cell.
    pub fn validation_error(&self, line: u64, error: FieldError) -> FieldError {
        let pointer = error.pointer.as_deref().unwrap_or_default();
        let field = pointer.trim_start_matches('/').split('/').next().unwrap_or_default();
        self.error(line, field, error.code, error.message)
    }
}

/// Reads an uploaded spreadsheet with `columns`: a workbook when its bytes are one (whatever
/// the declared type), CSV otherwise. `ignored` columns (written by an export) are skipped;
/// `text_only` columns (ID numbers) must hold text, not numbers. An unknown or missing
/// required column, a file that cannot be read, and refused cells are errors in the sheet;
/// data beyond `max_rows` rows is 413 (`TooManyRows`).
pub fn read_sheet(
    bytes: &[u8],
    columns: &[Column],
    ignored: &[&str],
    text_only: &[&str],
    max_rows: usize,
) -> Result<Sheet, ApiError> {
    let grid = if xlsx::read::is_workbook(bytes) {
        xlsx::read::first_sheet(bytes, max_rows)?
    } else {
        read_csv(bytes, max_rows)?
    };
    Ok(map_columns(grid, columns, ignored, text_only))
}

/// Reads `bytes` as CSV: bad encoding or a broken header refuse the file; a broken line is an
/// error of that line.
fn read_csv(bytes: &[u8], max_rows: usize) -> Result<Grid, ApiError> {
    let columns = SheetColumns::default();
    let bytes = bytes.strip_prefix(crate::http::csv::BOM).unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(Grid::refused(vec![columns.error(
            1,
            "",
            "encoding",
            text!("the file must be UTF-8", "文件须为 UTF-8 编码"),
        )]));
    };
    // Excel and WPS save CRLF line ends; with plain LF the reader's line numbers are exact.
    let text = text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let texts = |record: &csv::StringRecord| -> Vec<(u32, RawCell)> {
        (0u32..)
            .zip(record.iter())
            .map(|(i, v)| (i, RawCell::Text(v.to_owned())))
            .collect()
    };
    let header = match reader.headers() {
        Ok(headers) => RawRow {
            line: 1,
            cells: texts(headers),
        },
        Err(e) => {
            return Ok(Grid::refused(vec![columns.error(
                1,
                "",
                "csv",
                text!("{e}", "CSV 格式错误：{e}"),
            )]));
        }
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(columns.error(line, "", "csv", text!("{e}", "CSV 格式错误：{e}")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if line > max_rows as u64 + 1 {
            return Err(ApiError::TooManyRows { max: max_rows });
        }
        rows.push(RawRow {
            line,
            cells: texts(&record),
        });
    }
    Ok(Grid {
        sheet: None,
        header: Some(header),
        rows,
        errors,
    })
}

/// Maps each column of `grid` to a field by its header (English or Chinese name): unknown,
/// repeated and missing required columns are errors, and so are refused cells and numbers in
/// `text_only` columns. Cells in columns without a header are not read.
fn map_columns(grid: Grid, columns: &[Column], ignored: &[&str], text_only: &[&str]) -> Sheet {
    let mut errors = grid.errors;
    let read_errors = errors.len();
    let mut layout = SheetColumns {
        sheet: grid.sheet,
        fields: HashMap::new(),
    };
    let Some(header) = grid.header else {
        return Sheet {
            rows: Vec::new(),
            errors,
            columns: layout,
        };
    };

    let mut field_of: HashMap<u32, &'static str> = HashMap::new();
    for (index, cell) in header.cells {
        if let Some((code, message)) = cell.refusal() {
            errors.push(layout.error_at(header.line, "", Some(index), code, message));
            continue;
        }
        let (RawCell::Text(name) | RawCell::Number(name)) = cell else {
            continue;
        };
        if ignored.contains(&name.as_str()) {
            continue;
        }
        let Some((en, _, _)) = columns.iter().find(|(en, zh, _)| name == *en || name == *zh) else {
            errors.push(layout.error_at(
                header.line,
                &name,
                Some(index),
                "unknown_column",
                text!("is not a column of this import", "不是本导入的列"),
            ));
            continue;
        };
        if let Some((first, _)) = layout.fields.get(en) {
            let first = first.clone();
            errors.push(layout.error_at(
                header.line,
                &name,
                Some(index),
                "duplicate_column",
                text!("repeats the column `{first}`", "与 `{first}` 列重复"),
            ));
            continue;
        }
        field_of.insert(index, en);
        layout.fields.insert(en, (name, index));
    }
    for (en, zh, required) in columns {
        if *required && !layout.fields.contains_key(en) {
            errors.push(layout.error_at(
                header.line,
                en,
                None,
                "missing_column",
                text!(
                    "the file needs a `{en}` (or `{zh}`) column",
                    "文件须包含 `{en}`（或 `{zh}`）列"
                ),
            ));
        }
    }
    if errors.len() > read_errors {
        return Sheet {
            rows: Vec::new(),
            errors,
            columns: layout,
        };
    }

    let mut rows = Vec::new();
    for raw in grid.rows {
        let mut cells = HashMap::new();
        let mut refused = false;
        for (index, cell) in raw.cells {
            let Some(field) = field_of.get(&index).copied() else {
                continue;
            };
            let refusal = match cell {
                RawCell::Number(_) if text_only.contains(&field) => {
                    Some(("id_number_as_number", number_in_text_column()))
                }
                RawCell::Text(value) | RawCell::Number(value) => {
                    cells.insert(field, value);
                    None
                }
                other => other.refusal(),
            };
            if let Some((code, message)) = refusal {
                refused = true;
                errors.push(layout.error(raw.line, field, code, message));
            }
        }
        // A row with a refused cell is not read further: its other errors would be noise.
        if !refused {
            rows.push(SheetRow { line: raw.line, cells });
        }
    }
    Sheet {
        rows,
        errors,
        columns: layout,
    }
}

/// Why an ID number typed as a number is refused, and how to fix the file.
fn number_in_text_column() -> Text {
    text!(
        "is a number, not text: Excel keeps only 15 significant digits of a number (e.g. 3.40822E+17), so the last digits of an 18-digit ID number are lost. Format the column as Text (设置单元格格式 → 文本) and type the numbers again",
        "是数字而非文本：Excel 的数字只保留 15 位有效数字（如 3.40822E+17），18 位身份证号的末几位已经丢失。请将该列设置为文本格式（设置单元格格式 → 文本）后重新输入号码"
    )
}

/// `true`/`false`, `1`/`0`, `是`/`否`, `yes`/`no`.
pub fn parse_bool(cell: &str) -> Option<bool> {
    match cell {
        "true" | "1" | "是" | "yes" => Some(true),
        "false" | "0" | "否" | "no" => Some(false),
        _ => None,
    }
}

/// The bookkeeping every CSV import shares: the file, its dry-run limit or Idempotency-Key,
/// and the audit event of every attempt (`<entity>.import`, dry or not, refused or written).
pub struct ImportRun {
    /// The uploaded file (raw or the `file` part of a form).
    pub file: actix_web::web::Bytes,
    /// The claimed key of a real import (`None` for a dry run).
    pub ticket: Option<crate::http::idempotency::Ticket>,
    action: &'static str,
    entity_type: &'static str,
    /// Where the event is filed: the top of the caller's managing scope.
    pub org: Option<uuid::Uuid>,
    dry_run: bool,
}

/// What [`ImportRun::start`] decided.
pub enum ImportStart {
    /// A retried import already done: its stored answer.
    Replay(actix_web::HttpResponse),
    Proceed(ImportRun),
}

impl ImportRun {
    /// Reads the file, then limits a dry run per account (each checks up to 5,000 rows
    /// against the whole town) or claims a real import's key first (a replay must not be
    /// validated again against the rows it created).
    pub async fn start(
        state: &crate::state::AppState,
        user: &crate::auth::AuthUser,
        req: &actix_web::HttpRequest,
        key: &crate::http::IdempotencyKey,
        payload: actix_web::dev::Payload,
        dry_run: bool,
        (action, entity_type): (&'static str, &'static str),
    ) -> Result<ImportStart, ApiError> {
        let file = crate::http::upload::read_file(req, payload, IMPORT_LIMIT_BYTES).await?;
        let ticket = if dry_run {
            crate::auth::check_rate(&state.auth.dry_run_limiter, &user.id())?;
            None
        } else {
            match key.claim(&state.db, &user.id().to_string()).await? {
                crate::http::Claim::Replay(stored) => return Ok(ImportStart::Replay(stored)),
                crate::http::Claim::Proceed(ticket) => Some(ticket),
            }
        };
        Ok(ImportStart::Proceed(ImportRun {
            file,
            ticket,
            action,
            entity_type,
            org: user.scope(crate::auth::Access::MANAGE).top_orgs().first().copied(),
            dry_run,
        }))
    }

    /// The audit event of this import with `rows` rows and `errors` problems.
    pub fn event(&self, rows: usize, errors: usize) -> crate::audit::Event {
        let event = crate::audit::Event {
            entity_id: None,
            org_id: self.org,
            ..crate::audit::Event::new(self.action, self.entity_type, "")
        }
        .after(serde_json::json!({"dry_run": self.dry_run, "rows": rows, "errors": errors}));
        if errors > 0 { event.failed() } else { event }
    }

    /// The claimed key when the file is to be written (a real import without errors).
    pub fn writing(&mut self, errors: &[FieldError]) -> Option<crate::http::idempotency::Ticket> {
        if errors.is_empty() { self.ticket.take() } else { None }
    }

    /// A dry run or a refused file: records the attempt and answers (the report, or 422 with
    /// every problem). Nothing else is written.
    pub async fn answer_unwritten(
        self,
        state: &crate::state::AppState,
        user: &crate::auth::AuthUser,
        valid: usize,
        errors: Vec<FieldError>,
    ) -> Result<actix_web::HttpResponse, ApiError> {
        crate::audit::Write::record_alone(&state.db, &user.audit, self.event(valid, errors.len())).await?;
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(actix_web::HttpResponse::Ok().json(ImportReport {
            imported: 0,
            valid,
            dry_run: self.dry_run,
        }))
    }

    /// Commits a written import of `rows` rows with its event and stored answer (201).
    pub async fn commit(
        &self,
        ticket: crate::http::idempotency::Ticket,
        write: crate::audit::Write,
        rows: usize,
    ) -> Result<actix_web::HttpResponse, ApiError> {
        let report = ImportReport {
            imported: rows,
            valid: rows,
            dry_run: self.dry_run,
        };
        let response = crate::http::StoredResponse::json(actix_web::http::StatusCode::CREATED, &report)?;
        ticket.commit(write, self.event(rows, 0), response).await
    }
}

/// What an import did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows written (0 on a dry run).
    pub imported: usize,
    /// Rows that passed validation.
    pub valid: usize,
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_as_excel_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(1, 5), "F2");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(0, 63), "BL1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }
}
