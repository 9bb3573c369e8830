//! Reading an uploaded CSV file for an all-or-nothing import: UTF-8 (BOM optional), CRLF or
//! LF, a header row whose columns are named in English or Chinese, every problem reported
//! with its line (the header is line 1) and column as the file names it. Each feature's
//! import turns the cells of each [`SheetRow`] into its own record.

use std::collections::HashMap;

use crate::error::{ApiError, FieldError, Text};
use crate::text;

/// Most imports: 2 MiB and 5,000 rows.
pub const IMPORT_LIMIT_BYTES: usize = 2 * 1024 * 1024;
pub const IMPORT_MAX_ROWS: usize = 5000;

/// A column an import reads: English name (as in JSON), Chinese name, and whether required.
pub type Column = (&'static str, &'static str, bool);

/// A problem with one cell (or the whole line, with `column` empty).
pub fn cell_error(line: u64, column: &str, code: &'static str, message: Text) -> FieldError {
    let mut e = FieldError::body(format!("/{column}"), code, message);
    e.pointer = None;
    e.line = Some(line);
    e.column = Some(column.to_owned());
    e
}

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

/// A file read: its rows, the problems found so far, and the columns as the file names them.
pub struct Sheet {
    pub rows: Vec<SheetRow>,
    pub errors: Vec<FieldError>,
    header_name: HashMap<&'static str, String>,
}

impl Sheet {
    /// The column of `field` as the file names it (its English name if the file lacks it).
    pub fn column(&self, field: &str) -> String {
        self.header_name.get(field).cloned().unwrap_or_else(|| field.to_owned())
    }

    /// A problem with the cell of `field` on `line`.
    pub fn error(&self, line: u64, field: &str, code: &'static str, message: Text) -> FieldError {
        cell_error(line, &self.column(field), code, message)
    }

    fn refused(errors: Vec<FieldError>) -> Sheet {
        Sheet {
            rows: Vec::new(),
            errors,
            header_name: HashMap::new(),
        }
    }
}

/// Reads `bytes` as CSV with `columns`; `ignored` columns (written by an export) are skipped.
/// An unknown or missing required column, bad encoding or broken CSV are errors in the sheet;
/// more than `max_rows` rows is 413 (`TooManyRows`).
pub fn read_sheet(bytes: &[u8], columns: &[Column], ignored: &[&str], max_rows: usize) -> Result<Sheet, ApiError> {
    let bytes = bytes.strip_prefix(crate::http::csv::BOM).unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(Sheet::refused(vec![cell_error(
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
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => {
            return Ok(Sheet::refused(vec![cell_error(
                1,
                "",
                "csv",
                text!("{e}", "CSV 格式错误：{e}"),
            )]));
        }
    };

    // Map each column of the file to a field; unknown and missing columns are errors.
    let mut errors = Vec::new();
    let mut field_of: Vec<Option<&'static str>> = Vec::new();
    for header in headers.iter() {
        if ignored.contains(&header) {
            field_of.push(None);
            continue;
        }
        match columns.iter().find(|(en, zh, _)| header == *en || header == *zh) {
            Some((en, _, _)) => field_of.push(Some(*en)),
            None => {
                errors.push(cell_error(
                    1,
                    header,
                    "unknown_column",
                    text!("is not a column of this import", "不是本导入的列"),
                ));
                field_of.push(None);
            }
        }
    }
    for (en, zh, required) in columns {
        if *required && !field_of.contains(&Some(*en)) {
            errors.push(cell_error(
                1,
                en,
                "missing_column",
                text!(
                    "the file needs a `{en}` (or `{zh}`) column",
                    "文件须包含 `{en}`（或 `{zh}`）列"
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Sheet::refused(errors));
    }
    let header_name = field_of
        .iter()
        .zip(headers.iter())
        .filter_map(|(f, h)| f.map(|f| (f, h.to_owned())))
        .collect();

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(cell_error(line, "", "csv", text!("{e}", "CSV 格式错误：{e}")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if line > max_rows as u64 + 1 {
            return Err(ApiError::TooManyRows { max: max_rows });
        }
        let cells = field_of
            .iter()
            .zip(record.iter())
            .filter_map(|(f, v)| f.map(|f| (f, v.to_owned())))
            .collect();
        rows.push(SheetRow { line, cells });
    }
    Ok(Sheet {
        rows,
        errors,
        header_name,
    })
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
        let file = crate::http::upload::read_file(req, payload, "text/csv", IMPORT_LIMIT_BYTES).await?;
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
