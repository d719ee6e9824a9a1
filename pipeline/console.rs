//! What the commands print on stderr: stage lines, progress (a bar on a terminal, plain lines
//! otherwise), and the input problems; nothing when quiet. Results go to stdout from the commands.

use std::io::Write;

use crate::ingest::{Lang, Problem};

/// Stage lines and progress; `run` and the report stage only see this trait.
pub trait Log: Sync {
    fn quiet(&self) -> bool;
    fn stage(&self, msg: &str);
    fn progress(&self, done: usize, total: usize, label: &str);
}

pub struct Console {
    quiet: bool,
    tty: bool,
}

impl Console {
    pub fn new(quiet: bool) -> Console {
        use std::io::IsTerminal;
        Console { quiet, tty: std::io::stderr().is_terminal() }
    }
}

impl Log for Console {
    fn quiet(&self) -> bool {
        self.quiet
    }

    fn stage(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn progress(&self, done: usize, total: usize, label: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = done * width / total.max(1);
            let _ =
                write!(err, "\r\x1b[2K[{}{}] {done}/{total} {label}", "#".repeat(filled), " ".repeat(width - filled));
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
        } else {
            let _ = writeln!(err, "rendered {done}/{total}: {label}");
        }
    }
}

/// Up to this many problems are printed one by one; beyond, grouped by file and kind.
const LIST_ALL: usize = 40;
/// Lines shown of each group, and groups shown at most.
const PER_GROUP: usize = 3;
const GROUPS: usize = 30;

/// Problems to stderr in `lang`, errors first; `limit` shortens the list (cron's `--quiet`).
/// Thousands of problems from one cause print as a count per file and kind with the first few:
/// the problems workbook has them all.
pub fn print_problems(problems: &[Problem], limit: Option<usize>, lang: Lang) {
    let mut err = std::io::stderr().lock();
    for line in problem_lines(problems, limit, lang) {
        let _ = writeln!(err, "{line}");
    }
}

/// The lines `print_problems` prints.
fn problem_lines(problems: &[Problem], limit: Option<usize>, lang: Lang) -> Vec<String> {
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    // Causes before consequences: a county not reported (coverage) often follows from a row
    // above whose county could not be identified.
    sorted.sort_by(|a, b| (a.severity, a.kind == "coverage", &a.loc).cmp(&(b.severity, b.kind == "coverage", &b.loc)));
    let zh = lang == Lang::Zh;
    let mut lines = Vec::new();
    let all = LIST_ALL.min(limit.unwrap_or(usize::MAX));
    if sorted.len() <= all {
        lines.extend(sorted.iter().map(|p| p.line(lang)));
        return lines;
    }
    // A line may stand for many problems of its file and kind (counted beyond the first thousand).
    let count = |ps: &[&Problem]| ps.iter().map(|p| p.count()).sum::<u64>();
    if let Some(limit) = limit {
        // Cron's short list: the first few, then where the rest are.
        lines.extend(sorted[..limit].iter().map(|p| p.line(lang)));
        let rest = count(&sorted[limit..]);
        lines.push(if zh {
            format!("……另有 {rest} 条（全部列在 runs/ 下的运行记录和 problems.xlsx 中）")
        } else {
            format!("… and {rest} more (all of them are in the run's manifest under runs/ and in problems.xlsx)")
        });
        return lines;
    }
    // Groups in the order of their first problem.
    type Key<'a> = (crate::ingest::Severity, &'a str, &'static str);
    let mut groups: Vec<(Key, Vec<&Problem>)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = Default::default();
    for p in &sorted {
        let key = (p.severity, &*p.loc.file, p.kind);
        let i = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(p);
    }
    for ((severity, file, kind), members) in groups.iter().take(GROUPS) {
        if members.len() > PER_GROUP {
            let level = match (severity, zh) {
                (crate::ingest::Severity::Error, false) => "errors",
                (crate::ingest::Severity::Warning, false) => "warnings",
                (crate::ingest::Severity::Error, true) => "处错误",
                (crate::ingest::Severity::Warning, true) => "条提示",
            };
            let n = count(members);
            lines.push(if zh {
                format!("{file}：{n} {level} [{kind}]，前 {PER_GROUP} 条：")
            } else {
                format!("{file}: {n} {level} [{kind}], the first {PER_GROUP}:")
            });
        }
        lines.extend(members.iter().take(PER_GROUP).map(|p| format!("  {}", p.line(lang))));
    }
    if groups.len() > GROUPS {
        let rest: u64 = groups[GROUPS..].iter().map(|g| count(&g.1)).sum();
        lines.push(if zh {
            format!("……另有 {} 类共 {rest} 条", groups.len() - GROUPS)
        } else {
            format!("… and {rest} more of {} other kinds", groups.len() - GROUPS)
        });
    }
    let all = count(&sorted);
    lines.push(if zh {
        format!("共 {all} 条；完整清单：cimon validate --problems 问题清单.xlsx（cimon run 写入输出目录的 problems.xlsx）")
    } else {
        format!("{all} in all; the full list: cimon validate --problems FILE.xlsx (cimon run writes problems.xlsx into the output directory)")
    });
    lines
}
