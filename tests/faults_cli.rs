//! Faults while the yearly batch runs: I/O errors and a broken invariant injected into the debug
//! build (`CIMON_FAULT`), a full disk and a read-only output directory (real: a small tmpfs in a
//! mount namespace of the test's own), typst missing, crashing or hanging, and SIGKILL at random
//! moments over many runs. After each, the published trees are exactly the previous run's or the
//! new run's, the lock is free, the next run completes, and the message says what happened and
//! what to do. Needs typst 0.15 (`bash .ci/setup`) and util-linux's `unshare`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{cimon_env, published, repo, sample, sample_in, snapshot, spawn_run, staging};
use rand::{Rng, SeedableRng};

/// The published trees without what names the run (`.run-id`, the manifest): equal for two
/// runs of the same inputs.
fn trees(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    for tree in ["store", "results", "reports"] {
        let files = snapshot(&out.join(tree)).into_iter().filter(|(p, _)| !p.ends_with(".run-id"));
        all.extend(files.map(|(p, b)| (Path::new(tree).join(p), b)));
    }
    all
}

fn run(cfg: &Path, extra: &[&str], env: &[(&str, &str)]) -> common::Run {
    let mut args = vec!["run", "--config", cfg.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    cimon_env(&repo(), &args, env)
}

/// 东宝区's 2024 科技特派员数 in the sample's inputs, set to `v`: versions of the inputs to tell runs apart.
fn set_value(cfg: &Path, v: u32) {
    let file = cfg.parent().unwrap().join("inputs/2024/2024年_荆门市.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let row = lines.iter().position(|l| l.starts_with("420802,")).unwrap();
    let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    cells[8] = v.to_string();
    lines[row] = cells.join(",");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
}

/// Nothing published changed and nothing was left behind.
#[track_caller]
fn intact(out: &Path, before: &[(PathBuf, Vec<u8>)], what: &str) {
    assert!(published(out) == before, "{what}: the published outputs changed");
    assert!(staging(out).is_none(), "{what}: a staging tree was left behind");
}

#[test]
fn injected_io_errors_and_a_broken_invariant_publish_nothing() {
    let (_tmp, cfg, out) = sample();
    run(&cfg, &[], &[]).success();
    let before = published(&out);
    for (i, (fault, code, needles)) in [
        ("invariant", 6, ["internal check failed: ranks for", "nothing was published"]),
        ("eio:store", 1, ["cannot write the new store", "Input/output error"]),
        ("eio:results", 1, ["cannot write the results", "Input/output error"]),
        ("eio:workbook", 1, ["results.xlsx", "Input/output error"]),
        ("eio:reports", 1, [".typ", "Input/output error"]),
        ("eio:publish", 1, ["cannot publish the run into", "Input/output error"]),
    ]
    .into_iter()
    .enumerate()
    {
        // Changed inputs: every stage has work to do (the changed reports are compiled).
        set_value(&cfg, 120 + i as u32);
        let r = run(&cfg, &[], &[("CIMON_FAULT", fault)]);
        r.failure(code).stderr_line(&needles);
        let hint = if fault == "invariant" { "a bug in cimon" } else { "the disk reported an I/O error" };
        r.stderr_line(&["hint:", hint, "the published outputs are unchanged"]);
        intact(&out, &before, fault);
        let log = std::fs::read_to_string(out.join("runs.log")).unwrap();
        assert!(log.lines().last().unwrap().contains(&format!("exit={code}")), "{fault}: {log}");
    }
    set_value(&cfg, 242);
    run(&cfg, &[], &[]).success();
    assert!(published(&out) != before, "the next run publishes");
}

/// A fake typst: reports version 0.15.1, then does `body` when asked to compile.
fn fake_typst(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let script =
        format!("#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 'typst 0.15.1 (fake)'; exit 0; fi\n{body}\n");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn typst_missing_crashing_or_hanging_publishes_nothing() {
    let (tmp, cfg, out) = sample();
    run(&cfg, &[], &[]).success();
    let before = published(&out);
    set_value(&cfg, 242);
    let missing = tmp.path().join("no-such-typst");
    run(&cfg, &[], &[("CIMON_TYPST", missing.to_str().unwrap())])
        .failure(4)
        .stderr_line(&["typst not found", "does not exist"])
        .stderr_line(&["hint:", "cargo install typst-cli"]);
    intact(&out, &before, "typst missing");

    let crash = fake_typst(tmp.path(), "typst-crash", "kill -SEGV $$");
    run(&cfg, &[], &[("CIMON_TYPST", crash.to_str().unwrap())])
        .failure(4)
        .stderr_line(&["typst was killed by signal 11 (it crashed), printing nothing"]);
    intact(&out, &before, "typst crashing");

    // Hanging: stopped after [report] timeout, and the other reports are not tried.
    let hang = fake_typst(tmp.path(), "typst-hang", "exec sleep 600");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("[report]\n", "[report]\ntimeout = 1\n")).unwrap();
    let t = Instant::now();
    run(&cfg, &[], &[("CIMON_TYPST", hang.to_str().unwrap())])
        .failure(4)
        .stderr_line(&["typst took longer than 1 s on this report and was stopped ([report] timeout"])
        .stderr_line(&["not compiled: typst hung on an earlier report and was stopped"]);
    assert!(t.elapsed() < Duration::from_secs(30), "a hung typst held the run {:?}", t.elapsed());
    intact(&out, &before, "typst hanging");

    // Hanging on a batch of county reports (the overview compiles): the batch's counties are
    // named, none is tried again one by one, and no other batch is tried.
    let hang_batch = fake_typst(
        tmp.path(),
        "typst-hang-batch",
        "case \"$*\" in *bundle*) exec sleep 600;; esac\nfor a; do out=\"$a\"; done\n: > \"$out\"",
    );
    let t = Instant::now();
    run(&cfg, &[], &[("CIMON_TYPST", hang_batch.to_str().unwrap())])
        .failure(4)
        .stderr_line(&["typst took longer than 1 s on a batch of reports and was stopped", "[report] batch = 1"])
        .stderr_line(&["not compiled: typst hung on an earlier report and was stopped"]);
    assert!(t.elapsed() < Duration::from_secs(30), "a hung batch held the run {:?}", t.elapsed());
    intact(&out, &before, "typst hanging on a batch");
    std::fs::write(&cfg, text).unwrap();

    run(&cfg, &[], &[]).success();
    assert!(published(&out) != before, "the next run publishes");
}

/// Runs the test again as root of a user and mount namespace of its own (so that it may mount a
/// tmpfs, as any user can there); true inside it, false in the caller once the inner run passed.
fn in_own_mount_namespace(test: &str) -> bool {
    if std::env::var_os("CIMON_TEST_NAMESPACE").is_some() {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env("CIMON_TEST_NAMESPACE", "1")
        .output()
        .expect("cannot run unshare (util-linux)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "inside its own mount namespace:\n{text}");
    false
}

fn mount(args: &[&str]) {
    let out = Command::new("mount").args(args).output().unwrap();
    assert!(out.status.success(), "mount {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn du(dir: &Path) -> u64 {
    snapshot(dir).iter().map(|(_, b)| b.len() as u64).sum()
}

/// Bytes free on the file system of `dir`.
fn free(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: statvfs writes into the struct we own; the path is NUL-terminated.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut s) }, 0);
    s.f_bavail * s.f_frsize
}

/// Fill the file system of `dir` until `left` bytes are free.
fn fill(dir: &Path, left: u64) -> PathBuf {
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    use std::io::Write;
    while free(dir) > left {
        let n = (free(dir) - left).min(chunk.len() as u64) as usize;
        if f.write_all(&chunk[..n.max(4096)]).is_err() {
            break;
        }
        f.sync_all().unwrap();
    }
    filler
}

#[test]
fn a_full_disk_and_a_read_only_output_directory_publish_nothing() {
    if !in_own_mount_namespace("a_full_disk_and_a_read_only_output_directory_publish_nothing") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    mount(&["-t", "tmpfs", "-o", "size=96m", "tmpfs", disk.to_str().unwrap()]);
    let (cfg, out) = sample_in(&disk);
    run(&cfg, &[], &[]).success();
    let (store, results, reports) = (du(&out.join("store")), du(&out.join("results")), du(&out.join("reports")));
    // A new run needs room for a whole second copy of the trees: run out of it in each stage.
    for (stage, left) in
        [("store", store / 3), ("results", store + results / 3), ("reports", store + results + reports / 3)]
    {
        let before = published(&out);
        set_value(&cfg, 100 + left as u32 % 100);
        let filler = fill(&disk, left);
        let r = run(&cfg, &[], &[]);
        assert!(r.code != 0, "{stage}: a run on a full disk succeeded\n{}", r.stderr);
        r.stderr_line(&["No space left on device"]);
        if r.code != 4 {
            r.stderr_line(&["hint:", "the disk is full", "the published outputs are unchanged"]);
        }
        intact(&out, &before, &format!("disk full in {stage}"));
        std::fs::remove_file(filler).unwrap();
        run(&cfg, &[], &[]).success();
        assert!(published(&out) != before, "{stage}: the next run publishes");
    }

    // Read-only: nothing can be written, not even the lock; nothing changes.
    let before = published(&out);
    set_value(&cfg, 7);
    mount(&["-o", "remount,ro", disk.to_str().unwrap()]);
    // The inputs sit on the same file system: ingest reads them, the lock cannot be written.
    run(&cfg, &[], &[])
        .failure(1)
        .stderr_line(&["Read-only file system"])
        .stderr_line(&["hint:", "the file system refused access"]);
    intact(&out, &before, "read-only output directory");
    mount(&["-o", "remount,rw", disk.to_str().unwrap()]);
    run(&cfg, &[], &[]).success();
    assert!(published(&out) != before);
}

/// SIGKILL at random moments of many runs that alternate between two versions of the inputs:
/// after each kill the published trees are one version's whole (or a publish in flight, marked
/// READY, that the next command completes), and the next run publishes the current version.
#[test]
fn runs_killed_at_random_moments_leave_one_runs_outputs() {
    let (_tmp, cfg, out) = sample();
    let mut reference = Vec::new();
    for v in [111, 222] {
        set_value(&cfg, v);
        let t = Instant::now();
        run(&cfg, &[], &[]).success();
        reference.push((trees(&out), t.elapsed()));
    }
    let longest = reference.iter().map(|r| r.1).max().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261204);
    let (mut kills, mut pending) = (0, 0);
    for i in 0..10 {
        let (now, then) = (i % 2, 1 - i % 2);
        set_value(&cfg, [111, 222][now]);
        let delay = Duration::from_millis(rng.random_range(0..longest.as_millis() as u64 + 200));
        let mut child = spawn_run(&cfg, &[]);
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        kills += usize::from(!finished);
        let state = trees(&out);
        let ready = staging(&out).is_some_and(|s| s.join("READY").exists());
        assert!(
            state == reference[then].0 || state == reference[now].0 || ready,
            "run {i} killed after {delay:?}: the published trees mix two runs with no publish pending"
        );
        pending += usize::from(ready);
        run(&cfg, &[], &[]).success();
        assert!(trees(&out) == reference[now].0, "run {i}: the next run did not publish the current inputs");
        assert!(staging(&out).is_none(), "run {i}: a staging tree was left behind");
    }
    assert!(kills >= 5, "only {kills} of 10 runs were killed while running");
    eprintln!("{kills} runs killed, {pending} while publishing");
}
