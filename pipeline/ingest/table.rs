//! Reading one input file into grids of cells: what the bytes really are (a workbook, CSV text in
//! any of the encodings bureaus use, tab-separated "Unicode text", or something else that only
//! looks like one), and every sheet of a workbook as sparse rows.

pub use super::grid::{format_number, Cell, Grid};
use super::problem::{Loc, Problems};
use super::textfile::{decode_text, sniff_delimiter, TextTable};
use super::workbooks::read_workbook;

#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Csv { encoding: &'static str, delimiter: u8 },
    Workbook,
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Csv { encoding, delimiter: b'\t' } => format!("tab-separated text ({encoding})"),
            Format::Csv { encoding, .. } => format!("csv ({encoding})"),
            Format::Workbook => "workbook".into(),
        }
    }
}

const WORKBOOK_EXTENSIONS: [&str; 4] = [".xlsx", ".xlsm", ".xls", ".ods"];

/// Whether a file name is one cimon reads (the rest are named in a warning, never skipped silently).
pub fn is_table_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    !lower.starts_with("~$")
        && !lower.starts_with('.')
        && [".csv", ".txt"].iter().chain(&WORKBOOK_EXTENSIONS).any(|e| lower.ends_with(e))
}

/// What the bytes are, whatever the name says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Content {
    Empty,
    Zip,
    /// An OLE compound file: an .xls, or an encrypted (password-protected) .xlsx.
    Compound {
        encrypted: bool,
    },
    /// A web page: what many systems export as ".xls".
    Html,
    /// Excel's "XML 电子表格 2003".
    Xml2003,
    Text,
}

fn sniff(bytes: &[u8]) -> Content {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Content::Empty;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // The directory entry of an encrypted OOXML package (MS-OFFCRYPTO), in UTF-16LE.
        let name: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
        return Content::Compound { encrypted: bytes.windows(name.len()).any(|w| w == name) };
    }
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        if head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
            return Content::Xml2003;
        }
        if head.contains("<html") || head.contains("<table") || head.contains("<!doctype") {
            return Content::Html;
        }
    }
    Content::Text
}

/// What a file holds: the sheets of a workbook, or one table of text read row by row (a CSV of
/// millions of rows never becomes one grid).
pub enum Tables<'a> {
    Sheets(Vec<Grid>),
    Text(TextTable<'a>),
}

/// Read a file's bytes into grids, or None when it cannot be read; every problem goes to
/// `problems` with the file (and sheet, row, column where there is one).
pub fn read<'a>(name: &str, bytes: &'a [u8], problems: &mut Problems) -> Option<(Format, Tables<'a>)> {
    let lower = name.to_lowercase();
    let workbook_name = WORKBOOK_EXTENSIONS.iter().any(|e| lower.ends_with(e));
    let at = || Loc::file(name);
    match sniff(bytes) {
        Content::Empty => {
            problems.error(
                "empty_file",
                at(),
                "the file is empty: it holds no data at all; ask for it to be sent again",
                "文件是空的，没有任何内容：请重新报送",
            );
            None
        }
        Content::Html => {
            problems.error(
                "html_not_workbook",
                at(),
                "is a web page (HTML) with a workbook's name, not a workbook: open it in Excel and save it as \
                 \"Excel 工作簿 (*.xlsx)\"",
                "这是网页（HTML）文件，只是名字像 Excel 表格：请用 Excel 打开，另存为“Excel 工作簿 (*.xlsx)”后重新报送",
            );
            None
        }
        Content::Xml2003 => {
            problems.error(
                "xml_workbook",
                at(),
                "is an \"XML 电子表格 2003\" file, which cimon does not read: open it in Excel and save it as \
                 \"Excel 工作簿 (*.xlsx)\"",
                "这是“XML 电子表格 2003”格式，无法读取：请用 Excel 打开，另存为“Excel 工作簿 (*.xlsx)”后重新报送",
            );
            None
        }
        Content::Compound { encrypted: true } => {
            problems.error(
                "password_protected",
                at(),
                "is password-protected (加密): open it in Excel, remove the password (文件 → 信息 → 保护工作簿 → \
                 用密码进行加密, clear it), save, and send it again",
                "文件设置了打开密码：请用 Excel 打开，在“文件 → 信息 → 保护工作簿 → 用密码进行加密”中删除密码，保存后重新报送",
            );
            None
        }
        Content::Zip | Content::Compound { .. } => {
            if !workbook_name {
                problems.warning(
                    "workbook_named_as_text",
                    at(),
                    "is a workbook with a text file's name; read as a workbook: rename it to .xlsx",
                    "这是 Excel 工作簿，但文件名后缀不是 .xlsx；已按工作簿读取，请把后缀改为 .xlsx",
                );
            }
            let grids = read_workbook(name, bytes, problems)?;
            Some((Format::Workbook, Tables::Sheets(grids)))
        }
        Content::Text => {
            if workbook_name {
                problems.warning(
                    "text_named_as_workbook",
                    at(),
                    "is text (CSV), not a workbook, though its name says so; read as CSV: rename it to .csv",
                    "这是文本（CSV）文件，不是 Excel 工作簿；已按 CSV 读取，请把后缀改为 .csv",
                );
            }
            let (text, encoding) = match decode_text(bytes) {
                Ok(x) => x,
                Err(e) => {
                    problems.error(
                        "unreadable",
                        at(),
                        e,
                        "文件编码无法识别（既不是 UTF-8 也不是 GBK）：请另存为 UTF-8 编码的 CSV 或 Excel 工作簿",
                    );
                    return None;
                }
            };
            let delimiter = sniff_delimiter(&text);
            if lower.ends_with(".txt") && delimiter != b'\t' {
                problems.warning(
                    "not_a_table",
                    at(),
                    "a text file that is not tab-separated (Excel's \"Unicode 文本\"): not read; save the table as CSV \
                     or as a workbook",
                    "这是文本文件，但不是制表符分隔的表格：未读取；如有数据，请另存为 CSV 或 Excel 工作簿",
                );
                return None;
            }
            if lower.ends_with(".txt") {
                problems.warning(
                    "text_as_table",
                    at(),
                    format!("a text file, read as a tab-separated table ({encoding}, as Excel saves \"Unicode 文本\")"),
                    "这是文本文件，已按制表符分隔的表格读取（Excel“Unicode 文本”格式）；建议报送 Excel 工作簿或 CSV",
                );
            }
            Some((Format::Csv { encoding, delimiter }, Tables::Text(TextTable { text, delimiter })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_bytes_are_decides_not_the_name() {
        assert_eq!(sniff(b""), Content::Empty);
        assert_eq!(sniff(b"  \n"), Content::Empty);
        assert_eq!(sniff(b"PK\x03\x04rest"), Content::Zip);
        assert_eq!(sniff(b"\xef\xbb\xbf<html><body><table>"), Content::Html);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">"),
            Content::Xml2003
        );
        assert_eq!(sniff("代码,值\n".as_bytes()), Content::Text);
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        assert_eq!(sniff(&ole), Content::Compound { encrypted: false });
        ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(sniff(&ole), Content::Compound { encrypted: true });
    }
}
