//! The web explorer (`cimon site`, `[site]` in `cimon run`): built with the run, the same bytes
//! again, links that resolve, nothing fetched from elsewhere, markup in names printed literally,
//! light county pages, and what a reader sees in headless Chromium (tests/browser/site_check.py).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{cimon, repo, snapshot};
use polars::prelude::*;

/// A dimension name with every character HTML and scripts care about.
const MARKUP: &str = "创新环境</script><b>&\"'";

/// The sample run with `[site]` on and the markup name in the catalog.
fn built() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, cfg, out) = common::sample();
    let catalog = std::fs::read_to_string(repo().join("schemas/indicators.toml")).unwrap().replacen(
        "name_zh = \"创新环境\"",
        "name_zh = \"创新环境</script><b>&\\\"'\"",
        1,
    );
    let path = tmp.path().join("indicators.toml");
    std::fs::write(&path, catalog).unwrap();
    let config = std::fs::read_to_string(&cfg).unwrap();
    let config = config
        .lines()
        .map(|l| {
            if l.starts_with("catalog = ") {
                format!("catalog = {:?}", path.display().to_string())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = if config.contains("[site]") { config } else { config + "\n[site]\nenabled = true\n" };
    std::fs::write(&cfg, config).unwrap();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    (tmp, cfg, out)
}

fn pages(site: &Path) -> Vec<(PathBuf, String)> {
    snapshot(site)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "html"))
        .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
        .collect()
}

/// `%XX` escapes back to their bytes.
fn percent_decoded(s: &str) -> String {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::new(), 0);
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        match (b[i], b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The values of `attr="…"` in a page.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn the_run_publishes_the_site_and_cimon_site_rebuilds_the_same_bytes() {
    let (_tmp, cfg, out) = built();
    let site = out.join("site");
    let first = snapshot(&site);
    assert!(site.join("index.html").is_file() && site.join("en/index.html").is_file());
    // 25 counties × 2 languages, and the overview, comparison, method and downloads of each.
    let html = pages(&site);
    assert_eq!(html.len(), 2 * (25 + 4), "{:?}", html.iter().map(|p| &p.0).collect::<Vec<_>>());
    cimon(&repo(), &["site", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let again = snapshot(&site);
    let files = |s: Vec<(PathBuf, Vec<u8>)>| -> Vec<(PathBuf, Vec<u8>)> {
        s.into_iter().filter(|(p, _)| !p.ends_with(".run-id")).collect()
    };
    let (first, again) = (files(first), files(again));
    assert_eq!(first.len(), again.len());
    for ((p, a), (q, b)) in first.iter().zip(&again) {
        assert_eq!(p, q);
        assert!(a == b, "{} differs when rebuilt from the same tables", p.display());
    }
    // With [site] off, a later run leaves the old site alone and says it is stale.
    let config = std::fs::read_to_string(&cfg).unwrap().replace("[site]\nenabled = true", "[site]\nenabled = false");
    std::fs::write(&cfg, config).unwrap();
    let run = cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q", "--force"]);
    run.success().stderr_line(&["site is from an earlier run and was not rebuilt ([site] is off)"]);
    assert!(site.join("index.html").is_file(), "nothing published is removed");
}

#[test]
fn every_link_resolves_nothing_comes_from_elsewhere_and_county_pages_stay_light() {
    let (_tmp, _cfg, out) = built();
    let site = out.join("site");
    let mut checked = 0;
    for (page, html) in pages(&site) {
        let dir = site.join(&page).parent().unwrap().to_path_buf();
        for link in attributes(&html, "href").into_iter().chain(attributes(&html, "src")) {
            assert!(!link.contains("://"), "{}: {link} leaves the site", page.display());
            if link.starts_with('#') || link.starts_with("data:") {
                continue;
            }
            let file = percent_decoded(link.split(['?', '#']).next().unwrap());
            assert!(dir.join(file).is_file(), "{}: {link} does not resolve", page.display());
            checked += 1;
        }
        if page.starts_with("county") || page.starts_with("en/county") {
            assert!(html.len() < 300_000, "{} is {} bytes", page.display(), html.len());
        }
        // The only URL in the pages is the SVG namespace, which is never fetched.
        let urls = html.matches("http://").count() + html.matches("https://").count();
        assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count(), "{} names a URL", page.display());
    }
    assert!(checked > 500, "{checked}");
    let js = std::fs::read_to_string(site.join("assets/site.js")).unwrap();
    let css = std::fs::read_to_string(site.join("assets/site.css")).unwrap();
    assert!(!js.contains("fetch(") && !js.contains("XMLHttpRequest") && !css.contains("url("), "assets fetch nothing");
    // The downloads: every result table as Parquet and as CSV with the same rows, and the PDFs.
    let index = cimon::tables::read_frame(&out.join("results"), "index").unwrap();
    let csv = std::fs::read_to_string(site.join("data/index.csv")).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM, for Excel");
    assert_eq!(csv.lines().count(), index.height() + 1);
    assert_eq!(
        std::fs::read(site.join("data/index.parquet")).unwrap(),
        std::fs::read(out.join("results/index.parquet")).unwrap()
    );
    assert!(site.join("pdf/420802-东宝区.pdf").is_file() && site.join("pdf/overview.pdf").is_file());
}

#[test]
fn names_with_markup_print_literally_in_pages_and_script_data() {
    let (_tmp, _cfg, out) = built();
    for (page, html) in pages(&out.join("site")) {
        // One </script> per script element, none from the data.
        assert_eq!(html.matches("</script>").count(), html.matches("<script").count(), "{}", page.display());
        assert!(!html.contains("<b>&"), "{}: the name's markup is live", page.display());
    }
    let overview = std::fs::read_to_string(out.join("site/index.html")).unwrap();
    assert!(overview.contains("创新环境&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;"), "escaped in HTML");
    let compare = std::fs::read_to_string(out.join("site/compare.html")).unwrap();
    assert!(
        compare.contains("创新环境\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\\"'"),
        "escaped in the script's JSON"
    );
    let county = std::fs::read_to_string(out.join("site/county/420802.html")).unwrap();
    assert!(county.contains("<text x=") && county.contains("创新环境&lt;/script&gt;"), "escaped in the SVG");
}

#[test]
fn in_a_real_browser_the_pages_show_what_the_tables_hold() {
    let (tmp, _cfg, out) = built();
    let index = cimon::tables::read_frame(&out.join("results"), "index").unwrap();
    let year = index.column("year").unwrap().i32().unwrap().max().unwrap();
    let this = index.filter(&index.column("year").unwrap().as_materialized_series().equal(year).unwrap()).unwrap();
    let codes: Vec<String> =
        this.column("region_code").unwrap().str().unwrap().iter().map(|s| s.unwrap().to_string()).collect();
    let row = codes.iter().position(|c| c == "420802").unwrap();
    let value = this.column("index").unwrap().f64().unwrap().get(row);
    let rank = this.column("rank").unwrap().u32().unwrap().get(row).unwrap();
    let prefecture: BTreeSet<&String> = codes.iter().filter(|c| c.starts_with("4208")).collect();
    let spec = serde_json::json!({
        "site": out.join("site"),
        "codes": codes,
        "county": { "code": "420802", "index": cimon::text::fmt_num(value, Some(1)), "rank": format!("第 {rank} 位") },
        "prefecture": { "code": "420800", "count": prefecture.len() },
        "compare": ["420802", "420881", "620921", "220602"],
        "literal": MARKUP,
        "shots": Path::new(env!("CARGO_TARGET_TMPDIR")).join("site-screenshots"),
    });
    let spec_path = tmp.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let o = std::process::Command::new("/usr/bin/python3")
        .arg(repo().join("tests/browser/site_check.py"))
        .arg(&spec_path)
        .output()
        .expect("python3 with selenium, chromium and chromium-driver (bash .ci/setup installs them)");
    assert!(
        o.status.success(),
        "the browser check failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
