//! A table's data year: the years its title, sheet, file and folder names state (nearest first),
//! and a 年份 cell's year.

use super::SheetContext;
use crate::ingest::table::Cell;
use crate::text::data_year_in;

/// The years stated outside a 年份 column, nearest first: (what says it, in Chinese, the year).
/// Any two that differ are a conflict the caller reports.
pub(super) fn stated(
    title: &str,
    sheet: Option<&str>,
    cx: &SheetContext<'_>,
) -> Vec<(&'static str, &'static str, i32)> {
    [
        ("the title", "表格标题", data_year_in(title)),
        ("the sheet name", "工作表名称", sheet.and_then(data_year_in)),
        ("the file name", "文件名", cx.file_year),
        ("the folder name", "文件夹名称", cx.folder_year),
    ]
    .into_iter()
    .filter_map(|(w, z, y)| Some((w, z, y?)))
    .collect()
}

/// A 年份 cell's year: `2023`, `2023年`, `2023年度`, full-width digits, or a date Excel made of it
/// (2023 typed into a date-formatted column, or 2023-01-01), whose year it is.
pub(super) fn of_cell(cell: &Cell) -> Option<i32> {
    match cell {
        Cell::Date(y, ..) => Some(*y),
        cell => {
            let t = crate::text::to_half_width(&cell.text());
            let t = t.trim().trim_end_matches("年度").trim_end_matches('年').to_string();
            t.parse::<i32>().ok().filter(|y| (1990..=2099).contains(y))
        }
    }
}
