//! Text conventions of bureau files: full-width forms, units in brackets, numbers stored as text.

/// The language of reports (names from `name_zh`/`name_en`, labels from `labels.toml`) and of
/// the ingest's messages for the clerks who read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Fold full-width ASCII forms (Ａ１（）％) to half-width and the ideographic space to a space.
pub fn to_half_width(s: &str) -> String {
    s.chars().map(half_width).collect()
}

fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '【' => '[',
        '】' => ']',
        _ => c,
    }
}

/// The characters of `normalise_key(s)`, without building it.
fn key_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().map(half_width).filter(|c| !c.is_whitespace() && *c != '\u{feff}').map(|c| c.to_ascii_lowercase())
}

/// The key under which names, headers and units are compared: half-width, no whitespace, ASCII lowercased.
pub fn normalise_key(s: &str) -> String {
    key_chars(s).collect()
}

/// `normalise_key(s) == key` for a `key` already normalised, without an allocation (it is asked
/// for every row of a table).
pub fn key_is(s: &str, key: &str) -> bool {
    key_chars(s).eq(key.chars())
}

/// `key.starts_with(&normalise_key(prefix))` for a `key` already normalised, without an allocation.
pub fn key_starts_with(key: &str, prefix: &str) -> bool {
    let mut k = key.chars();
    key_chars(prefix).all(|c| k.next() == Some(c))
}

/// Split `技术合同成交额（亿元）` into (`技术合同成交额`, Some(`亿元`)).
/// Only a bracketed suffix counts as a unit: `R&D经费投入强度(R&D/GDP)` keeps its bracket
/// when the caller finds no such unit, so the caller decides with `name_with_bracket`.
pub fn split_header(raw: &str) -> HeaderParts {
    let s = to_half_width(raw).trim().trim_matches('\u{feff}').to_string();
    let s = s.replace(['\n', '\r'], "");
    if let Some(stripped) = s.strip_suffix(')').or_else(|| s.strip_suffix(']')) {
        let close = s.chars().last().unwrap();
        let open = if close == ')' { '(' } else { '[' };
        if let Some(pos) = stripped.rfind(open) {
            let name = stripped[..pos].trim().to_string();
            let mut unit = stripped[pos + open.len_utf8()..].trim().to_string();
            if let Some(u) = unit.strip_prefix("单位:").or_else(|| unit.strip_prefix("单位")) {
                unit = u.trim().to_string();
            }
            if !name.is_empty() {
                return HeaderParts { full: s.clone(), name, unit: Some(unit) };
            }
        }
    }
    HeaderParts { full: s.clone(), name: s, unit: None }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeaderParts {
    /// The whole header, half-width and trimmed.
    pub full: String,
    /// The header without a trailing bracket.
    pub name: String,
    /// The bracketed suffix, if any.
    pub unit: Option<String>,
}

/// What a data cell holds.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Number(f64),
    /// Blank, 空白, —, - and similar: the county reported no data.
    Missing,
    NotANumber,
}

/// Spellings of "no data" seen in bureau sheets.
const MISSING: &[&str] = &[
    "",
    "-",
    "--",
    "---",
    "—",
    "——",
    "–",
    "－",
    "空白",
    "空",
    "/",
    "／",
    "…",
    "...",
    "na",
    "n/a",
    "null",
    "无数据",
    "暂无",
    "暂无数据",
    "x",
    "×",
];

/// Parse a cell as the bureaus write numbers: text digits, thousands separators, full-width digits.
/// `percent_ok` allows a trailing % (only in a column already in percent).
pub fn parse_number(raw: &str, percent_ok: bool) -> CellValue {
    let s = to_half_width(raw);
    let s = s.trim().trim_matches('\u{feff}');
    if MISSING.contains(&s.to_lowercase().as_str()) {
        return CellValue::Missing;
    }
    let mut t: String = s.chars().filter(|c| !c.is_whitespace() && *c != ',' && *c != '，').collect();
    if percent_ok {
        if let Some(p) = t.strip_suffix('%') {
            t = p.to_string();
        }
    }
    // Rust accepts "inf", "nan" and "1e5"; a bureau cell with those is a mistake, not a number.
    let plain = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && t.chars().any(|c| c.is_ascii_digit());
    match t.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => CellValue::Number(v),
        _ => CellValue::NotANumber,
    }
}

/// Excel column letters for a 0-based index: 0 → A, 27 → AB.
pub fn column_letter(mut idx: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (idx % 26) as u8);
        if idx < 26 {
            break;
        }
        idx = idx / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// A four-digit year 1990–2099 standing alone in a file or sheet name (`2019年`, `data_2021.csv`).
pub fn year_in_name(name: &str) -> Option<i32> {
    let chars: Vec<char> = to_half_width(name).chars().collect();
    let mut found = None;
    for w in 0..chars.len().saturating_sub(3) {
        let window: String = chars[w..w + 4].iter().collect();
        let before = w.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(w + 4).copied();
        let isolated = !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit());
        if isolated && window.chars().all(|c| c.is_ascii_digit()) {
            let y: i32 = window.parse().unwrap();
            if (1990..=2099).contains(&y) {
                if found.is_some_and(|f| f != y) {
                    return None; // two different years: ambiguous, let the caller ask for a column
                }
                found = Some(y);
            }
        }
    }
    found
}

/// The data year a file name, sheet name or title states: like `year_in_name`, but a date
/// (`2024年3月`, `2024-03-15`, `2024.3`) is when the file was made or sent, not the data year.
pub fn data_year_in(text: &str) -> Option<i32> {
    let half = to_half_width(text);
    let chars: Vec<char> = half.chars().collect();
    let mut kept = String::with_capacity(half.len());
    let mut i = 0;
    while i < chars.len() {
        let four = i + 4 <= chars.len()
            && chars[i..i + 4].iter().all(|c| c.is_ascii_digit())
            && !i.checked_sub(1).is_some_and(|p| chars[p].is_ascii_digit())
            && !chars.get(i + 4).is_some_and(|c| c.is_ascii_digit());
        if four {
            // After the year: a separator, one or two digits of a month, and 月 or another separator.
            let sep = chars.get(i + 4).copied();
            let digits = chars.iter().skip(i + 5).take_while(|c| c.is_ascii_digit()).count();
            let after = chars.get(i + 5 + digits).copied();
            let month = (1..=2).contains(&digits)
                && match sep {
                    Some('年') => after == Some('月'),
                    Some('-' | '.' | '/') => true,
                    _ => false,
                };
            if month {
                i += 5 + digits;
                kept.push(' ');
                continue;
            }
        }
        kept.push(chars[i]);
        i += 1;
    }
    year_in_name(&kept)
}

/// A TOML error on one line, with the key's path when the line has one:
/// `line 2, column 1 (output.dri): unknown field `dri`, expected `dir``.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let key = key_path(text, line).map_or(String::new(), |k| format!(" ({k})"));
            format!("line {line}, column {column}{key}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

/// `section.key` of a `key = value` line (1-based), from the nearest `[section]` above it.
fn key_path(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?.trim();
    let key = here.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
        return None;
    }
    let section = lines[..line - 1].iter().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[').then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    });
    Some(match section {
        Some(s) => format!("{s}.{key}"),
        None => key.to_string(),
    })
}

/// The sha256 of bytes, as the hex the run records and reports print.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Decimals that keep about four significant digits (0 above 1,000; 3 below 1); whole numbers
/// (counts) print without decimals.
fn auto_digits(x: f64) -> usize {
    if x.fract() == 0.0 {
        return 0;
    }
    match x.abs() {
        a if a >= 1000.0 => 0,
        a if a >= 100.0 => 1,
        a if a >= 1.0 => 2,
        0.0 => 0,
        _ => 3,
    }
}

/// Fixed decimals, thousands separators, and a true minus sign.
pub fn fmt_fixed(x: f64, digits: usize, plus: bool) -> String {
    let s = format!("{:.*}", digits, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let zero = s.chars().all(|c| c == '0' || c == '.');
    let sign = if x < 0.0 && !zero {
        "−"
    } else if plus && !zero {
        "+"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

pub fn fmt_num(x: Option<f64>, digits: Option<usize>) -> String {
    match x {
        Some(x) => fmt_fixed(x, digits.unwrap_or_else(|| auto_digits(x)), false),
        None => "—".into(),
    }
}

pub fn fmt_signed(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(x) => fmt_fixed(x, digits, true),
        None => "—".into(),
    }
}

/// Decimals to which a score is rounded before it is ranked, so that scores equal in exact
/// arithmetic (33.979999999999997 and 33.980000000000004) share a rank.
pub const RANK_DECIMALS: i32 = 9;

/// A value as ranks compare it: rounded to `RANK_DECIMALS` decimals (values of a million and
/// more, whose float spacing is close to that, as they are).
pub fn for_ranking(x: f64) -> f64 {
    if x.abs() < 1e6 {
        let scale = 10f64.powi(RANK_DECIMALS);
        (x * scale).round() / scale
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_as_normalise_key_would_without_building_them() {
        for (s, key) in [
            ("Ｔｏｔａｌ", "total"),
            ("合 计", "合计"),
            ("\u{feff}单位", "单位"),
            ("【注】", "[注]"),
            ("合\u{3000}计", "合计"),
        ] {
            assert_eq!(normalise_key(s), key);
            assert!(key_is(s, key), "{s:?}");
        }
        assert!(!key_is("合计x", "合计") && !key_is("合", "合计") && !key_is("小计", "合计"));
        assert!(key_starts_with("注:本表为示例", "注") && key_starts_with("数据来源:统计局", "数据 来源"));
        assert!(!key_starts_with("注", "注释") && !key_starts_with("说明", "注"));
        assert!(key_starts_with("total", "ＴＯＴ"));
    }

    #[test]
    fn a_date_in_a_name_is_not_its_data_year() {
        assert_eq!(data_year_in("2023年县域创新监测（2024年3月报送）.xlsx"), Some(2023));
        assert_eq!(data_year_in("县域创新_2024-03-15.xlsx"), None);
        assert_eq!(data_year_in("2023年数据_报送2024.3.xlsx"), Some(2023));
        assert_eq!(data_year_in("2024年_荆门市.csv"), Some(2024));
        assert_eq!(data_year_in("2015-2016_长表.csv"), None, "two years");
    }

    #[test]
    fn headers_split_half_and_full_width() {
        let h = split_header("技术合同成交额（亿元）");
        assert_eq!((h.name.as_str(), h.unit.as_deref()), ("技术合同成交额", Some("亿元")));
        let h = split_header(" 技术合同成交额(万元) ");
        assert_eq!((h.name.as_str(), h.unit.as_deref()), ("技术合同成交额", Some("万元")));
        let h = split_header("专利授权量【件】");
        assert_eq!(h.unit.as_deref(), Some("件"));
        let h = split_header("高新技术企业数（单位：家）");
        assert_eq!(h.unit.as_deref(), Some("家"));
        assert_eq!(split_header("专利授权量").unit, None);
    }

    #[test]
    fn numbers_as_bureaus_write_them() {
        assert_eq!(parse_number("1,234.5", false), CellValue::Number(1234.5));
        assert_eq!(parse_number(" １２３ ", false), CellValue::Number(123.0));
        assert_eq!(parse_number("—", false), CellValue::Missing);
        assert_eq!(parse_number("空白", false), CellValue::Missing);
        assert_eq!(parse_number("", false), CellValue::Missing);
        assert_eq!(parse_number("2.5%", true), CellValue::Number(2.5));
        assert_eq!(parse_number("2.5%", false), CellValue::NotANumber);
        assert_eq!(parse_number("约30", false), CellValue::NotANumber);
        assert_eq!(parse_number("inf", false), CellValue::NotANumber);
        assert_eq!(parse_number("-3", false), CellValue::Number(-3.0));
    }

    #[test]
    fn column_letters_and_years() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!([701, 702, 16_383].map(column_letter), ["ZZ", "AAA", "XFD"]);
        assert_eq!(year_in_name("2019年县域创新指标.csv"), Some(2019));
        assert_eq!(year_in_name("data_2021_v2.xlsx"), Some(2021));
        assert_eq!(year_in_name("20210.csv"), None);
        assert_eq!(year_in_name("2015-2016.csv"), None);
        assert_eq!(normalise_key("ＡＢＣ 技术"), "abc技术");
    }
}
