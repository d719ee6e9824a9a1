//! The writer against rust_xlsxwriter writing the same cells, part by part, and its limits.

use super::*;
use std::io::Read;

/// The cells of the test workbook: what a bureau's names and numbers can hold.
struct Data {
    texts: Vec<Option<&'static str>>,
    numbers: Vec<Option<f64>>,
}

fn data() -> Data {
    Data {
        texts: vec![
            Some("浑江区"),
            Some("A&B <县> \"市\""),
            Some(" 前后有空格 "),
            Some("控制\u{1}字符\u{1F}"),
            Some("字面_x0041_转义"),
            Some(""),
            None,
            Some("换行\n与\t制表"),
            Some("浑江区"),
            Some("#$*[\\@"),
        ],
        numbers: vec![
            Some(2010.0),
            Some(-3.0),
            Some(0.1 + 0.2),
            Some(1e-7),
            Some(1e21),
            Some(-0.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            None,
            Some(123_456_789.123_456_78),
        ],
    }
}

/// The sheets: texts and numbers, a column whose format changes from row to row, a column of
/// text that turns to numbers, a last row with no cell at all, and a sheet without rows.
fn sheets(d: &Data) -> Vec<Sheet<'_>> {
    let n = d.texts.len();
    vec![
        Sheet {
            name: "指数与排名",
            headers: vec![
                ("年份", 7.0),
                ("县（市、区）", 16.0),
                ("数值", 12.0),
                ("比例", 8.0),
                ("混合", 0.5),
                ("宽", 8.43),
            ],
            rows: n + 1,
            cell: Box::new(move |r, c| {
                if r == n {
                    return Cell::Num(None, Fmt::Year);
                }
                match c {
                    0 => Cell::Num(Some(2010.0 + r as f64), Fmt::Year),
                    1 => Cell::Text(d.texts[r]),
                    2 => Cell::Num(d.numbers[r], if r % 3 == 0 { Fmt::Fixed(2) } else { Fmt::Fixed(5) }),
                    3 => Cell::Num(d.numbers[(r + 3) % n], Fmt::Percent),
                    4 if r < 4 => Cell::Owned(Some(format!("第{r}行"))),
                    4 => Cell::Num(Some(r as f64), Fmt::Fixed(1)),
                    _ => Cell::Num(d.numbers[r].map(|v| v * 2.0), Fmt::Fixed(0)),
                }
            }),
        },
        Sheet {
            name: "目标达成",
            headers: vec![("目标", 24.0), ("说明", 30.0)],
            rows: 0,
            cell: Box::new(|_, _| Cell::Text(None)),
        },
        Sheet {
            name: "方法说明",
            headers: vec![("设置", 28.0), ("数值", 100.0)],
            rows: n,
            cell: Box::new(move |r, c| {
                if c == 0 {
                    Cell::Text(d.texts[n - 1 - r])
                } else {
                    Cell::Num(d.numbers[r], Fmt::Fixed(3))
                }
            }),
        },
    ]
}

/// The same sheets through rust_xlsxwriter, the way cimon wrote its workbook before this writer:
/// low-memory sheets, a column's first number format set on the column.
fn reference(path: &Path, sheets: &[Sheet<'_>]) {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    wb.set_zip_compression_level(2);
    wb.set_tempdir(path.parent().unwrap()).unwrap();
    wb.set_properties(
        &DocProperties::new().set_title("测试").set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1).unwrap()),
    );
    let header = Format::new().set_bold().set_background_color("#1F4E79").set_font_color("#FFFFFF").set_text_wrap();
    let format = |f: Fmt| Format::new().set_num_format(f.normal().code());
    for s in sheets {
        let ws = wb.add_worksheet_with_low_memory().unwrap().set_name(s.name).unwrap();
        for (c, (h, width)) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &header).unwrap();
            ws.set_column_width(c as u16, *width).unwrap();
        }
        let mut column: Vec<Option<Fmt>> = vec![None; s.headers.len()];
        for r in 0..s.rows {
            let row = r as u32 + 1;
            for (c, first) in column.iter_mut().enumerate() {
                let col = c as u16;
                match (s.cell)(r, c) {
                    Cell::Text(Some(t)) => {
                        ws.write_string(row, col, t).unwrap();
                    }
                    Cell::Owned(Some(t)) => {
                        ws.write_string(row, col, t).unwrap();
                    }
                    Cell::Num(Some(v), f) if v.is_finite() => match *first {
                        Some(g) if g == f.normal() => {
                            ws.write_number(row, col, v).unwrap();
                        }
                        Some(_) => {
                            ws.write_number_with_format(row, col, v, &format(f)).unwrap();
                        }
                        None => {
                            ws.set_column_format(col, &format(f)).unwrap();
                            *first = Some(f.normal());
                            ws.write_number(row, col, v).unwrap();
                        }
                    },
                    _ => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0).unwrap();
        if s.rows > 0 {
            ws.autofilter(0, 0, s.rows as u32, s.headers.len() as u16 - 1).unwrap();
        }
    }
    wb.save(path).unwrap();
}

fn parts(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), bytes)
        })
        .collect()
}

#[test]
fn every_part_is_what_rust_xlsxwriter_writes_for_the_same_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let d = data();
    let (ours, theirs) = (tmp.path().join("ours.xlsx"), tmp.path().join("theirs.xlsx"));
    write(&ours, "测试", 2, &sheets(&d)).unwrap();
    reference(&theirs, &sheets(&d));
    let (ours, theirs) = (parts(&ours), parts(&theirs));
    let names = |p: &[(String, Vec<u8>)]| p.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    for ((name, a), (_, b)) in ours.iter().zip(&theirs) {
        assert!(
            a == b,
            "{name} differs:\nours:   {}\ntheirs: {}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    // The cases are there: escaped text, a control character, a literal escape, a number
    // format of its own in a formatted column, the empty last row left out of the dimension.
    let sheet =
        String::from_utf8(ours.iter().find(|(n, _)| n == "xl/worksheets/sheet1.xml").unwrap().1.clone()).unwrap();
    let strings = String::from_utf8(ours.iter().find(|(n, _)| n == "xl/sharedStrings.xml").unwrap().1.clone()).unwrap();
    assert!(strings.contains("A&amp;B &lt;县&gt; \"市\""), "{strings}");
    assert!(strings.contains("控制_x0001_字符_x001F_") && strings.contains("字面_x005F_x0041_转义"), "{strings}");
    assert!(strings.contains("<t xml:space=\"preserve\"> 前后有空格 </t>"), "{strings}");
    assert!(sheet.contains("<dimension ref=\"A1:F11\"/>") && sheet.contains("<autoFilter ref=\"A1:F12\"/>"), "{sheet}");
    assert!(sheet.contains("<v>0.30000000000000004</v>") && sheet.contains("<v>0.0000001</v>"), "{sheet}");
}

#[test]
fn the_workbook_reads_back_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = data();
    let path = tmp.path().join("b.xlsx");
    write(&path, "测试", 2, &sheets(&d)).unwrap();
    use calamine::{Data as V, Reader};
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    assert_eq!(book.sheet_names(), ["指数与排名", "目标达成", "方法说明"]);
    let range = book.worksheet_range("指数与排名").unwrap();
    assert_eq!(range.get((0, 1)), Some(&V::String("县（市、区）".into())));
    assert_eq!(range.get((2, 1)), Some(&V::String("A&B <县> \"市\"".into())));
    assert_eq!(range.get((4, 1)), Some(&V::String("控制\u{1}字符\u{1F}".into())));
    assert_eq!(range.get((5, 1)), Some(&V::String("字面_x0041_转义".into())));
    assert_eq!(range.get((3, 2)), Some(&V::Float(0.1 + 0.2)));
    assert_eq!(range.get((4, 2)), Some(&V::Float(1e-7)));
    assert_eq!(range.get((10, 2)), Some(&V::Float(123_456_789.123_456_78)));
    // NaN, infinity and missing numbers leave the cell empty.
    assert!(matches!(range.get((7, 2)), None | Some(V::Empty)));
    assert!(matches!(range.get((8, 2)), None | Some(V::Empty)));
    assert_eq!(range.get((1, 0)), Some(&V::Float(2010.0)));
}

#[test]
fn sheets_excel_cannot_hold_are_refused_naming_sheet_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.xlsx");
    let rows = vec![Sheet {
        name: "指标与增速",
        headers: vec![("年份", 7.0)],
        rows: 1_048_576,
        cell: Box::new(|_, _| Cell::Text(None)),
    }];
    let e = write(&path, "t", 2, &rows).unwrap_err().to_string();
    assert!(e.contains("指标与增速") && e.contains("1048576 rows") && e.contains("1,048,575"), "{e}");
    let long = "长".repeat(32_768);
    let text = vec![Sheet {
        name: "方法说明",
        headers: vec![("设置", 7.0)],
        rows: 3,
        cell: Box::new(|r, _| Cell::Text(Some(if r == 2 { long.as_str() } else { "短" }))),
    }];
    let e = write(&path, "t", 2, &text).unwrap_err().to_string();
    assert!(e.contains("方法说明") && e.contains("row 4") && e.contains("32,767"), "{e}");
    // 32,767 characters fit.
    let fits = "长".repeat(32_767);
    let ok = vec![Sheet {
        name: "方法说明",
        headers: vec![("设置", 7.0)],
        rows: 1,
        cell: Box::new(|_, _| Cell::Text(Some(fits.as_str()))),
    }];
    write(&path, "t", 2, &ok).unwrap();
}

#[test]
fn column_widths_as_excel_stores_them() {
    // 7 characters are 54 pixels, stored as 7.7109375; 8.43 characters (64 pixels) is Excel's
    // default width, written without customWidth.
    assert_eq!(width(7.0), (7.7109375, true));
    assert_eq!(width(8.43), (9.140625, false));
    assert_eq!(width(0.5), (0.85546875, true));
}
