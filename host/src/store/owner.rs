//! Who runs a sweep: `host:pid`. Opening the store as the writer aborts only sweeps whose
//! process is gone, so a manual `simian sweep` never aborts the sweep a live `simian run` has in
//! flight. It must never guess about other hosts' processes beyond a generous age limit.

/// A sweep started on another host counts as abandoned after this long.
const FOREIGN_SWEEP_LIMIT_MS: i64 = 6 * 60 * 60 * 1000;

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

pub fn this_process() -> String {
    format!("{}:{}", host(), std::process::id())
}

fn alive(pid: u32) -> bool {
    // Our own pid is alive by definition; /proc tells for the others (Linux).
    pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether a sweep still marked running was left behind by a process that no longer runs.
pub fn is_gone(owner: Option<&str>, started_ms: i64, now_ms: i64) -> bool {
    let Some((owner_host, pid)) = owner.and_then(|o| o.rsplit_once(':')) else {
        // Sweeps from before owners were recorded.
        return true;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return true;
    };
    if owner_host == host() {
        !alive(pid)
    } else {
        now_ms.saturating_sub(started_ms) > FOREIGN_SWEEP_LIMIT_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_local_owners_are_kept() {
        assert!(!is_gone(Some(&this_process()), 0, 1));
        // pid 1 always exists on Linux.
        assert!(!is_gone(Some(&format!("{}:1", host())), 0, 1));
    }

    #[test]
    fn dead_missing_and_stale_foreign_owners_are_gone() {
        assert!(is_gone(None, 0, 1));
        assert!(is_gone(Some("garbage"), 0, 1));
        assert!(is_gone(Some(&format!("{}:4294967294", host())), 0, 1));
        assert!(!is_gone(Some("other-host:12"), 0, 60_000));
        assert!(is_gone(
            Some("other-host:12"),
            0,
            FOREIGN_SWEEP_LIMIT_MS + 1
        ));
    }
}
