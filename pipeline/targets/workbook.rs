//! The targets as a workbook (targets.xlsx): one row per target under Chinese headers, read into
//! the same targets as the TOML file gives, each cell named by sheet, row and column when wrong.

use std::path::Path;

use super::*;

/// The workbook's columns: header spellings (the first is what `cimon` writes) → field.
const COLUMNS: &[(&[&str], &str)] = &[
    (&["编号", "目标编号", "id"], "id"),
    (&["指标", "指标代码", "指标名称", "indicator"], "indicator"),
    (&["范围", "适用范围", "区划代码", "地区", "scope"], "scope"),
    (&["类型", "目标类型", "kind"], "kind"),
    (&["比较", "比较方式", "op"], "op"),
    (&["目标值", "value"], "value"),
    (&["单位", "unit"], "unit"),
    (&["最低增速", "最低增速(%)", "min"], "min"),
    (&["最高增速", "最高增速(%)", "max"], "max"),
    (&["起始年", "基期", "start"], "start"),
    (&["目标年", "截止年", "end"], "end"),
    (&["依据", "政策原文", "source"], "source"),
    (&["文件", "政策文件", "document"], "document"),
    (&["备注", "note"], "note"),
    (&["分年度目标", "年度目标", "milestones"], "milestones"),
    (&["汇总", "汇总方式", "region"], "region"),
    (&["县占比", "share"], "share"),
    (&["基期值", "baseline"], "baseline"),
    (&["排名范围", "within"], "within"),
    (&["相对水平", "group"], "group"),
    (&["每年", "every_year"], "every_year"),
];

/// Chinese spellings of the coded cells.
fn kind_of(s: &str) -> Option<TargetKind> {
    use crate::tables::Keyed;
    Some(match s.trim() {
        "水平" | "水平目标" => TargetKind::Level,
        "增速" | "增速目标" | "年均增长" => TargetKind::Growth,
        "每年" | "年度" | "年度目标" => TargetKind::Flow,
        "累计" | "累计目标" => TargetKind::Cumulative,
        "排名" | "排名目标" | "位次" => TargetKind::Rank,
        "梯队" | "梯队目标" | "方阵" => TargetKind::Tier,
        "占比" | "县占比" | "覆盖" => TargetKind::Share,
        other => return TargetKind::from_key(other),
    })
}

/// Rows of a targets workbook (its first sheet with an 编号 header) as targets, each with its
/// place for messages; cell errors name sheet, row and column.
pub(super) fn read_workbook(path: &Path) -> Result<(Vec<Target>, Vec<String>), TargetsError> {
    use calamine::Reader;
    let wb_err = |message: String| TargetsError::Workbook { path: path.to_owned(), message };
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| wb_err(format!("cannot open it: {e}")))?;
    let mut problems = Vec::new();
    for sheet in wb.sheet_names() {
        let Ok(range) = wb.worksheet_range(&sheet) else { continue };
        let rows: Vec<Vec<String>> =
            range.rows().map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect()).collect();
        let Some(h) = rows.iter().take(10).position(|r| r.iter().any(|c| COLUMNS[0].0.contains(&c.as_str()))) else {
            continue;
        };
        let mut field_of: Vec<Option<&str>> = Vec::new();
        for (c, text) in rows[h].iter().enumerate() {
            let key = crate::text::to_half_width(text).replace(['（', '）'], "");
            let f = COLUMNS
                .iter()
                .find(|(names, _)| names.iter().any(|n| n.replace(['(', ')'], "") == key.replace(['(', ')'], "")));
            if f.is_none() && !text.is_empty() {
                problems.push(format!(
                    "sheet {sheet}, row {}, column {}: unknown column \"{text}\"",
                    h + 1,
                    crate::text::column_letter(c)
                ));
            }
            field_of.push(f.map(|x| x.1));
        }
        let mut targets = Vec::new();
        let mut places = Vec::new();
        for (r, row) in rows.iter().enumerate().skip(h + 1) {
            if row.iter().all(String::is_empty) {
                continue;
            }
            let place = format!("sheet {sheet}, row {}", r + 1);
            let cell = |field: &str| -> (String, String) {
                let c = field_of.iter().position(|f| *f == Some(field));
                let at = c.map_or(String::new(), |c| format!(", column {}", crate::text::column_letter(c)));
                (c.and_then(|c| row.get(c)).cloned().unwrap_or_default(), at)
            };
            let mut errors = Vec::new();
            let number = |(text, at): (String, String), errors: &mut Vec<String>| -> Option<f64> {
                if text.is_empty() {
                    return None;
                }
                match crate::text::parse_number(&text, true) {
                    crate::text::CellValue::Number(v) => Some(v),
                    _ => {
                        errors.push(format!("{at}: \"{text}\" is not a number"));
                        None
                    }
                }
            };
            let year = |(text, at): (String, String), errors: &mut Vec<String>| -> i32 {
                let t = text.trim_end_matches("年");
                t.parse::<f64>().ok().filter(|y| y.fract() == 0.0).map_or_else(
                    || {
                        errors.push(format!("{at}: \"{text}\" is not a year"));
                        0
                    },
                    |y| y as i32,
                )
            };
            let (kind_text, kind_at) = cell("kind");
            let kind = kind_of(&kind_text).unwrap_or_else(|| {
                errors.push(format!(
                    "{kind_at}: unknown type \"{kind_text}\" (水平, 增速, 每年, 累计, 排名, 梯队 or 占比)"
                ));
                TargetKind::Level
            });
            let (op_text, op_at) = cell("op");
            let op = (!op_text.is_empty()).then(|| Op::parse(&op_text)).and_then(|o| {
                if o.is_none() {
                    errors.push(format!("{op_at}: unknown comparison \"{op_text}\" (≥, >, ≤ or <)"));
                }
                o
            });
            let (ms_text, ms_at) = cell("milestones");
            let mut milestones = BTreeMap::new();
            for part in ms_text.split(['；', ';', '，', ',']).map(str::trim).filter(|p| !p.is_empty()) {
                match part
                    .split_once([':', '：'])
                    .map(|(y, v)| (y.trim().trim_end_matches('年'), crate::text::parse_number(v, true)))
                {
                    Some((y, crate::text::CellValue::Number(v))) => {
                        milestones.insert(y.to_string(), v);
                    }
                    _ => errors.push(format!("{ms_at}: milestone \"{part}\" is not year:value (2021:2.3)")),
                }
            }
            let text = |field: &str| Some(cell(field).0).filter(|t| !t.is_empty());
            // A coded cell: one of its spellings, or an error that lists them.
            let coded = |field: &str, errors: &mut Vec<String>, options: &[(&[&str], u8)], say: &str| -> Option<u8> {
                let (t, at) = cell(field);
                if t.is_empty() {
                    return None;
                }
                let hit = options.iter().find(|(names, _)| names.contains(&t.as_str())).map(|x| x.1);
                if hit.is_none() {
                    errors.push(format!("{at}: \"{t}\" is not one of {say}"));
                }
                hit
            };
            let region = coded(
                "region",
                &mut errors,
                &[(&["合计", "总量", "sum"], 0), (&["平均", "均值", "mean"], 1)],
                "合计, 平均",
            )
            .map(|x| if x == 0 { Aggregate::Sum } else { Aggregate::Mean });
            let within = coded(
                "within",
                &mut errors,
                &[
                    (&["参评范围", "全部", "scope"], 0),
                    (&["全省", "province"], 1),
                    (&["全市", "prefecture"], 2),
                    (&["同类县", "peer"], 3),
                ],
                "参评范围, 全省, 全市, 同类县",
            )
            .map(|x| [Within::Scope, Within::Province, Within::Prefecture, Within::Peer][x as usize]);
            let group = coded(
                "group",
                &mut errors,
                &[
                    (&["领先", "leader"], 0),
                    (&["较强", "strong"], 1),
                    (&["中等", "moderate"], 2),
                    (&["追赶", "emerging"], 3),
                ],
                "领先, 较强, 中等, 追赶",
            )
            .map(|x| [RatioGroup::Leader, RatioGroup::Strong, RatioGroup::Moderate, RatioGroup::Emerging][x as usize]);
            let every_year = coded(
                "every_year",
                &mut errors,
                &[(&["是", "true", "TRUE", "1"], 1), (&["否", "false", "FALSE", "0"], 0)],
                "是, 否",
            ) == Some(1);
            let t = Target {
                id: cell("id").0,
                indicator: cell("indicator").0,
                scope: crate::regions::as_code(&cell("scope").0).unwrap_or_else(|| cell("scope").0),
                kind,
                op,
                value: number(cell("value"), &mut errors),
                unit: text("unit"),
                min: number(cell("min"), &mut errors),
                max: number(cell("max"), &mut errors),
                start: year(cell("start"), &mut errors),
                end: year(cell("end"), &mut errors),
                source: cell("source").0,
                document: text("document"),
                note: text("note"),
                milestones,
                region,
                share: number(cell("share"), &mut errors),
                baseline: number(cell("baseline"), &mut errors),
                within,
                group,
                every_year,
            };
            if errors.is_empty() {
                targets.push(t);
                places.push(place);
            } else {
                problems.extend(errors.into_iter().map(|e| format!("{place}{e}")));
            }
        }
        if !problems.is_empty() {
            return Err(TargetsError::Invalid { path: path.to_owned(), problems });
        }
        return Ok((targets, places));
    }
    if !problems.is_empty() {
        return Err(TargetsError::Invalid { path: path.to_owned(), problems });
    }
    Err(wb_err("no sheet with a header row naming 编号 (the target id)".into()))
}
