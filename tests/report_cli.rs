//! End-to-end tests of `cimon report`: the real binary, the real typst, the sample province.
//! Needs typst 0.15 and poppler's pdftotext (`bash .ci/setup` installs both).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cimon::catalog::Catalog;
use cimon::report::template::fmt_num;
use cimon::results::{GrowthRow, IndexRow, SensitivityRow, UncertaintyRow};
use cimon::tables::read;
use common::{cimon, cimon_env, copy_dir, repo, snapshot};

/// Ingest and compute the sample into a temp dir.
fn computed() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    cimon(&repo(), &["ingest", "sample-data", "--out", o, "-q"]).success();
    cimon(&repo(), &["compute", "--out", o, "-q"]).success();
    (tmp, out)
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg("-layout").arg(pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext {}: {}", pdf.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The visible files of a directory (not the lock or the render cache).
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn one_pdf_per_county_and_an_overview_with_the_computed_figures() {
    let (_tmp, out) = computed();
    let o = out.to_str().unwrap();
    let run = cimon(&repo(), &["report", "--out", o]);
    run.success();
    assert!(run.stdout.contains("26 reports for 2024 (26 rendered, 0 unchanged"), "{}", run.stdout);

    // Every county of 2024 under `code-name.pdf`, and the overview; nothing else, no leftovers.
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let of_2024: Vec<&IndexRow> = index.iter().filter(|r| r.year == 2024).collect();
    let mut expected: Vec<String> =
        of_2024.iter().map(|r| format!("{}-{}.pdf", r.region_code, r.region_name)).collect();
    assert_eq!(expected.len(), 25);
    expected.push("overview.pdf".into());
    expected.sort();
    assert_eq!(files(&out.join("reports")), expected);
    assert_eq!(files(&out), vec!["reports", "results", "store"], "no staging directory left");

    // 东宝区's report says what the tables say.
    let text = pdftotext(&out.join("reports/420802-东宝区.pdf"));
    let row = of_2024.iter().find(|r| &*r.region_code == "420802").unwrap();
    let (value, rank) = (row.index.unwrap(), row.rank.unwrap());
    for needle in [
        "东宝区".to_string(),
        "示例数据".to_string(),
        "荆门市".to_string(),
        format!("{} / 25", rank),
        format!("指数为 {}", fmt_num(Some(value), Some(1))),
        format!("居第 {} 位", rank),
    ] {
        assert!(text.contains(&needle), "county report lacks {needle:?}\n{text}");
    }
    // The rank's 90% interval from the sensitivity analysis.
    let unc: Vec<UncertaintyRow> = read(&out.join("results")).unwrap();
    let u = unc.iter().find(|u| u.region_code == "420802" && u.year == 2024).unwrap();
    let interval = format!("90% 区间 {}–{}", u.p05_rank.unwrap(), u.p95_rank.unwrap());
    assert!(text.contains(&format!("居第 {rank} 位（{interval}）")), "no {interval:?}\n{text}");
    // Every indicator with its value as the growth table has it, formatted as the template does.
    let catalog = Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    let growth: Vec<GrowthRow> = read(&out.join("results")).unwrap();
    for ind in &catalog.indicators {
        let g =
            growth.iter().find(|g| &*g.region_code == "420802" && g.year == 2024 && *g.indicator == *ind.code).unwrap();
        // Typst spaces Latin from CJK ("R&D 经费"): compare without spaces. A long name wraps:
        // its row starts with the first line of it.
        let name: String = ind.name_zh.split_whitespace().collect();
        let line = text
            .lines()
            .filter(|l| l.contains("/25"))
            .find(|l| {
                let flat = l.split_whitespace().collect::<String>();
                let head: String = l.split("  ").next().unwrap_or("").split_whitespace().collect();
                flat.starts_with(&name) || (head.chars().count() >= 12 && name.starts_with(&head))
            })
            .unwrap_or_else(|| panic!("no table row for {}\n{text}", ind.name_zh));
        let shown = fmt_num(g.value, None);
        assert!(line.split_whitespace().any(|w| w == shown), "{}: expected {shown} in {line:?}", ind.code);
    }
    // The input files holding its values, with their sha256: not another prefecture's 2024 file.
    let sources: Vec<cimon::store::SourceRow> = read(&out.join("store")).unwrap();
    for s in &sources {
        let (file, sha) = (s.file.as_str(), s.sha256.as_str());
        let own = !file.starts_with("inputs/2024/") || file.contains("荆门市");
        assert_eq!(text.contains(sha), own, "{file}: sha256 listed = {}", !own);
    }

    // The overview ranks every county.
    let text = pdftotext(&out.join("reports/overview.pdf"));
    for r in &of_2024 {
        assert!(text.contains(&*r.region_name), "overview lacks {:?}", r.region_name);
    }
    assert!(text.contains("县域创新能力监测总报告") && text.contains("25 个县（市、区）"), "{text}");
    for s in &sources {
        assert!(text.contains(&s.sha256), "the overview lacks the sha256 {}", s.sha256);
    }
    // Every target of the sample's policies is in it, with the sentence it comes from (in
    // content order: a wrapped cell is not interleaved with its neighbours).
    let raw = Command::new("pdftotext").arg("-raw").arg(out.join("reports/overview.pdf")).arg("-").output().unwrap();
    let flat: String = String::from_utf8(raw.stdout).unwrap().split_whitespace().collect();
    let registry = cimon::regions::Registry::load(&repo().join("schemas/regions.csv")).unwrap();
    let targets = cimon::targets::load(&repo().join("sample-data/targets.toml"), &catalog, &registry).unwrap();
    assert!(targets.len() >= 40, "{}", targets.len());
    for t in &targets {
        let source: String = t.source.split_whitespace().collect();
        assert!(flat.contains(&source), "the overview lacks target {} ({source})", t.id);
    }
    // It names the method choice that moves ranks most (largest total sensitivity index).
    let sens: Vec<SensitivityRow> = read(&out.join("results")).unwrap();
    let top = sens.iter().max_by(|a, b| a.total.total_cmp(&b.total)).unwrap();
    let names = [
        ("weights", "权重"),
        ("normalisation", "标准化方法"),
        ("aggregation", "加总方法"),
        ("imputation", "缺失值插补"),
        ("indicator_exclusion", "剔除单项指标"),
    ];
    let name = names.iter().find(|(f, _)| *f == top.factor.as_str()).unwrap().1;
    let flat: String = text.split_whitespace().collect();
    assert!(flat.contains(&format!("对排名影响最大的方法选择是{name}")), "{text}");
    // The audit appendix: every dimension's alpha, and each finding in words with its indicators.
    assert!(flat.contains("附录·统计审计") && flat.contains("Cronbachα"), "{text}");
    let alpha: Vec<cimon::results::AuditAlphaRow> = read(&out.join("results")).unwrap();
    for d in catalog.dimensions() {
        let a = alpha.iter().find(|a| a.node == d.code).unwrap().alpha.unwrap();
        assert!(flat.contains(&fmt_num(Some(a), Some(2))), "alpha {a} of {}", d.name_zh);
    }
    let flags: Vec<cimon::results::AuditFlagRow> = read(&out.join("results")).unwrap();
    for f in flags.iter().filter(|f| f.flag == cimon::results::AuditFlag::Collinear) {
        let (a, b) = (f.indicator.as_deref().unwrap(), f.other.as_deref().unwrap());
        let name = |c: &str| catalog.indicator(c).unwrap().name_zh.split_whitespace().collect::<String>();
        assert!(
            flat.contains(&format!("{}与{}高度相关（r={}）", name(a), name(b), fmt_num(Some(f.value), Some(2)))),
            "finding {a} ~ {b} missing\n{text}"
        );
    }
}

#[test]
fn reports_are_byte_identical_on_a_rerun() {
    let (_tmp, out) = computed();
    let o = out.to_str().unwrap();
    cimon(&repo(), &["report", "--out", o, "-q"]).success();
    let first = snapshot(&out.join("reports"));
    assert_eq!(first.len(), 27, "26 PDFs and the render cache");
    // Without the render cache every report is compiled again: one at a time this time, from
    // another directory. Neither may change a byte.
    std::fs::remove_file(out.join("reports/.render-cache.json")).unwrap();
    let cat = format!("--catalog={}", repo().join("schemas/indicators.toml").display());
    let reg = format!("--regions={}", repo().join("schemas/regions.csv").display());
    let run = cimon(&std::env::temp_dir(), &["report", "--out", o, "--jobs", "1", &cat, &reg]);
    run.success();
    assert!(run.stdout.contains("(26 rendered, 0 unchanged"), "{}", run.stdout);
    let second = snapshot(&out.join("reports"));
    assert_eq!(first.len(), second.len());
    for ((p, a), (q, b)) in first.iter().zip(&second) {
        assert_eq!(p, q);
        assert!(a == b, "{} differs between runs", p.display());
    }
}

/// The texts of every PDF in `dir`, by file name.
fn texts(dir: &Path) -> Vec<(String, String)> {
    files(dir).into_iter().filter(|f| f.ends_with(".pdf")).map(|f| (f.clone(), pdftotext(&dir.join(&f)))).collect()
}

/// County reports typeset several to a typst process (Typst's bundle export, where the documents
/// share counters and introspection) read exactly as reports typeset one per process: the same
/// pages, headings numbered from 一、 in each, and contents that list only the report's own
/// headings with its own page numbers. A report's bytes do not depend on the batch it was in.
#[test]
fn county_reports_typeset_in_batches_read_as_when_typeset_alone() {
    let (_tmp, out) = computed();
    let (o, reports) = (out.to_str().unwrap(), out.join("reports"));
    // Batches of 4: 25 counties are six batches of four and one of one.
    cimon(&repo(), &["report", "--out", o, "--batch", "4", "-q"]).success();
    let batched = texts(&reports);
    let bytes = snapshot(&reports);
    // Batches of 8 (the default): other companions, the same bytes.
    std::fs::remove_file(reports.join(".render-cache.json")).unwrap();
    let run = cimon(&repo(), &["report", "--out", o]);
    run.success();
    assert!(run.stdout.contains("(26 rendered, 0 unchanged"), "{}", run.stdout);
    assert!(snapshot(&reports) == bytes, "a report's bytes changed with the batch it was typeset in");
    // One process per report: no report is reused from the batched ones, and every text is the same.
    let run = cimon(&repo(), &["report", "--out", o, "--batch", "1"]);
    run.success();
    assert!(run.stdout.contains("(26 rendered, 0 unchanged"), "{}", run.stdout);
    let alone = texts(&reports);
    assert_eq!(alone.len(), 26);
    for ((f, a), (g, b)) in batched.iter().zip(&alone) {
        assert_eq!(f, g);
        assert!(a == b, "{f} reads differently typeset in a batch\n--- batch\n{a}\n--- alone\n{b}");
    }
    // The contents of a batched report: its own six headings, the first on page 2.
    let text = &batched.iter().find(|(f, _)| f == "420802-东宝区.pdf").unwrap().1;
    let contents: Vec<&str> = text.lines().filter(|l| l.contains(" . . . ")).collect();
    assert_eq!(contents.len(), 6, "{contents:?}");
    assert!(contents[0].starts_with("一、") && contents[0].contains("总体情况"), "{contents:?}");
    assert!(contents[0].trim_end().ends_with('2'), "{contents:?}");
}

/// A report that fails in a batch is named alone: the batch is typeset again one report at a
/// time, so the other counties of its batch are not blamed.
#[test]
fn a_report_that_fails_in_a_batch_is_named_alone() {
    let (tmp, out) = computed();
    let o = out.to_str().unwrap();
    let tpl = tmp.path().join("templates");
    copy_dir(&repo().join("report-templates"), &tpl);
    let county = std::fs::read_to_string(tpl.join("county.typ.j2")).unwrap();
    let broken = county.replacen(
        "= {{ t.indicators }}",
        "= {{ t.indicators }}\n{% if county.code == \"420802\" %}#no-such-function(1){% endif %}",
        1,
    );
    assert_ne!(broken, county, "the indicators heading moved in county.typ.j2");
    std::fs::write(tpl.join("county.typ.j2"), broken).unwrap();
    let run = cimon(&repo(), &["report", "--out", o, "--templates", tpl.to_str().unwrap()]);
    run.failure(4)
        .stderr_line(&["1 of 26 reports failed"])
        .stderr_line(&["420802 东宝区", "typst failed"])
        .stderr_line(&["unknown variable: no-such-function"]);
    assert!(!run.stderr.contains("(and "), "{}", run.stderr);
    assert_eq!(files(&out), vec!["results", "store"], "nothing published, no staging directory left");
}

#[test]
fn values_that_look_like_typst_markup_print_literally() {
    let (tmp, out) = computed();
    let evil = r"东宝#$*_[]\@<//区";
    let regions = std::fs::read_to_string(repo().join("schemas/regions.csv")).unwrap().replace("东宝区", evil);
    let regions_path = tmp.path().join("regions.csv");
    std::fs::write(&regions_path, regions).unwrap();
    let note = r"note: #set page(width: 1cm) $x^2$ *bold* _em_ [x] \ @ref <label> // comment";
    // The source of 东宝区's high-tech firms target becomes the note.
    let sample = std::fs::read_to_string(repo().join("sample-data/targets.toml")).unwrap();
    let at = sample.find("id = \"dongbao-hitech\"").expect("the sample targets changed: adjust this test");
    let source = at + sample[at..].find("source = ").unwrap();
    let eol = source + sample[source..].find('\n').unwrap();
    let targets = format!("{}source = '{note}'{}", &sample[..source], &sample[eol..]);
    let targets_path = tmp.path().join("targets.toml");
    std::fs::write(&targets_path, targets).unwrap();

    let o = out.to_str().unwrap();
    let args = [
        "report",
        "--out",
        o,
        "-q",
        "--regions",
        regions_path.to_str().unwrap(),
        "--targets",
        targets_path.to_str().unwrap(),
    ];
    cimon(&repo(), &args).success();
    // `/` and `\` cannot be in a file name; the rest can.
    let pdf = out.join(r"reports/420802-东宝#$*_[]_@<__区.pdf");
    assert!(pdf.is_file(), "{:?}", files(&out.join("reports")));
    // Compared without spaces: Typst spaces Latin from CJK, and the note wraps.
    let text = pdftotext(&pdf);
    let flat: String = text.split_whitespace().collect();
    assert!(flat.contains(evil), "the county name is not printed literally\n{text}");
    let note_flat: String = note.split_whitespace().collect();
    assert!(flat.contains(&note_flat), "the target source is not printed literally\n{text}");
    // Every page is still A4: the #set in the note did not run.
    let info = Command::new("pdfinfo").args(["-f", "1", "-l", "99"]).arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let sizes: Vec<&str> = info.lines().filter(|l| l.starts_with("Page ") && l.contains("size:")).collect();
    assert!(sizes.len() > 4 && sizes.iter().all(|l| l.contains("595.276 x 841.89 pts (A4)")), "{info}");
}

#[test]
fn a_broken_template_names_the_file_and_line_and_publishes_nothing() {
    let (tmp, out) = computed();
    let o = out.to_str().unwrap();
    cimon(&repo(), &["report", "--out", o, "-q"]).success();
    let published = snapshot(&out.join("reports"));

    // A minijinja syntax error: exit 2, the file and line named.
    let tpl = tmp.path().join("templates");
    copy_dir(&repo().join("report-templates"), &tpl);
    let county = std::fs::read_to_string(tpl.join("county.typ.j2")).unwrap();
    let mut lines: Vec<&str> = county.lines().collect();
    lines.insert(24, "{% if %}");
    std::fs::write(tpl.join("county.typ.j2"), lines.join("\n")).unwrap();
    let t = tpl.to_str().unwrap();
    cimon(&repo(), &["report", "--out", o, "--templates", t]).failure(2).stderr_line(&[
        "county.typ.j2",
        "line 25",
        "syntax error",
    ]);

    // A Typst error: exit 4, the county, the message and the template line named; old reports kept.
    lines.remove(24);
    let at = lines.iter().position(|l| l.starts_with("= {{ t.indicators }}")).unwrap();
    lines.insert(at + 1, "#no-such-function(1)");
    std::fs::write(tpl.join("county.typ.j2"), lines.join("\n")).unwrap();
    let run = cimon(&repo(), &["report", "--out", o, "--templates", t]);
    run.failure(4)
        .stderr_line(&["25 of 26 reports failed", "unchanged"])
        .stderr_line(&["(and 24 more)", "typst failed"])
        .stderr_line(&["unknown variable: no-such-function"])
        .stderr_line(&[&format!("county.typ.j2:{}", at + 2)]);
    assert_eq!(snapshot(&out.join("reports")), published, "published reports changed");
    assert_eq!(files(&out), vec!["reports", "results", "store"], "no staging directory left");

    // With --keep-sources the generated sources stay, beside (never inside) the published reports.
    cimon(&repo(), &["report", "--out", o, "--templates", t, "--keep-sources"]).failure(4);
    let kept = files(&out.join("reports.failed"));
    assert!(kept.contains(&"420802-东宝区.typ".to_string()) && !kept.iter().any(|f| f.ends_with(".pdf")), "{kept:?}");
    assert_eq!(snapshot(&out.join("reports")), published);
}

#[test]
fn missing_typst_or_results_say_what_to_do() {
    let (_tmp, out) = computed();
    let o = out.to_str().unwrap();
    cimon_env(&repo(), &["report", "--out", o], &[("CIMON_TYPST", "/nonexistent/typst")])
        .failure(4)
        .stderr_line(&["typst not found", "/nonexistent/typst"])
        .stderr_line(&["hint:", "cargo install typst-cli --locked --version 0.15"]);
    let empty = tempfile::tempdir().unwrap();
    cimon(&repo(), &["report", "--out", empty.path().to_str().unwrap()])
        .failure(2)
        .stderr_line(&["no computed results", "cimon compute"]);
}

#[test]
fn english_reports_and_kept_sources() {
    let (_tmp, out) = computed();
    let o = out.to_str().unwrap();
    cimon(&repo(), &["report", "--out", o, "-q", "--lang", "en", "--keep-sources", "--year", "2023"]).success();
    let reports = out.join("reports");
    assert!(reports.join("420802-东宝区.typ").is_file() && reports.join("overview.typ").is_file());
    let text = pdftotext(&reports.join("420802-东宝区.pdf"));
    let catalog = Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    for needle in
        ["County Innovation Capability Monitoring Report", "In 2023, 东宝区 scored", &catalog.groups[0].name_en]
    {
        assert!(text.contains(needle), "English report lacks {needle:?}\n{text}");
    }
    cimon(&repo(), &["report", "--out", o, "--year", "2031"])
        .failure(2)
        .stderr_line(&["no index for 2031", "2015–2024"]);
}

/// Several provinces: the overview ranks every county once, five to a table row (a long ranking),
/// and each province's rankings by prefecture are a report of their own. `pdftotext -layout`
/// reads a county's rank, name, prefecture and index on one line only if the five-line cells of
/// a row stay aligned.
#[test]
fn a_national_run_ranks_every_county_once_and_gives_each_province_its_prefectures() {
    let tmp = tempfile::tempdir().unwrap();
    let nat = tmp.path().join("nat");
    let n = nat.to_str().unwrap();
    cimon(&repo(), &["synth", "--kind", "national", "--counties", "100", "--from", "2022", "--to", "2024", "--out", n])
        .success();
    let cfg = tmp.path().join("cimon.toml");
    std::fs::write(
        &cfg,
        format!(
            "[input]\ndir = \"nat/inputs\"\n[schemas]\ncatalog = {:?}\nregions = \"nat/regions.csv\"\n[output]\ndir = \"out\"\n\
             [report]\nprovince_reports = \"always\"\n",
            repo().join("schemas/indicators.toml")
        ),
    )
    .unwrap();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let out = tmp.path().join("out");
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let latest: Vec<&IndexRow> = index.iter().filter(|r| r.year == 2024 && r.rank.is_some()).collect();
    assert!(latest.len() > 80, "a long ranking: {}", latest.len());
    let mut provinces: Vec<&str> = latest.iter().map(|r| &*r.province_name).collect();
    provinces.sort();
    provinces.dedup();
    assert!(provinces.len() >= 2, "{provinces:?}");

    let reports = files(&out.join("reports"));
    for p in &provinces {
        assert!(reports.contains(&format!("overview-{p}.pdf")), "{p}: {reports:?}");
    }
    assert_eq!(reports.len(), 1 + provinces.len() + latest.len(), "{reports:?}");

    // One line per county: rank, name, prefecture, index — in the national ranking.
    let line = |text: &str, rank: u32, r: &IndexRow, prefecture: bool| {
        let mut want = vec![rank.to_string(), r.region_name.to_string()];
        if prefecture {
            want.push(r.prefecture_name.to_string());
        }
        want.push(fmt_num(r.index, Some(1)));
        text.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.windows(want.len()).any(|x| x.iter().zip(&want).all(|(a, b)| a == b))
        })
    };
    let overview = pdftotext(&out.join("reports/overview.pdf"));
    for r in &latest {
        assert!(
            line(&overview, r.rank.unwrap(), r, true),
            "{} {} not on one line:\n{overview}",
            r.rank.unwrap(),
            r.region_name
        );
    }
    // The overview names the provinces' reports and has no section per prefecture.
    for p in &provinces {
        assert!(overview.contains(&format!("overview-{p}.pdf")), "{p}");
    }
    assert!(!overview.contains("分地区情况"), "{overview}");
    // Each province's report ranks its counties within their prefectures.
    for p in &provinces {
        let text = pdftotext(&out.join(format!("reports/overview-{p}.pdf")));
        assert!(text.contains(&format!("{p}县域创新能力监测分地区报告")), "{text}");
        for r in latest.iter().filter(|r| &*r.province_name == *p) {
            assert!(text.contains(&*r.prefecture_name), "{p}: {}", r.prefecture_name);
            assert!(
                line(&text, r.rank_prefecture.unwrap(), r, false),
                "{p}: {} {}:\n{text}",
                r.rank_prefecture.unwrap(),
                r.region_name
            );
        }
    }
}
