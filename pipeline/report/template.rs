//! Report templates: minijinja over Typst sources, every printed value escaped for Typst markup.
//!
//! `{{ x }}` escapes `x` for markup; `x | str` makes a Typst string literal and `x | typst` any
//! Typst value (arrays, dictionaries) for use in code; `num`, `signed` and `percent` format numbers.

use crate::text::fmt_fixed;
pub use crate::text::{fmt_num, fmt_signed};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::labels::{fill, Labels, Lang};

pub const COUNTY: &str = "county.typ.j2";
pub const OVERVIEW: &str = "overview.typ.j2";
pub const PROVINCE: &str = "province.typ.j2";
pub const LABELS: &str = "labels.toml";

/// The templates in `report-templates/`, compiled in: `cimon report` works from any directory.
const BUILTIN: &[(&str, &str)] = &[
    (COUNTY, include_str!("../../report-templates/county.typ.j2")),
    (OVERVIEW, include_str!("../../report-templates/overview.typ.j2")),
    (PROVINCE, include_str!("../../report-templates/province.typ.j2")),
    ("rankings.typ.j2", include_str!("../../report-templates/rankings.typ.j2")),
    ("style.typ.j2", include_str!("../../report-templates/style.typ.j2")),
    ("appendix.typ.j2", include_str!("../../report-templates/appendix.typ.j2")),
    ("targets.typ.j2", include_str!("../../report-templates/targets.typ.j2")),
    ("charts.typ", include_str!("../../report-templates/charts.typ")),
    (LABELS, crate::labels::BUILTIN),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template directory {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("template directory {dir} has no {name}")]
    Missing { dir: String, name: &'static str },
    #[error("{path}: {message}")]
    Labels { path: String, message: String },
    #[error("template {path}, line {line}: {message}")]
    Template { path: String, line: usize, message: String },
}

/// The loaded template set with its labels for one language.
pub struct Templates {
    env: Environment<'static>,
    /// Where the templates came from: a directory, or "built-in templates".
    origin: String,
    dir: Option<PathBuf>,
    sources: BTreeMap<String, String>,
}

impl Templates {
    /// Load from `dir`, or the built-in set; syntax errors are reported here, naming file and line.
    pub fn load(dir: Option<&Path>, lang: Lang) -> Result<Templates, TemplateError> {
        let mut sources = BTreeMap::new();
        match dir {
            None => {
                for (name, text) in BUILTIN {
                    sources.insert(name.to_string(), text.to_string());
                }
            }
            Some(d) => {
                let entries = std::fs::read_dir(d).map_err(|source| TemplateError::Io { path: d.into(), source })?;
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let is_template = name.ends_with(".j2") || name.ends_with(".typ") || name == LABELS;
                    if is_template && e.path().is_file() {
                        let text = std::fs::read_to_string(e.path())
                            .map_err(|source| TemplateError::Io { path: e.path(), source })?;
                        sources.insert(name, text);
                    }
                }
            }
        }
        let origin = dir.map_or_else(|| "built-in templates".to_string(), |d| d.display().to_string());
        for name in [COUNTY, OVERVIEW, PROVINCE, LABELS] {
            if !sources.contains_key(name) {
                return Err(TemplateError::Missing { dir: origin, name });
            }
        }
        let labels_path = dir.map_or_else(|| LABELS.to_string(), |d| d.join(LABELS).display().to_string());
        let t = Labels::parse(&sources[LABELS], lang)
            .map_err(|message| TemplateError::Labels { path: labels_path, message })?
            .table;

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        escape_every_value(&mut env, "typst", escape_markup);
        env.add_filter("str", |v: Value| Value::from_safe_string(string_literal(&v.to_string())));
        env.add_filter("typst", |v: Value| Value::from_safe_string(typst_value(&v)));
        env.add_filter("num", |v: Value, digits: Option<usize>| Value::from_safe_string(fmt_num(as_f64(&v), digits)));
        env.add_filter("signed", |v: Value, digits: Option<usize>| {
            Value::from_safe_string(fmt_signed(as_f64(&v), digits.unwrap_or(1)))
        });
        env.add_filter("percent", |v: Value, digits: Option<usize>| {
            Value::from_safe_string(match as_f64(&v) {
                Some(x) => format!("{}%", fmt_fixed(x * 100.0, digits.unwrap_or(0), false)),
                None => "—".into(),
            })
        });
        env.add_filter("fill", fill_filter);
        env.add_global("t", Value::from_serialize(&t));
        env.add_global("lang", lang.as_str());
        for (name, text) in &sources {
            if name.ends_with(".j2") || name.ends_with(".typ") {
                env.add_template_owned(name.clone(), text.clone()).map_err(|e| template_error(&origin, dir, &e))?;
            }
        }
        Ok(Templates { env, origin, dir: dir.map(Path::to_path_buf), sources })
    }

    /// Render one template with `ctx` as its variables.
    pub fn render(&self, name: &str, ctx: &impl Serialize) -> Result<String, TemplateError> {
        let tmpl = self.env.get_template(name).map_err(|e| template_error(&self.origin, self.dir.as_deref(), &e))?;
        tmpl.render(Value::from_serialize(ctx)).map_err(|e| template_error(&self.origin, self.dir.as_deref(), &e))
    }

    /// sha256 over every template file: reports depend on it as much as on their data.
    /// Every template's text, for what it names (the font families).
    pub fn text(&self) -> String {
        self.sources.values().map(String::as_str).collect::<Vec<_>>().join("\n")
    }

    pub fn fingerprint(&self) -> String {
        let mut all = String::new();
        for (name, text) in &self.sources {
            let _ = write!(all, "{}\0{}\0{}\0", name, text.len(), text);
        }
        crate::text::sha256_hex(all.as_bytes())
    }

    /// The template file and line that most likely produced `generated` (a line of Typst output):
    /// the line whose literal text, outside `{{ }}` and `{% %}`, appears in it most fully.
    pub fn locate(&self, generated: &str) -> Option<String> {
        let mut best: Option<(usize, &str, usize)> = None;
        for (name, text) in &self.sources {
            if name == LABELS {
                continue;
            }
            for (n, line) in text.lines().enumerate() {
                let pieces = literal_pieces(line);
                let len: usize = pieces.iter().map(|p| p.len()).sum();
                if len < 3 || !in_order(generated, &pieces) {
                    continue;
                }
                if best.is_none_or(|(l, _, _)| len > l) {
                    best = Some((len, name, n + 1));
                }
            }
        }
        best.map(|(_, name, line)| match &self.dir {
            Some(d) => format!("{}:{line}", d.join(name).display()),
            None => format!("{name}:{line} (built-in)"),
        })
    }
}

/// `label | fill(map)` or `label | fill(name=value, …)`: the label's `{name}` placeholders
/// filled with escaped values (numbers whole or with `{name:digits}` decimals; values already
/// formatted by `num`, `signed` or `percent` as they are). The label itself is trusted markup.
fn fill_filter(pattern: String, map: Option<Value>, kwargs: Kwargs) -> Result<Value, minijinja::Error> {
    let mut args: Vec<(String, Value)> = Vec::new();
    if let Some(m) = map.filter(|m| m.kind() == ValueKind::Map) {
        for k in m.try_iter()? {
            args.push((k.to_string(), m.get_item(&k)?));
        }
    }
    for k in kwargs.args() {
        args.push((k.to_string(), kwargs.get::<Value>(k)?));
    }
    let text = fill(&pattern, |name, digits| {
        let v = &args.iter().rev().find(|(k, _)| k == name)?.1;
        Some(if v.is_safe() {
            v.to_string()
        } else if v.is_none() || v.is_undefined() {
            "—".to_string()
        } else if v.kind() == ValueKind::Number {
            match (as_f64(v), digits) {
                (Some(x), None) if x.fract() == 0.0 => format!("{}", x as i64),
                (x, d) => fmt_num(x, d),
            }
        } else {
            escape_markup(&v.to_string())
        })
    });
    Ok(Value::from_safe_string(text))
}

fn template_error(origin: &str, dir: Option<&Path>, e: &minijinja::Error) -> TemplateError {
    let name = e.name().unwrap_or("?");
    let path = match dir {
        Some(d) => d.join(name).display().to_string(),
        None => format!("{name} ({origin})"),
    };
    let mut message = e.kind().to_string();
    if let Some(d) = e.detail() {
        message = format!("{message}: {d}");
    }
    TemplateError::Template { path, line: e.line().unwrap_or(0), message }
}

/// The literal text of a template line: what is left between tags, trimmed.
fn literal_pieces(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let next = ["{{", "{%", "{#"].iter().filter_map(|o| rest.find(o)).min();
        match next {
            Some(i) => {
                out.push(rest[..i].trim());
                let close = match &rest[i..i + 2] {
                    "{{" => "}}",
                    "{%" => "%}",
                    _ => "#}",
                };
                match rest[i + 2..].find(close) {
                    Some(j) => rest = &rest[i + 2 + j + 2..],
                    None => break,
                }
            }
            None => {
                out.push(rest.trim());
                break;
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

fn in_order(hay: &str, pieces: &[&str]) -> bool {
    let mut at = 0;
    for p in pieces {
        match hay[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

/// Print every value through `escape` (`name` is the auto-escape mode's), a value marked safe
/// as it is and a missing one as "—": the one way templates print, for reports and the site.
pub fn escape_every_value(env: &mut Environment<'_>, name: &'static str, escape: fn(&str) -> String) {
    env.set_auto_escape_callback(move |_| AutoEscape::Custom(name));
    env.set_formatter(move |out, _state, value| {
        let text = if value.is_safe() {
            value.to_string()
        } else if value.is_none() {
            "—".to_string()
        } else {
            escape(&value.to_string())
        };
        out.write_str(&text).map_err(|_| minijinja::Error::from(minijinja::ErrorKind::WriteFailure))
    });
}

/// Escape text for Typst markup: every character that could start markup, code, math, a
/// comment, a label or a reference is backslash-escaped; line breaks become spaces.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\\' | '#' | '$' | '*' | '_' | '[' | ']' | '@' | '<' | '>' | '`' | '~' | '=' | '-' | '+' | '/' | '"'
            | '\'' | '.' | ':' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A Typst string literal.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Any template value as Typst code: none, bools, numbers, strings, arrays, dictionaries.
pub fn typst_value(v: &Value) -> String {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => "none".into(),
        ValueKind::Bool => if v.is_true() { "true" } else { "false" }.into(),
        ValueKind::Number => match as_f64(v) {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
            Some(x) => format!("{x:?}"),
            None => "none".into(),
        },
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<String> = v.try_iter().map(|it| it.map(|x| typst_value(&x)).collect()).unwrap_or_default();
            if items.is_empty() {
                "()".into()
            } else {
                format!("({},)", items.join(", "))
            }
        }
        ValueKind::Map => {
            let mut items = Vec::new();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let val = v.get_item(&k).unwrap_or(Value::UNDEFINED);
                    items.push(format!("{}: {}", string_literal(&k.to_string()), typst_value(&val)));
                }
            }
            if items.is_empty() {
                "(:)".into()
            } else {
                format!("({})", items.join(", "))
            }
        }
        _ => string_literal(&v.to_string()),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    if v.kind() != ValueKind::Number {
        return None;
    }
    f64::try_from(v.clone()).ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_escaping_covers_every_special_character() {
        assert_eq!(escape_markup("A#b$c*d_e[f]g\\h@i<j>k//l"), "A\\#b\\$c\\*d\\_e\\[f\\]g\\\\h\\@i\\<j\\>k\\/\\/l");
        assert_eq!(escape_markup("东宝区\n= 标题"), "东宝区 \\= 标题");
    }

    #[test]
    fn numbers_keep_four_significant_digits_with_separators() {
        assert_eq!(fmt_num(Some(23188.54), None), "23,189");
        assert_eq!(fmt_num(Some(308.34), None), "308.3");
        assert_eq!(fmt_num(Some(4.2), None), "4.20");
        assert_eq!(fmt_num(Some(80.0), None), "80");
        assert_eq!(fmt_num(Some(0.6571), None), "0.657");
        assert_eq!(fmt_num(Some(-1234567.0), None), "−1,234,567");
        assert_eq!(fmt_num(None, None), "—");
        assert_eq!(fmt_signed(Some(1.26), 1), "+1.3");
        assert_eq!(fmt_signed(Some(-0.04), 1), "0.0");
        assert_eq!(fmt_signed(Some(-0.44), 1), "−0.4");
    }

    #[test]
    fn labels_are_filled_with_escaped_values_and_trusted_markup() {
        let mut env = Environment::new();
        env.add_filter("fill", fill_filter);
        env.add_filter("num", |v: Value, d: Option<usize>| Value::from_safe_string(fmt_num(as_f64(&v), d)));
        let tpl =
            "{{ '*{name}*: {rank}, {x:1}, {big}, {n}, {gone}' | fill(m, rank=3, x=2.345, big=12345.6 | num, n=none) }}";
        let out = env.render_str(tpl, minijinja::context! { m => minijinja::context! { name => "A#b_c" } }).unwrap();
        assert_eq!(out, "*A\\#b\\_c*: 3, 2.3, 12,346, —, {gone}");
    }

    #[test]
    fn values_become_typst_code() {
        let v = Value::from_serialize(serde_json::json!({"a": [1, 2.5, null], "b": "x\"y"}));
        assert_eq!(typst_value(&v), "(\"a\": (1, 2.5, none,), \"b\": \"x\\\"y\")");
        assert_eq!(typst_value(&Value::from_serialize(Vec::<i32>::new())), "()");
    }

    #[test]
    fn template_lines_are_located_from_their_literal_text() {
        assert_eq!(
            literal_pieces("#text(size: {{ s }}pt)[{{ name }}] {% if x %}ok{% endif %}"),
            vec!["#text(size:", "pt)[", "]", "ok"]
        );
        assert!(in_order("#text(size: 9pt)[东宝区] ok", &["#text(size:", "pt)[", "]", "ok"]));
        assert!(!in_order("#text(size: 9pt)", &["pt)", "#text"]));
    }
}
