//! The commit cimon is built from, for `cimon --version` (CIMON_COMMIT overrides it; a build
//! outside a git checkout says "unknown").

fn main() {
    let commit = std::env::var("CIMON_COMMIT").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| {
        std::process::Command::new("git")
            .args(["log", "-1", "--format=%h %cs"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "unknown".into())
    });
    println!("cargo:rustc-env=CIMON_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=CIMON_COMMIT");
    for f in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(f).exists() {
            println!("cargo:rerun-if-changed={f}");
        }
    }
}
