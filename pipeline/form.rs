//! The collection forms (填报表) sent to the counties: one XLSX per prefecture from the catalog, the
//! registry and the scope, with the counties pre-filled, Excel data validation from the catalog's
//! bounds, last year's stored values beside them, and the instructions; a filled form ingests
//! as it is.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet, XlsxError,
};

use crate::catalog::{Catalog, Indicator, Kind};
use crate::ingest::NOT_DATA;
use crate::regions::{Region, Registry};
use crate::scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("no county of {what} is valid in {year} in the registry {registry}")]
    NoCounties { what: String, year: i32, registry: PathBuf },
    #[error(
        "no prefecture to make forms for: give --prefecture CODE (or name), set [scope] provinces or prefectures in \
         the config, or ingest last year's data first (forms go to the prefectures in the store)"
    )]
    NoPrefecture,
    #[error("prefecture {0:?} is not in the registry {1}")]
    UnknownPrefecture(String, PathBuf),
    #[error("cannot write form {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// Which forms to write.
pub struct FormRequest<'a> {
    pub year: i32,
    /// The counties of these prefectures (codes) [default: every prefecture in the scope].
    pub prefectures: Vec<String>,
    /// One workbook for all of them instead of one per prefecture.
    pub single: bool,
    /// Last year's values: (county code, indicator code) → value.
    pub last_year: &'a HashMap<(String, String), Option<f64>>,
}

/// A written form: its file and the counties in it.
pub struct Written {
    pub path: PathBuf,
    pub counties: usize,
}

/// The prefecture a form's code or name names.
pub fn prefecture_code(registry: &Registry, given: &str) -> Result<String, FormError> {
    let given = given.trim();
    registry
        .regions
        .iter()
        .find(|r| r.prefecture_code == given || r.prefecture_name == given)
        .map(|r| r.prefecture_code.clone())
        .ok_or_else(|| FormError::UnknownPrefecture(given.to_string(), registry.path.clone()))
}

/// The counties of the request valid in its year, by prefecture (code order).
pub fn counties<'r>(
    registry: &'r Registry,
    scope: &Scope,
    year: i32,
    prefectures: &[String],
) -> BTreeMap<(&'r str, &'r str), Vec<&'r Region>> {
    let mut by: BTreeMap<(&str, &str), Vec<&Region>> = BTreeMap::new();
    for r in registry.valid_in(year) {
        if prefectures.contains(&r.prefecture_code) && scope.contains(registry, r) {
            by.entry((r.prefecture_code.as_str(), r.prefecture_name.as_str())).or_default().push(r);
        }
    }
    for v in by.values_mut() {
        v.sort_by(|a, b| a.code.cmp(&b.code));
    }
    by
}

/// Write the forms into `dir`.
pub fn write(
    dir: &Path,
    req: &FormRequest,
    catalog: &Catalog,
    registry: &Registry,
    scope: &Scope,
) -> Result<Vec<Written>, FormError> {
    let by = counties(registry, scope, req.year, &req.prefectures);
    if by.is_empty() {
        return Err(FormError::NoCounties {
            what: req.prefectures.join(", "),
            year: req.year,
            registry: registry.path.clone(),
        });
    }
    let groups: Vec<(String, Vec<&Region>)> = if req.single {
        // Named after the province when all the counties are in one.
        let provinces: std::collections::BTreeSet<&str> =
            by.values().flatten().map(|r| r.province_name.as_str()).collect();
        let title = match provinces.iter().next() {
            Some(p) if provinces.len() == 1 => p.to_string(),
            _ => "各地".to_string(),
        };
        vec![(title, by.values().flatten().copied().collect())]
    } else {
        by.iter().map(|((_, name), v)| (name.to_string(), v.clone())).collect()
    };
    let write_err = |path: &Path, e: String| FormError::Write { path: path.to_owned(), message: e };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e.to_string()))?;
    let mut written = Vec::new();
    for (area, regions) in groups {
        let path = dir.join(format!("{}年_{area}_县域创新监测填报表.xlsx", req.year));
        let mut wb = build(&area, &regions, req, catalog).map_err(|e| write_err(&path, e.to_string()))?;
        wb.save(&path).map_err(|e| write_err(&path, e.to_string()))?;
        written.push(Written { path, counties: regions.len() });
    }
    Ok(written)
}

/// The column header a form uses: 名称（单位）, which the ingest reads back as the indicator.
pub fn header(ind: &Indicator) -> String {
    format!("{}（{}）", ind.name_zh, ind.unit)
}

/// What the cells of an indicator accept, in Excel's terms and in words.
fn rule(ind: &Indicator) -> (DataValidation, String) {
    let [lo, hi] = ind.hard_bounds();
    let v = DataValidation::new();
    if ind.kind == Kind::Count && lo.fract() == 0.0 {
        let lo = lo as i32;
        return if hi.is_finite() {
            (v.allow_whole_number(DataValidationRule::Between(lo, hi as i32)), format!("{lo}～{hi} 的整数"))
        } else {
            (v.allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(lo)), format!("不小于 {lo} 的整数"))
        };
    }
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (v.allow_decimal_number(DataValidationRule::Between(lo, hi)), format!("{lo}～{hi} 之间的数")),
        (true, false) => {
            (v.allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(lo)), format!("不小于 {lo} 的数"))
        }
        (false, true) => {
            (v.allow_decimal_number(DataValidationRule::LessThanOrEqualTo(hi)), format!("不大于 {hi} 的数"))
        }
        (false, false) => (v.allow_any_value(), "数值".to_string()),
    }
}

/// At most `n` characters (Excel's limits on validation messages).
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

struct Formats {
    title: Format,
    header: Format,
    code: Format,
    input: Format,
    note: Format,
    wrap: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center),
        header: border(
            Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Center).set_background_color("DDEBF7"),
        ),
        code: border(Format::new().set_num_format("@")),
        input: border(Format::new().set_background_color("FFF9E5")),
        note: Format::new().set_italic().set_font_color("595959"),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
    }
}

/// The header rows shared by the form and the reference sheet: title, the hidden code row, the
/// headers. Returns the first data row.
fn head(ws: &mut Worksheet, f: &Formats, title: &str, catalog: &Catalog) -> Result<u32, XlsxError> {
    let last = catalog.indicators.len() as u16 + 1;
    ws.merge_range(0, 0, 0, last.min(12), title, &f.title)?;
    // Codes for machines, above the headers and hidden: the first two cells stay empty so that
    // this row is never taken for the header.
    for (i, ind) in catalog.indicators.iter().enumerate() {
        ws.write_string(1, i as u16 + 2, &ind.code)?;
    }
    ws.set_row_hidden(1)?;
    ws.write_string_with_format(2, 0, "区划代码", &f.header)?;
    ws.write_string_with_format(2, 1, "县（市、区）", &f.header)?;
    ws.set_column_width(0, 10)?;
    ws.set_column_width(1, 12)?;
    for (i, ind) in catalog.indicators.iter().enumerate() {
        ws.write_string_with_format(2, i as u16 + 2, header(ind), &f.header)?;
        ws.set_column_width(i as u16 + 2, 14)?;
    }
    ws.set_row_height(2, 60)?;
    ws.set_freeze_panes(3, 2)?;
    Ok(3)
}

fn build(area: &str, regions: &[&Region], req: &FormRequest, catalog: &Catalog) -> Result<Workbook, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    let year = req.year;

    // 填报表.
    let ws = wb.add_worksheet().set_name(format!("{year}年填报表"))?;
    let first = head(ws, &f, &format!("{area}{year}年县域创新能力监测数据填报表"), catalog)?;
    for (n, r) in regions.iter().enumerate() {
        let row = first + n as u32;
        ws.write_string_with_format(row, 0, &r.code, &f.code)?;
        ws.write_string_with_format(row, 1, &r.name, &f.code)?;
        for c in 0..catalog.indicators.len() {
            ws.write_blank(row, c as u16 + 2, &f.input)?;
        }
    }
    let last_row = first + regions.len() as u32 - 1;
    for (i, ind) in catalog.indicators.iter().enumerate() {
        let (v, words) = rule(ind);
        let definition = ind.definition.as_deref().unwrap_or("按统计部门口径");
        let v = v
            .set_input_title(cut(&ind.name_zh, 32))?
            .set_input_message(cut(
                &format!("单位：{}。口径：{definition}。填写{words}；无数据请留空。", ind.unit),
                255,
            ))?
            .set_error_title("填写有误")?
            .set_error_message(cut(
                &format!("“{}”应填写{words}（单位：{}）；无数据请留空。", ind.name_zh, ind.unit),
                255,
            ))?
            .set_error_style(DataValidationErrorStyle::Stop);
        ws.add_data_validation(first, i as u16 + 2, last_row, i as u16 + 2, &v)?;
    }
    ws.write_string_with_format(
        last_row + 2,
        0,
        "单位负责人：　　　　　统计负责人：　　　　　填表人：　　　　　联系电话：　　　　　报出日期：　　年　　月　　日",
        &f.note,
    )?;

    // 上年数据: what the store holds for last year, to check against.
    let ws = wb.add_worksheet().set_name(format!("{}年数据（对照）", year - 1))?;
    let first =
        head(ws, &f, &format!("{NOT_DATA}：{area}{}年已入库数据，仅供填报时对照，请勿在此填写", year - 1), catalog)?;
    let mut any = false;
    for (n, r) in regions.iter().enumerate() {
        let row = first + n as u32;
        ws.write_string_with_format(row, 0, &r.code, &f.code)?;
        ws.write_string_with_format(row, 1, &r.name, &f.code)?;
        for (i, ind) in catalog.indicators.iter().enumerate() {
            if let Some(Some(v)) = req.last_year.get(&(r.code.clone(), ind.code.clone())) {
                ws.write_number(row, i as u16 + 2, *v)?;
                any = true;
            }
        }
    }
    if !any {
        ws.write_string_with_format(
            first + regions.len() as u32 + 1,
            0,
            format!("（库中没有 {} 年的数据）", year - 1),
            &f.note,
        )?;
    }

    // 填表说明.
    let ws = wb.add_worksheet().set_name("填表说明")?;
    ws.write_string_with_format(0, 0, format!("{NOT_DATA}：填表说明"), &f.title)?;
    let notes = [
        format!("1. 请在“{year}年填报表”工作表的黄色单元格中填写 {year} 年数据，每个县（市、区）一行；不要增删行列，不要修改区划代码、名称和表头。"),
        "2. 按表头括号中的计量单位填写数字，不要在单元格中写单位、文字或百分号；比重类指标填百分数的数值（如 12.5 表示 12.5%）。".to_string(),
        "3. 暂无数据的单元格请留空，不要填 0；确为 0 的才填 0。".to_string(),
        format!("4. 选中单元格时会显示该指标的统计口径和取值要求；不符合要求的数值无法录入。可在“{}年数据（对照）”工作表核对上年数据，变化较大的请在报送时说明原因。", year - 1),
        "5. 如需在表外补充说明，请写在表格下方以“注：”开头的行中。填好后保存为 .xlsx 文件报送，不要另存为其他格式或加密。".to_string(),
    ];
    for (i, n) in notes.iter().enumerate() {
        ws.merge_range(i as u32 + 2, 0, i as u32 + 2, 4, n, &f.wrap)?;
        ws.set_row_height(i as u32 + 2, 36)?;
    }
    let top = notes.len() as u32 + 3;
    for (c, (h, w)) in [("指标", 30.0), ("计量单位", 12.0), ("统计口径", 60.0), ("取值要求", 20.0), ("指标代码", 24.0)]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(top, c as u16, *h, &f.header)?;
        ws.set_column_width(c as u16, *w)?;
    }
    for (i, ind) in catalog.indicators.iter().enumerate() {
        let row = top + 1 + i as u32;
        ws.write_string_with_format(row, 0, &ind.name_zh, &f.wrap)?;
        ws.write_string_with_format(row, 1, &ind.unit, &f.wrap)?;
        ws.write_string_with_format(row, 2, ind.definition.as_deref().unwrap_or(""), &f.wrap)?;
        ws.write_string_with_format(row, 3, rule(ind).1, &f.wrap)?;
        ws.write_string_with_format(row, 4, &ind.code, &f.wrap)?;
    }
    Ok(wb)
}
