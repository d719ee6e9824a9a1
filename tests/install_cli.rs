//! cimon as a bureau installs it: run from a project directory of its own, far from this source
//! tree, with the catalog, registry, templates and labels built in; `cimon init` writes a project
//! that runs as it is; `cimon doctor` names each problem a batch would meet, with what to do.
//! Needs typst 0.15 and the Noto CJK fonts (`bash .ci/setup`).

mod common;

use std::path::Path;

use common::cimon_env;

/// cimon in `dir` (a project outside the source tree), English messages.
fn cimon_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    cimon_env(dir, args, env)
}

/// A project `cimon init` wrote in an empty directory, with the synthetic sample's files as its inputs.
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cimon_in(dir, &["init", "."], &[]).success();
    let synth = dir.join("synth");
    cimon_in(dir, &["synth", "--out", synth.to_str().unwrap()], &[]).success();
    for e in std::fs::read_dir(synth.join("inputs")).unwrap().flatten() {
        let to = dir.join("inputs").join(e.file_name());
        if e.path().is_dir() {
            common::copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
    std::fs::remove_dir_all(synth).unwrap();
    tmp
}

#[test]
fn init_then_run_in_a_directory_of_its_own() {
    let tmp = project();
    let dir = tmp.path();
    assert!(dir.join("inputs/不导入_说明.md").is_file(), "the note on what goes into inputs/");
    // The project's cimon.toml is found without --config; the note is not data: no warning names it.
    let run = cimon_in(dir, &["run"], &[]);
    run.success();
    assert!(!run.stderr.contains("不导入_说明"), "{}", run.stderr);
    let reports = std::fs::read_dir(dir.join("out/reports")).unwrap().flatten();
    assert_eq!(reports.filter(|e| e.path().extension().is_some_and(|x| x == "pdf")).count(), 26);
    assert!(dir.join("out/results/data-dictionary.toml").is_file());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("out/manifest.json")).unwrap()).unwrap();
    let schemas: Vec<&str> = m["schemas"].as_array().unwrap().iter().map(|s| s["file"].as_str().unwrap()).collect();
    assert_eq!(schemas, ["(built-in) schemas/indicators.toml", "(built-in) schemas/regions.csv"]);
    cimon_in(dir, &["doctor"], &[]).success().stdout_line(&["a run can start"]);
    // A second init never writes over a project.
    cimon_in(dir, &["init", "."], &[]).failure(2).stderr_line(&["cimon.toml exists already"]);
}

#[test]
fn init_with_copies_of_the_catalog_and_registry_to_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cimon_in(dir, &["init", "p", "--with-catalog", "--with-registry"], &[]).success();
    let p = dir.join("p");
    assert_eq!(std::fs::read_to_string(p.join("schemas/indicators.toml")).unwrap(), cimon::catalog::BUILTIN);
    assert_eq!(std::fs::read_to_string(p.join("schemas/regions.csv")).unwrap(), cimon::regions::BUILTIN);
    // The config uses them: an edited catalog is what a run reads.
    let catalog = std::fs::read_to_string(p.join("schemas/indicators.toml")).unwrap();
    std::fs::write(p.join("schemas/indicators.toml"), format!("{catalog}\n[[indicators]]\ncode = \"half\"\n")).unwrap();
    cimon_in(&p, &["doctor"], &[]).failure(2).stdout_line(&["FAIL  schemas", "schemas/indicators.toml"]);
    // The second shipped catalog, by name: the 双创 framework, with its AHP judgements.
    cimon_in(dir, &["init", "sc", "--with-catalog", "shuangchuang"], &[]).success();
    let sc = dir.join("sc");
    assert_eq!(std::fs::read_to_string(sc.join("schemas/shuangchuang.toml")).unwrap(), cimon::catalog::SHUANGCHUANG);
    let config = std::fs::read_to_string(sc.join("cimon.toml")).unwrap();
    assert!(config.contains("\ncatalog = \"schemas/shuangchuang.toml\""), "{config}");
    cimon_in(&sc, &["doctor"], &[]).stdout_line(&["schemas/shuangchuang.toml"]);
}

/// A typst that says it is another version.
fn fake_typst(dir: &Path, version: &str) -> std::path::PathBuf {
    let path = dir.join("typst");
    std::fs::write(&path, format!("#!/bin/sh\necho 'typst {version} (fake)'\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn doctor_names_each_problem_and_what_to_do() {
    let tmp = project();
    let dir = tmp.path();
    let check = |args: &[&str], env: &[(&str, &str)], code: i32, needles: &[&str]| {
        let mut all = vec!["doctor"];
        all.extend_from_slice(args);
        let r = cimon_in(dir, &all, env);
        r.failure(code).stdout_line(needles);
        r
    };
    // typst missing, or another version.
    check(&[], &[("CIMON_TYPST", "/nonexistent/typst")], 4, &["FAIL  typst and fonts", "typst not found"])
        .stdout_line(&["→ install it with `cargo install typst-cli"]);
    let old = fake_typst(dir, "0.12.0");
    check(&[], &[("CIMON_TYPST", old.to_str().unwrap())], 4, &["FAIL  typst and fonts", "is typst 0.12.0"]);
    // The fonts the templates name.
    std::fs::create_dir_all(dir.join("no-fonts")).unwrap();
    std::fs::write(dir.join("fonts.toml"), "[input]\ndir = \"inputs\"\n[report]\nfonts = [\"no-fonts\"]\n").unwrap();
    check(&["--config", "fonts.toml"], &[], 4, &["FAIL  typst and fonts", "Noto Sans CJK SC, Noto Serif CJK SC"])
        .stdout_line(&["→ install them with `apt-get install fonts-noto-cjk`"]);
    // A path in the config that is not there.
    std::fs::write(dir.join("paths.toml"), "[input]\ndir = \"inputs\"\n[schemas]\ncatalog = \"mine.toml\"\n").unwrap();
    check(&["--config", "paths.toml"], &[], 2, &["FAIL  schemas", "mine.toml"]);
    // No input files: an empty folder (a share not mounted).
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    check(&["empty"], &[], 2, &["FAIL  input files", "no CSV or workbook files found"]);
    // An output directory nobody may write.
    check(&["--out", "/proc/cimon-out"], &[], 1, &["FAIL  output directory", "cannot write into /proc"]);
    // Another cimon holds the lock.
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let lock = std::fs::File::create(dir.join("out/.cimon.lock")).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor the test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    check(&[], &[], 5, &["FAIL  lock", "in use by another cimon"]);
    drop(lock);
    cimon_in(dir, &["doctor"], &[]).success();
}

#[test]
fn version_completions_and_man_pages_come_from_the_one_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let v = cimon_in(dir, &["--version"], &[]);
    v.success();
    assert!(v.stdout.starts_with(&format!("cimon {} (", env!("CARGO_PKG_VERSION"))), "{}", v.stdout);
    for (shell, needle) in [("bash", "_cimon()"), ("zsh", "#compdef cimon"), ("fish", "complete -c cimon")] {
        let r = cimon_in(dir, &["completions", shell], &[]);
        r.success();
        assert!(
            r.stdout.contains(needle) && r.stdout.contains("doctor"),
            "{shell}: {}",
            &r.stdout[..200.min(r.stdout.len())]
        );
    }
    cimon_in(dir, &["man", "man"], &[]).success();
    let page = std::fs::read_to_string(dir.join("man/cimon-run.1")).unwrap();
    assert!(page.contains(".TH CIMON-RUN") && page.contains("allow\\-loss"), "{page}");
    assert!(dir.join("man/cimon.1").is_file() && dir.join("man/cimon-doctor.1").is_file());
}
