//! Faults a test injects into a debug build through `CIMON_FAULT` (comma-separated names), to
//! show that each is caught and nothing half-written is published. Release builds have none.

/// Whether the fault `name` is asked for.
pub fn active(name: &str) -> bool {
    cfg!(debug_assertions) && std::env::var("CIMON_FAULT").is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}

/// An I/O error (EIO) at the named point of writing, when asked for.
pub fn io(point: &str) -> std::io::Result<()> {
    if active(&format!("eio:{point}")) {
        return Err(std::io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(())
}
