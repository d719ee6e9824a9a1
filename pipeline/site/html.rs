//! The site's templates (`report-templates/site/`, built in): minijinja with HTML escaping of every
//! printed value, number filters, the report labels (`t`) and the site's own (`s`).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::SiteError;
use crate::labels::{fill, Labels, Lang};
use crate::text::{fmt_fixed, fmt_num, fmt_signed};

pub const CSS: &str = include_str!("../../report-templates/site/site.css");
pub const JS: &str = include_str!("../../report-templates/site/site.js");
const LABELS: &str = include_str!("../../report-templates/site/labels.toml");
const TEMPLATES: [(&str, &str); 6] = [
    ("base.html.j2", include_str!("../../report-templates/site/base.html.j2")),
    ("index.html.j2", include_str!("../../report-templates/site/index.html.j2")),
    ("county.html.j2", include_str!("../../report-templates/site/county.html.j2")),
    ("compare.html.j2", include_str!("../../report-templates/site/compare.html.j2")),
    ("method.html.j2", include_str!("../../report-templates/site/method.html.j2")),
    ("downloads.html.j2", include_str!("../../report-templates/site/downloads.html.j2")),
];

/// `&`, `<`, `>`, `"` and `'` as character references.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON to place inside `<script type="application/json">`: `<`, `>` and `&` as `\u` escapes, so
/// no value (a name with `</script>`) can end the element.
pub fn json_for_script(v: &impl Serialize) -> String {
    serde_json::to_string(v)
        .expect("site data serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Markup this module made itself (SVG, script JSON), printed as it is.
pub fn safe(s: String) -> Value {
    Value::from_safe_string(s)
}

fn as_f64(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// The loaded templates of one language.
pub struct Env {
    env: Environment<'static>,
    site: toml::Table,
    report: Labels,
}

impl Env {
    pub fn new(lang: Lang) -> Result<Env, SiteError> {
        let bad = |name: &str, message: String| SiteError::Template { name: name.into(), message };
        let all: toml::Table = toml::from_str(LABELS).map_err(|e| bad("labels.toml", e.to_string()))?;
        let site = match all.get(lang.as_str()) {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => return Err(bad("labels.toml", format!("no [{}] table", lang.as_str()))),
        };
        let report = Labels::builtin(lang);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // Every printed value through `escape` (minijinja's own HTML escaping also turns `/` into
        // `&#x2f;`, which makes links unreadable in the source and pages larger).
        crate::report::template::escape_every_value(&mut env, "html", escape);
        env.add_filter("num", |v: Value, digits: Option<usize>| fmt_num(as_f64(&v), digits));
        env.add_filter("signed", |v: Value, digits: Option<usize>| fmt_signed(as_f64(&v), digits.unwrap_or(1)));
        env.add_filter("percent", |v: Value, digits: Option<usize>| match as_f64(&v) {
            Some(x) => format!("{}%", fmt_fixed(x * 100.0, digits.unwrap_or(0), false)),
            None => "—".into(),
        });
        // JSON for a single-quoted attribute or a script element: `<`, `>`, `&` and `'` escaped.
        env.add_filter("tojson", |v: Value| Value::from_safe_string(json_for_script(&v).replace('\'', "\\u0027")));
        // A path segment for an href: the characters that end or change a URL (# ? %, space,
        // quotes) percent-encoded; CJK names stay readable, as browsers send them encoded anyway.
        env.add_filter("href", |v: String| -> String {
            let mut out = String::with_capacity(v.len());
            for c in v.chars() {
                match c {
                    '%' | '#' | '?' | ' ' | '"' | '\'' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                        out.push_str(&format!("%{:02X}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out
        });
        // A sort key: the number itself, or empty (missing sorts last).
        env.add_filter("key", |v: Value| as_f64(&v).map_or(String::new(), |x| format!("{x}")));
        env.add_filter("fill", |pattern: String, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let mut args: Vec<(String, Value)> = Vec::new();
            for k in kwargs.args() {
                args.push((k.to_string(), kwargs.get::<Value>(k)?));
            }
            Ok(fill(&pattern, |name, digits| {
                let v = &args.iter().find(|(k, _)| k == name)?.1;
                Some(match as_f64(v) {
                    Some(x) if digits.is_none() && x.fract() == 0.0 => format!("{}", x as i64),
                    Some(x) => fmt_num(Some(x), digits),
                    None if v.is_none() || v.is_undefined() => "—".into(),
                    None => v.to_string(),
                })
            }))
        });
        env.add_global("s", Value::from_serialize(&site));
        env.add_global("t", Value::from_serialize(&report.table));
        env.add_global("lang", lang.as_str());
        for (name, text) in TEMPLATES {
            env.add_template(name, text).map_err(|e| bad(name, format!("{e:#}")))?;
        }
        Ok(Env { env, site, report })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, SiteError> {
        // The error and its line, not minijinja's dump of the whole context.
        let err = |e: minijinja::Error| SiteError::Template { name: name.into(), message: e.to_string() };
        self.env.get_template(name).map_err(err)?.render(ctx).map_err(err)
    }

    /// A site label as plain text.
    pub fn s(&self, key: &str) -> String {
        self.site.get(key).and_then(|v| v.as_str()).unwrap_or(key).to_string()
    }

    pub fn tier_names(&self) -> Vec<String> {
        (1..=3).map(|t| self.report.name("tier_names", &t.to_string())).collect()
    }

    /// Title, county, all-county average and prefecture average, for the history chart.
    pub fn history_labels(&self) -> [String; 4] {
        [self.s("chart_history"), self.s("this_county"), self.s("average"), self.s("prefecture_average")]
    }
}
