//! The layers of `pipeline/`: every `crate::…` and `super::…` path of every module is checked
//! against the order declared in ARCHITECTURE.md (the `layers` block, the one place it lives). A
//! module may use its own layer and those below, a stage only the stages before it, and no
//! modules may use each other in a circle. A failure names the file and the path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The declared order: layer per top-level module (0 = lowest), and the stages' order.
struct Layers {
    layer: BTreeMap<String, (usize, String)>,
    stage: BTreeMap<String, usize>,
}

fn parse_layers(architecture: &str) -> Layers {
    let block = architecture
        .split("```layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```layers block");
    let (mut layer, mut stage) = (BTreeMap::new(), BTreeMap::new());
    for (n, line) in block.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap().to_string();
        let mut position = 0;
        for w in words {
            if w == ">" {
                position += 1;
                continue;
            }
            layer.insert(w.to_string(), (n, name.clone()));
            if line.contains('>') {
                stage.insert(w.to_string(), position);
            }
        }
    }
    Layers { layer, stage }
}

/// Every source file as (module path, code without comments and test modules); files that only
/// tests compile (`#[cfg(test)] mod x;`) are left out.
fn modules(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    parts.pop();
                }
                files.push((parts.join("::"), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let test_only: BTreeSet<String> = files
        .iter()
        .flat_map(|(m, src)| {
            let m = m.clone();
            src.split("#[cfg(test)]")
                .skip(1)
                .filter_map(|after| {
                    let decl = after
                        .trim_start()
                        .strip_prefix("mod ")
                        .or_else(|| after.trim_start().strip_prefix("pub mod "))?;
                    let name: String = decl.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    decl[name.len()..].trim_start().starts_with(';').then_some(name)
                })
                .map(move |name| if m.is_empty() { name } else { format!("{m}::{name}") })
                .collect::<Vec<_>>()
        })
        .collect();
    files
        .into_iter()
        .filter(|(m, _)| !test_only.iter().any(|t| m == t || m.starts_with(&format!("{t}::"))))
        .map(|(m, src)| (m, code(&src)))
        .collect()
}

/// The code of a file without comments and without its test module (at the end, by convention).
fn code(src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let test_module = line.trim_start().starts_with("#[cfg(test)]")
            && lines.get(i + 1).is_some_and(|n| n.trim_start().starts_with("mod ") && n.contains('{'));
        if test_module {
            break;
        }
        out.push_str(line.split("//").next().unwrap());
        out.push('\n');
    }
    out
}

/// The paths a module's code names: `use crate::…` (groups expanded), `crate::a::b` in code, and
/// `super::…` resolved against the module.
fn paths(module: &str, code: &str) -> BTreeSet<Vec<String>> {
    fn expand(prefix: &[String], body: &str, out: &mut Vec<Vec<String>>) {
        let (mut depth, mut item) = (0, String::new());
        let mut items = Vec::new();
        for c in body.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if c == ',' && depth == 0 {
                items.push(std::mem::take(&mut item));
            } else {
                item.push(c);
            }
        }
        items.push(item);
        for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
            let item = item.split(" as ").next().unwrap().trim();
            match item.find("::{").or_else(|| item.starts_with('{').then_some(0)) {
                Some(at) if item.ends_with('}') => {
                    let head: Vec<String> =
                        item[..at].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
                    let inner = if at == 0 { &item[1..item.len() - 1] } else { &item[at + 3..item.len() - 1] };
                    expand(&[prefix, &head].concat(), inner, out);
                }
                _ => out.push([prefix.to_vec(), item.split("::").map(str::to_string).collect()].concat()),
            }
        }
    }
    let here: Vec<String> = module.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
    let parent = here[..here.len().saturating_sub(1)].to_vec();
    let mut out = Vec::new();
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let body = stmt.strip_prefix("pub use ").or_else(|| stmt.strip_prefix("use "));
        if let Some(body) = body {
            if let Some(rest) = body.strip_prefix("crate::") {
                expand(&[], rest, &mut out);
            } else if let Some(rest) = body.strip_prefix("super::") {
                expand(&parent, rest, &mut out);
            }
        }
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
        for (at, _) in code.match_indices(prefix) {
            if code[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest: String = code[at + prefix.len()..].chars().take_while(|c| word(*c)).collect();
            let segs: Vec<String> = rest.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
            out.push([base.clone(), segs].concat());
        }
    }
    out.into_iter().collect()
}

/// Every import that breaks the declared order or closes a circle, in words.
fn violations(files: &[(String, String)], layers: &Layers) -> Vec<String> {
    let known: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    let mut found = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut top_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, src) in files.iter().filter(|(m, _)| !m.is_empty() && m != "main") {
        let Some(&(from_layer, ref from_name)) = layers.layer.get(&top(m)) else {
            found.push(format!("pipeline module `{}` is in no layer of ARCHITECTURE.md", top(m)));
            continue;
        };
        for p in paths(m, src) {
            // The longest module the path names.
            let Some(target) = (1..=p.len()).rev().map(|k| p[..k].join("::")).find(|c| known.contains(c.as_str()))
            else {
                continue;
            };
            if target == *m || m.starts_with(&format!("{target}::")) || target.starts_with(&format!("{m}::")) {
                continue;
            }
            let (t, f) = (top(&target), top(m));
            edges.entry(m.clone()).or_default().insert(target.clone());
            if t == f {
                continue;
            }
            top_edges.entry(f.clone()).or_default().insert(t.clone());
            let Some(&(to_layer, ref to_name)) = layers.layer.get(&t) else { continue };
            let path = p.join("::");
            if to_layer > from_layer {
                found.push(format!("{m} ({from_name}) uses {path} of a higher layer ({to_name})"));
            } else if let (Some(a), Some(b)) = (layers.stage.get(&f), layers.stage.get(&t)) {
                if b > a {
                    found.push(format!("{m} uses {path}: stage {t} comes after stage {f}"));
                }
            }
        }
    }
    let mut circled = BTreeSet::new();
    for graph in [&edges, &top_edges] {
        for circle in circles(graph) {
            circled.insert(format!("these use each other in a circle: {}", circle.join(" → ")));
        }
    }
    found.extend(circled);
    found
}

/// The strongly connected components of more than one module (Tarjan), each as a path.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a str, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(w, s);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut c = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                s.out.push(c);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(v, &mut s);
        }
    }
    s.out
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_import_follows_the_declared_layers() {
    let layers = parse_layers(&std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap());
    let files = modules(&repo().join("pipeline"));
    assert!(files.len() > 60, "read {} files", files.len());
    let found = violations(&files, &layers);
    assert!(found.is_empty(), "{} import(s) against ARCHITECTURE.md's layers:\n{}", found.len(), found.join("\n"));
}

/// The check itself finds an import against the order, a stage used before it comes, and a circle.
#[test]
fn the_check_names_what_breaks_the_order() {
    let layers = parse_layers("```layers\nbase   text\nstages ingest > compute\napp    cli config\n```\n");
    let file = |m: &str, src: &str| (m.to_string(), src.to_string());
    let files = vec![
        file("text", "use crate::cli::Args;\n"),
        file("ingest", "fn f() { crate::compute::run(); }\n"),
        file("compute", "use crate::{ingest::Observation, text};\n"),
        file("cli", "use crate::config::Config;\n"),
        file("config", "pub fn f() -> crate::cli::Args { todo!() }\n// crate::nothing in a comment\n"),
        file("compute::index", "use super::methods::*;\n"),
        file("compute::methods", "use super::index::Panel;\n"),
    ];
    let found = violations(&files, &layers);
    let expect = [
        "text (base) uses cli::Args of a higher layer (app)",
        "ingest uses compute::run: stage compute comes after stage ingest",
        "these use each other in a circle: compute::index → compute::methods",
        "these use each other in a circle: cli → config",
        "these use each other in a circle: compute → ingest",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f == e), "missing {e:?} in {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}
