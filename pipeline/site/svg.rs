//! The site's charts as SVG text: few primitives, fixed decimals (same data, same bytes), a title
//! and a description that says in words what the chart shows, for screen readers and print.

use std::fmt::Write as _;

use super::html::escape;
use crate::report::model::{DimensionScore, HistoryPoint, RankLine, Standing};
use crate::text::fmt_num;

const ACCENT: &str = "#1f4e79";
const MUTED: &str = "#8a94a6";
const WARM: &str = "#c0504d";

/// `<svg>` with its accessible name and description; `body` is the drawing.
fn frame(w: u32, h: u32, title: &str, desc: &str, body: &str) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{t}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title><desc>{d}</desc>{body}</svg>",
        t = escape(title),
        d = escape(desc)
    )
}

/// About how wide `s` sets at 12px: CJK characters are square, Latin ones about half.
fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 6.6 } else { 12.5 }).sum()
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// Round bounds for an axis holding `lo..hi`, and a step of about five ticks.
fn axis(lo: f64, hi: f64) -> (f64, f64, f64) {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

/// A line: its name, colour, dash pattern and (year, value) points.
type Series<'a> = (&'a str, &'a str, &'a str, Vec<(i32, f64)>);

/// The index over the years: the county against the average of all counties and of its prefecture.
pub fn history(points: &[HistoryPoint], labels: &[String; 4], county: &str) -> String {
    let [title, this, average, prefecture] = labels;
    let series: [Series; 3] = [
        (this.as_str(), ACCENT, "", points.iter().filter_map(|p| Some((p.year, p.index?))).collect()),
        (average.as_str(), MUTED, "6 4", points.iter().filter_map(|p| Some((p.year, p.average?))).collect()),
        (
            prefecture.as_str(),
            WARM,
            "2 3",
            points.iter().filter_map(|p| Some((p.year, p.prefecture_average?))).collect(),
        ),
    ];
    let values: Vec<f64> = series.iter().flat_map(|s| s.3.iter().map(|p| p.1)).collect();
    if values.is_empty() || points.is_empty() {
        return String::new();
    }
    let (lo, hi, step) =
        axis(values.iter().copied().fold(f64::MAX, f64::min), values.iter().copied().fold(f64::MIN, f64::max));
    let (y0, y1) = (points[0].year, points[points.len() - 1].year);
    let (w, h, left, right, top, bottom) = (640.0, 250.0, 44.0, 12.0, 12.0, 54.0);
    let x =
        |year: i32| left + (w - left - right) * if y1 > y0 { f64::from(year - y0) / f64::from(y1 - y0) } else { 0.5 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / (hi - lo).max(1e-9));
    let mut b = String::new();
    let mut tick = lo;
    while tick <= hi + step * 1e-6 {
        let _ = write!(
            b,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"grid\"/><text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            f(left),
            f(w - right),
            f(y(tick)),
            f(y(tick)),
            f(left - 6.0),
            f(y(tick) + 4.0),
            fmt_num(Some(tick), None)
        );
        tick += step;
    }
    for p in points {
        let _ = write!(
            b,
            "<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            f(x(p.year)),
            f(h - bottom + 16.0),
            p.year
        );
    }
    for (name, colour, dash, pts) in &series {
        if pts.is_empty() {
            continue;
        }
        let path: Vec<String> = pts.iter().map(|(yr, v)| format!("{},{}", f(x(*yr)), f(y(*v)))).collect();
        let dash = if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dash}\"") };
        let width = if *colour == ACCENT { 2.5 } else { 1.5 };
        let _ = write!(
            b,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"{dash}/>",
            path.join(" ")
        );
        if *colour == ACCENT {
            for (yr, v) in pts {
                let _ = write!(
                    b,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{colour}\"><title>{yr}: {}</title></circle>",
                    f(x(*yr)),
                    f(y(*v)),
                    fmt_num(Some(*v), Some(1))
                );
            }
        }
        let _ = name;
    }
    // Legend below the axis.
    let mut lx = left;
    for (name, colour, dash, _) in &series {
        let dash = if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dash}\"") };
        let _ = write!(
            b,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/><text x=\"{}\" y=\"{}\" class=\"legend\">{}</text>",
            f(lx),
            f(lx + 22.0),
            f(h - 12.0),
            f(h - 12.0),
            f(lx + 28.0),
            f(h - 8.0),
            escape(name)
        );
        lx += 44.0 + text_width(name);
    }
    let desc: Vec<String> = series
        .iter()
        .filter(|s| !s.3.is_empty())
        .map(|(name, _, _, pts)| {
            let v: Vec<String> = pts.iter().map(|(yr, v)| format!("{yr} {}", fmt_num(Some(*v), Some(1)))).collect();
            format!("{name}: {}", v.join(", "))
        })
        .collect();
    frame(640, 250, &format!("{county} · {title}"), &desc.join("; "), &b)
}

/// The dimension scores as bars, the average of all counties as a mark on each.
pub fn profile(dims: &[DimensionScore], title: &str, average: &str) -> String {
    let values: Vec<f64> = dims.iter().flat_map(|d| [d.score, d.average]).flatten().collect();
    if values.is_empty() {
        return String::new();
    }
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(100.0, f64::max);
    let (lo, hi, _) = axis(lo, hi);
    let (w, row, left, right) = (640.0, 30.0, 170.0, 60.0);
    let h = row * dims.len() as f64 + 28.0;
    let x = |v: f64| left + (w - left - right) * (v - lo) / (hi - lo).max(1e-9);
    let mut b = String::new();
    for (i, d) in dims.iter().enumerate() {
        let top = 8.0 + row * i as f64;
        let _ = write!(
            b,
            "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text>",
            f(left - 8.0),
            f(top + 15.0),
            escape(&d.name)
        );
        if let Some(s) = d.score {
            let _ = write!(
                b,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"{ACCENT}\"/><text x=\"{}\" y=\"{}\" class=\"value\">{}</text>",
                f(x(lo.max(0.0).min(s))),
                f(top + 3.0),
                f((x(s) - x(lo.max(0.0).min(s))).abs()),
                f(x(s.max(0.0)) + 6.0),
                f(top + 15.0),
                fmt_num(Some(s), Some(1))
            );
        }
        if let Some(a) = d.average {
            let _ = write!(
                b,
                "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{WARM}\" stroke-width=\"2.5\"/>",
                f(x(a)),
                f(top),
                f(top + 22.0)
            );
        }
    }
    let ly = h - 10.0;
    let _ = write!(
        b,
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{WARM}\" stroke-width=\"2.5\"/><text x=\"{3}\" y=\"{4}\" class=\"legend\">{5}</text>",
        f(left),
        f(ly - 10.0),
        f(ly + 2.0),
        f(left + 8.0),
        f(ly),
        escape(average)
    );
    let desc: Vec<String> = dims
        .iter()
        .map(|d| format!("{} {} ({} {})", d.name, fmt_num(d.score, Some(1)), average, fmt_num(d.average, Some(1))))
        .collect();
    frame(640, h as u32, title, &desc.join("; "), &b)
}

/// Where the rank lies among all counties: the 90% interval over the method replications and the published rank.
pub fn interval(s: &Standing, title: &str) -> String {
    let (Some(rank), Some(p05), Some(p95)) = (s.rank, s.p05, s.p95) else { return String::new() };
    let n = s.of.max(1) as f64;
    let (w, left, right) = (640.0, 20.0, 20.0);
    let x = |r: f64| left + (w - left - right) * (r - 1.0) / (n - 1.0).max(1.0);
    let b = format!(
        "<line x1=\"{}\" x2=\"{}\" y1=\"24\" y2=\"24\" class=\"axis\"/><rect x=\"{}\" y=\"16\" width=\"{}\" height=\"16\" fill=\"{ACCENT}\" opacity=\"0.25\"/>\
         <circle cx=\"{}\" cy=\"24\" r=\"6\" fill=\"{ACCENT}\"/><text x=\"{}\" y=\"50\" class=\"tick\">1</text><text x=\"{}\" y=\"50\" class=\"tick\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"10\" class=\"tick\" text-anchor=\"middle\">{rank}</text>",
        f(x(1.0)),
        f(x(n)),
        f(x(f64::from(p05))),
        f((x(f64::from(p95)) - x(f64::from(p05))).max(2.0)),
        f(x(f64::from(rank))),
        f(x(1.0)),
        f(x(n)),
        s.of,
        f(x(f64::from(rank)))
    );
    frame(640, 56, title, &format!("{rank} / {}: {p05}–{p95}", s.of), &b)
}

/// Counties per CASTED tier.
pub fn tier_bars(tiers: &[(u32, usize)], names: &[String], title: &str) -> String {
    let max = tiers.iter().map(|t| t.1).max().unwrap_or(0).max(1) as f64;
    let (w, bar, gap, left) = (640.0, 26.0, 10.0, 110.0);
    let h = (bar + gap) * tiers.len() as f64 + 8.0;
    let mut b = String::new();
    for (i, (tier, n)) in tiers.iter().enumerate() {
        let top = 4.0 + (bar + gap) * i as f64;
        let name = names.get(*tier as usize - 1).cloned().unwrap_or_else(|| tier.to_string());
        let width = (w - left - 60.0) * *n as f64 / max;
        let _ = write!(
            b,
            "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{bar}\" class=\"tier{tier}\"/><text x=\"{}\" y=\"{}\" class=\"value\">{n}</text>",
            f(left - 8.0),
            f(top + 18.0),
            escape(&name),
            f(left),
            f(top),
            f(width),
            f(left + width + 6.0),
            f(top + 18.0)
        );
    }
    let desc: Vec<String> = tiers
        .iter()
        .map(|(t, n)| format!("{} {n}", names.get(*t as usize - 1).cloned().unwrap_or_else(|| t.to_string())))
        .collect();
    frame(640, h as u32, title, &desc.join("; "), &b)
}

/// Every county's rank interval, in rank order (left out above 400 counties: the table holds it).
pub fn rank_intervals(rows: &[RankLine], title: &str) -> String {
    let ranked: Vec<(&RankLine, u32, u32, u32)> =
        rows.iter().filter_map(|r| Some((r, r.standing.rank?, r.standing.p05?, r.standing.p95?))).collect();
    if ranked.is_empty() || ranked.len() > 400 {
        return String::new();
    }
    let n = rows.len().max(2) as f64;
    let (w, h, left, top, bottom) = (640.0, 220.0, 36.0, 10.0, 24.0);
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / (ranked.len().max(2) - 1) as f64;
    let y = |r: f64| top + (h - top - bottom) * (r - 1.0) / (n - 1.0);
    let mut b = format!(
        "<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">1</text><text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>",
        f(left - 6.0),
        f(y(1.0) + 4.0),
        f(left - 6.0),
        f(y(n) + 4.0),
        rows.len()
    );
    for (i, (r, rank, p05, p95)) in ranked.iter().enumerate() {
        let _ = write!(
            b,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{ACCENT}\" stroke-opacity=\"0.35\" stroke-width=\"3\"/><circle cx=\"{0}\" cy=\"{3}\" r=\"2\" fill=\"{ACCENT}\"><title>{4} {rank} ({p05}–{p95})</title></circle>",
            f(x(i)),
            f(y(f64::from(*p05))),
            f(y(f64::from(*p95))),
            f(y(f64::from(*rank))),
            escape(&r.place.name)
        );
    }
    frame(640, h as u32, title, title, &b)
}
