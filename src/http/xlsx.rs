//! Excel workbooks (`.xlsx`): their media type, and reading an uploaded one ([`read`]).
//! Writing them (exports, templates) is in [`super::workbook`].

/// The media type of an `.xlsx` workbook.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An `.xlsx` workbook in a request or response body, for the spec (`string`, `binary`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only its schema is used
pub struct Workbook(Vec<u8>);

// ── Reading uploaded workbooks ───────────────────────────────────────────────────────────────

/// Reading the first worksheet of an uploaded workbook into the [`Grid`] every import maps.
///
/// A workbook is a zip archive of XML parts, so an upload within the 2 MiB limit may unpack to
/// gigabytes or claim a million rows. Hence: every part's real unpacked size is counted before
/// anything is parsed (declared sizes are never trusted); cells are streamed one by one, never
/// laid out in a grid sized by what the sheet claims; formulas, macros and error values are
/// refused, never evaluated; numbers in text-only columns are refused, never guessed.
///
/// [`Grid`]: crate::http::csv_import::Grid
pub mod read {
    use std::collections::BTreeMap;
    use std::io::{Cursor, Read};

    use calamine::{DataRef, Reader, SheetType, Xlsx};

    use crate::error::{FieldError, Text};
    use crate::http::csv_import::{Grid, RawCell, RawRow, cell_name};
    use crate::text;

    /// What all parts together may unpack to.
    const MAX_UNPACKED_BYTES: u64 = 50 * 1024 * 1024;
    /// What each worksheet may unpack to: 5,000 rows of 15 columns take 2 to 4 MiB of XML.
    /// Worksheets are streamed, but every XML element costs time (twice with formulas).
    const MAX_SHEET_BYTES: u64 = 12 * 1024 * 1024;
    /// What each other part may unpack to: those calamine reads (shared strings, styles, the
    /// workbook and its relationships) are held in memory whole.
    const MAX_PART_BYTES: u64 = 8 * 1024 * 1024;
    /// The text of all cells read: a CSV of 2 MiB holds 2 MiB of it. Counted because one
    /// shared string may be used by every cell.
    const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
    /// Parts in the archive: a workbook has a dozen or two.
    const MAX_PARTS: usize = 1000;
    /// Zip end records in the file (a valid archive has one to three).
    const MAX_END_RECORDS: usize = 16;
    /// Columns a sheet may use (A to BL): an import has a few dozen.
    const MAX_COLUMNS: u32 = 64;

    /// How every zip archive starts (a local file header).
    const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
    /// How OLE compound files start: old `.xls` workbooks, and password-protected `.xlsx` ones.
    const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    /// True when `bytes` are an Excel file rather than text, whatever type the upload
    /// declared: a workbook (a zip archive), or an old or encrypted one (refused by [`first_sheet`]
    /// with a message saying how to save it).
    pub fn is_workbook(bytes: &[u8]) -> bool {
        bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE_MAGIC)
    }

    /// Reads the first worksheet of the workbook in `bytes`: its first row holding data is the
    /// header, each later row holding data is a row (empty rows are skipped), `line` is the row
    /// number Excel shows. A file that is not a readable workbook is a grid refused with one
    /// error saying why; data below line `max_rows + 1` is 413 (`TooManyRows`), like CSV.
    pub fn first_sheet(bytes: &[u8], max_rows: usize) -> Result<Grid, crate::error::ApiError> {
        if bytes.starts_with(OLE_MAGIC) {
            return Ok(Grid::refused(vec![problem(
                "not_a_workbook",
                text!(
                    "this is an Excel 97-2003 workbook (.xls) or a password-protected one: open it in Excel, remove any password (文件 → 信息 → 保护工作簿) and save it as an Excel Workbook (.xlsx)",
                    "这是 Excel 97-2003 工作簿（.xls）或设有密码的工作簿：请在 Excel 中打开，取消密码（文件 → 信息 → 保护工作簿），另存为“Excel 工作簿（.xlsx）”"
                ),
            )]));
        }
        let formulas = match check_parts(bytes) {
            Ok(formulas) => formulas,
            Err(refusal) => return Ok(Grid::refused(vec![*refusal])),
        };
        // Parsing is calamine's; should a hostile file find a bug in it that panics, the file
        // is refused rather than the request failing with a 500.
        match std::panic::catch_unwind(|| read_cells(bytes, max_rows, formulas)) {
            Ok(read) => read,
            Err(_) => Ok(Grid::refused(vec![unreadable("the parser failed")])),
        }
    }

    /// A problem with the whole workbook.
    fn problem(code: &'static str, message: Text) -> FieldError {
        let mut e = FieldError::body("", code, message);
        e.pointer = None;
        e
    }

    fn unreadable(why: impl std::fmt::Display) -> FieldError {
        problem(
            "not_a_workbook",
            text!(
                "the file is not a readable Excel workbook (.xlsx): {why}",
                "文件不是可读取的 Excel 工作簿（.xlsx）：{why}"
            ),
        )
    }

    /// Unpacks every part once, counting what really comes out (a zip bomb declares small sizes
    /// and unpacks to gigabytes), and refuses macro-enabled workbooks. Only then is the file
    /// parsed, so that parsing unpacks at most what was counted here. Tells whether a worksheet
    /// may hold formulas (each then named by its cell; shared formulas are refused here).
    fn check_parts(bytes: &[u8]) -> Result<bool, Box<FieldError>> {
        // An archive ends with one end record (two more with zip64). Given many, the zip reader
        // tries each in turn, scanning the file for each: seconds of work for 2 MiB.
        let end_records = memchr::memmem::find_iter(bytes, b"PK")
            .filter(|&i| matches!(bytes.get(i + 2..i + 4), Some([5, 6] | [6, 6] | [6, 7])))
            .count();
        if end_records > MAX_END_RECORDS {
            return Err(unreadable("it is no valid zip archive").into());
        }
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
        if zip.len() > MAX_PARTS {
            return Err(unreadable(format!("it has {} parts", zip.len())).into());
        }
        let name = |n: &str| n.replace('\\', "/").to_ascii_lowercase();
        if zip.file_names().any(|n| name(n).ends_with("vbaproject.bin")) {
            return Err(Box::new(problem(
                "macro_workbook",
                text!(
                    "the workbook contains macros (.xlsm): save it as an Excel Workbook (.xlsx) without macros",
                    "工作簿含有宏（.xlsm）：请另存为不含宏的“Excel 工作簿（.xlsx）”"
                ),
            )));
        }
        let mut total = 0u64;
        let mut formulas = FormulaSniffer::default();
        for i in 0..zip.len() {
            let part = zip.by_index(i).map_err(unreadable)?;
            let worksheet = name(part.name()).starts_with("xl/worksheets/");
            let limit = if worksheet { MAX_SHEET_BYTES } else { MAX_PART_BYTES };
            let limit = limit.min(MAX_UNPACKED_BYTES - total);
            let mut part = part.take(limit + 1);
            let unpacked = if worksheet {
                formulas.next_part();
                std::io::copy(&mut part, &mut formulas)
            } else {
                std::io::copy(&mut part, &mut std::io::sink())
            }
            .map_err(unreadable)?;
            if unpacked > limit {
                return Err(Box::new(problem(
                    "workbook_too_large",
                    text!(
                        "the workbook unpacks to more than an import reads ({} MiB in all, {} MiB for a worksheet): keep only the sheet to import, without pictures or formatted empty rows",
                        "工作簿解压后超出导入的上限（总计 {} MiB，单个工作表 {} MiB）：请只保留要导入的工作表，不含图片或带格式的空行",
                        MAX_UNPACKED_BYTES >> 20,
                        MAX_SHEET_BYTES >> 20
                    ),
                )));
            }
            total += unpacked;
        }
        if formulas.formulas && formulas.shared {
            // Shared formulas (filled down) are not read cell by cell: calamine would lay out
            // the range each claims, and a hostile one claims the whole sheet.
            return Err(Box::new(problem(
                "formula",
                text!(
                    "the workbook holds formulas filled down a column: copy the columns and paste them back as values (选择性粘贴 → 数值), or keep only the sheet to import",
                    "工作簿中有向下填充的公式：请复制这些列，再以“选择性粘贴 → 数值”粘贴回去，或只保留要导入的工作表"
                ),
            )));
        }
        Ok(formulas.formulas)
    }

    /// What the worksheets' XML may hold, noted while it is unpacked: formulas (`<f>`,
    /// `<x:f>`) and shared ones (`t="shared"`). A false alarm costs a refusal or a pass that
    /// finds nothing; nothing is missed.
    #[derive(Default)]
    struct FormulaSniffer {
        formulas: bool,
        shared: bool,
        /// The bytes of the last write, after the end of the one before (a marker may be split
        /// between two writes).
        window: Vec<u8>,
    }

    impl FormulaSniffer {
        /// Starts another part.
        fn next_part(&mut self) {
            self.window.clear();
        }
    }

    impl std::io::Write for FormulaSniffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let seen = self.window.len().saturating_sub(b"shared".len());
            self.window.drain(..seen);
            self.window.extend_from_slice(buf);
            let xml = &self.window;
            self.formulas = self.formulas
                || memchr::memmem::find_iter(xml, b"f").any(|i| {
                    i > 0
                        && matches!(xml[i - 1], b'<' | b':')
                        && matches!(xml.get(i + 1), Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n'))
                });
            self.shared = self.shared || memchr::memmem::find(xml, b"shared").is_some();
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The cells of the first worksheet (a grid refused with one error when they cannot be
    /// read); `Err` beyond the row limit.
    fn read_cells(bytes: &[u8], max_rows: usize, formulas: bool) -> Result<Grid, crate::error::ApiError> {
        let refused = |error| Ok(Grid::refused(vec![error]));
        let mut workbook = match Xlsx::new(Cursor::new(bytes)) {
            Ok(w) => w,
            Err(e) => return refused(unreadable(e)),
        };
        let Some(sheet) = workbook
            .sheets_metadata()
            .iter()
            .find(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
        else {
            return refused(unreadable("it has no worksheet"));
        };
        let max_line = max_rows as u64 + 1;

        // The values, by row and column; empty cells are skipped, so empty rows never appear,
        // and a cell written twice counts once.
        let mut rows: BTreeMap<u32, BTreeMap<u32, RawCell>> = BTreeMap::new();
        let mut text_bytes = 0;
        {
            let mut cells = match workbook.worksheet_cells_reader(&sheet) {
                Ok(c) => c,
                Err(e) => return refused(unreadable(e)),
            };
            loop {
                let cell = match cells.next_cell() {
                    Ok(Some(cell)) => cell,
                    Ok(None) => break,
                    Err(e) => return refused(unreadable(e)),
                };
                let Some(value) = raw_cell(cell.get_value()) else {
                    continue;
                };
                let (row, column) = cell.get_position();
                if column >= MAX_COLUMNS {
                    return refused(too_wide(&sheet, row, column));
                }
                if row as u64 + 1 > max_line {
                    return Err(crate::error::ApiError::TooManyRows { max: max_rows });
                }
                text_bytes += match &value {
                    RawCell::Text(s) | RawCell::Number(s) | RawCell::ErrorValue(s) => s.len(),
                    RawCell::Formula => 0,
                };
                if text_bytes > MAX_TEXT_BYTES {
                    return refused(problem(
                        "workbook_too_large",
                        text!(
                            "the cells hold more than the {} MiB of text an import reads",
                            "单元格中的文字超过导入读取的上限 {} MiB",
                            MAX_TEXT_BYTES >> 20
                        ),
                    ));
                }
                rows.entry(row).or_default().insert(column, value);
            }
        }

        // Formulas, read in a second pass (calamine gives values and formulas apart), up to
        // the last row holding a value: each is refused where a value would be read.
        if let Some(&last_row) = rows.keys().next_back().filter(|_| formulas) {
            let mut cells = match workbook.worksheet_cells_reader(&sheet) {
                Ok(c) => c,
                Err(e) => return refused(unreadable(e)),
            };
            loop {
                let cell = match cells.next_formula() {
                    Ok(Some(cell)) => cell,
                    Ok(None) => break,
                    Err(e) => return refused(unreadable(e)),
                };
                let (row, column) = cell.get_position();
                if row > last_row {
                    break;
                }
                if !cell.get_value().is_empty() && column < MAX_COLUMNS {
                    rows.entry(row).or_default().insert(column, RawCell::Formula);
                }
            }
        }

        let mut rows = rows.into_iter().map(|(row, cells)| RawRow {
            line: row as u64 + 1,
            cells: cells.into_iter().collect(),
        });
        let header = rows.next().unwrap_or(RawRow {
            line: 1,
            cells: Vec::new(),
        });
        Ok(Grid {
            sheet: Some(sheet),
            header: Some(header),
            rows: rows.collect(),
            errors: Vec::new(),
        })
    }

    fn too_wide(sheet: &str, row: u32, column: u32) -> FieldError {
        let mut e = problem(
            "too_many_columns",
            text!(
                "holds data beyond the {MAX_COLUMNS} columns an import reads (A to BL): delete what is there",
                "超出导入读取的 {MAX_COLUMNS} 列（A 至 BL）：请删除该处内容"
            ),
        );
        e.line = Some(row as u64 + 1);
        e.sheet = Some(sheet.to_owned());
        e.cell = Some(cell_name(row, column));
        e
    }

    /// A cell as the text the imports' validators read, `None` when empty: text trimmed,
    /// booleans `true`/`false`, whole numbers without `.0`, dates `YYYY-MM-DD`. Numbers (dates
    /// included: Excel stores them as numbers) stay marked as such for text-only columns.
    fn raw_cell(value: &DataRef<'_>) -> Option<RawCell> {
        let text = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| RawCell::Text(s.to_owned()))
        };
        match value {
            DataRef::Empty => None,
            DataRef::String(s) | DataRef::DurationIso(s) => text(s),
            DataRef::SharedString(s) => text(s),
            // `t="d"`: an ISO 8601 date or date-time; the date is what imports read.
            DataRef::DateTimeIso(s) => {
                let date = s
                    .get(..10)
                    .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
                text(date.unwrap_or(s))
            }
            DataRef::Bool(b) => Some(RawCell::Text(b.to_string())),
            DataRef::Int(i) => Some(RawCell::Number(i.to_string())),
            DataRef::Float(f) => Some(RawCell::Number(number(*f))),
            DataRef::DateTime(d) => {
                // Serial days since 1900 (or 1904); from year 10000 on it is no date Excel shows.
                let serial = d.as_f64();
                if d.is_datetime() && (0.0..2_958_466.0).contains(&serial) {
                    let (year, month, day, ..) = d.to_ymd_hms_milli();
                    Some(RawCell::Number(format!("{year:04}-{month:02}-{day:02}")))
                } else {
                    Some(RawCell::Number(number(serial)))
                }
            }
            DataRef::Error(e) => Some(RawCell::ErrorValue(e.to_string())),
        }
    }

    /// A number as typed: `4`, `2014`, `13812345678`, `0.5`.
    fn number(f: f64) -> String {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", f as i64)
        } else {
            format!("{f}")
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn formulas_are_sniffed_even_split_between_writes() {
            use std::io::Write;
            let sniff = |chunks: &[&str]| {
                let mut s = FormulaSniffer::default();
                for c in chunks {
                    s.write_all(c.as_bytes()).unwrap();
                }
                (s.formulas, s.shared)
            };
            assert_eq!(sniff(&[r#"<c r="A2"><f>1+1</f><v>2</v></c>"#]), (true, false));
            assert_eq!(sniff(&[r#"<c r="A3"><f t="shared" si="0"/></c>"#]), (true, true));
            assert_eq!(sniff(&["<c><x:f>A1</x:f></c>"]), (true, false));
            assert_eq!(sniff(&["<c><", "f>A1</f></c>"]), (true, false));
            assert_eq!(sniff(&["<c><f", ">A1</f></c>"]), (true, false));
            assert_eq!(sniff(&["<f t=\"sha", "red\"/>"]), (true, true));
            let plain = r#"<worksheet xmlns="http://schemas.openxmlformats.org/"><row/><c r="F2" t="s"><v>1</v></c>"#;
            assert_eq!(sniff(&[plain]), (false, false));
            assert_eq!(sniff(&["<row/>", "<row/>"]), (false, false));
        }

        #[test]
        fn numbers_read_as_typed() {
            assert_eq!(number(4.0), "4");
            assert_eq!(number(13_812_345_678.0), "13812345678");
            assert_eq!(number(-2.0), "-2");
            assert_eq!(number(0.5), "0.5");
        }
    }
}
