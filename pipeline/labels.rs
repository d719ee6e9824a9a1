//! The fixed wording of reports and the workbook per language (`labels.toml`), and the filling of
//! its `{name}` placeholders: sentences live in the labels, values come from the context.

use crate::codes::Note;

pub use crate::text::Lang;

/// The labels file built into cimon (a copy of `report-templates/labels.toml`).
pub const BUILTIN: &str = include_str!("../report-templates/labels.toml");

/// One language's table of labels.
#[derive(Debug, Clone)]
pub struct Labels {
    pub table: toml::Table,
}

impl Labels {
    /// The `[lang]` table of a labels file; the error is the message to show with the file name.
    pub fn parse(text: &str, lang: Lang) -> Result<Labels, String> {
        let all: toml::Table = toml::from_str(text).map_err(|e| crate::text::toml_error(text, &e))?;
        match all.get(lang.as_str()) {
            Some(toml::Value::Table(t)) => Ok(Labels { table: t.clone() }),
            _ => Err(format!("no [{}] table of labels for the report language", lang.as_str())),
        }
    }

    pub fn builtin(lang: Lang) -> Labels {
        Labels::parse(BUILTIN, lang).expect("the built-in labels parse (tested)")
    }

    /// `table.key` (e.g. `status_names.achieved`), or the key itself when the labels lack it.
    pub fn name(&self, table: &str, key: &str) -> String {
        self.table.get(table).and_then(|t| t.get(key)).and_then(|v| v.as_str()).unwrap_or(key).to_string()
    }

    /// A note in this language, as plain text (the workbook).
    pub fn note(&self, note: &Note) -> String {
        let key = note.key();
        let args = serde_json::to_value(note).expect("notes serialise");
        match self.table.get("notes").and_then(|t| t.get(&key)).and_then(|v| v.as_str()) {
            Some(pattern) => fill(pattern, |name, digits| Some(plain(args.get(name)?, digits))),
            None => note.english(),
        }
    }
}

/// A JSON argument as text: whole numbers plain (years, counts, ranks), others with `digits`
/// decimals or about four significant digits.
fn plain(v: &serde_json::Value, digits: Option<usize>) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        serde_json::Value::Number(n) => crate::text::fmt_num(n.as_f64(), digits),
        other => other.to_string(),
    }
}

/// Replace every `{name}` or `{name:digits}` in `pattern` by `arg(name, digits)`; a placeholder
/// without a value stays as written, so a missing argument shows instead of vanishing.
pub fn fill(pattern: &str, arg: impl Fn(&str, Option<usize>) -> Option<String>) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &after[..close];
        let (name, digits) = match spec.split_once(':') {
            Some((n, d)) => (n, d.parse().ok()),
            None => (spec, None),
        };
        match arg(name, digits) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name_with_optional_digits() {
        let arg = |n: &str, d: Option<usize>| match n {
            "year" => Some("2020".to_string()),
            "g" => Some(format!("{:.*}", d.unwrap_or(3), 9.126)),
            _ => None,
        };
        assert_eq!(fill("截至 {year} 年：{g:1}%，{missing}", arg), "截至 2020 年：9.1%，{missing}");
        assert_eq!(fill("no braces", arg), "no braces");
        assert_eq!(fill("open { only", arg), "open { only");
    }

    #[test]
    fn every_note_has_wording_in_both_languages() {
        let notes = [
            Note::NoEndValue { year: 2020 },
            Note::NoValueUpToEnd,
            Note::TooLittleHistory,
            Note::NoBaseValue { year: 2017 },
            Note::NoValueAfterBase,
            Note::GrowthUndefined,
            Note::BeyondRange { growth: 9.126 },
            Note::NoValueInPeriod,
            Note::MetYears { met: 1, seen: 2 },
            Note::MissingCountedZero,
            Note::MilestoneMissed { year: 2022 },
            Note::RankInterval { p05: 2, p95: 7 },
            Note::TierShare { share: 0.42 },
            Note::MissedInYear { year: 2022 },
            Note::NotAllReported { reported: 12, counties: 14 },
        ];
        for lang in [Lang::Zh, Lang::En] {
            let labels = Labels::builtin(lang);
            for n in &notes {
                let text = labels.note(n);
                assert!(!text.contains('{'), "{lang:?} {n:?}: {text}");
                let key = n.key();
                assert!(labels.table["notes"].get(&key).is_some(), "{lang:?} labels lack notes.{key}");
            }
        }
        assert_eq!(Labels::builtin(Lang::Zh).note(&Note::MetYears { met: 1, seen: 2 }), "迄今 2 年中 1 年达标");
        assert_eq!(
            Labels::builtin(Lang::En).note(&Note::BeyondRange { growth: 9.126 }),
            Note::BeyondRange { growth: 9.126 }.english()
        );
    }
}
