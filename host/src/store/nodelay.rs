//! Turns Nagle's algorithm off on the store's PostgreSQL sockets.
//!
//! sqlx 0.9.0 stopped setting TCP_NODELAY (launchbadge/sqlx#4335, fixed by #4336, unreleased
//! at the time of writing). Any statement larger than one TCP segment then waits for the
//! server's delayed ACK: ~40 ms each, which made a 100k-item first sweep take minutes instead
//! of seconds. Until a release carries the fix, this finds the connection's socket by its
//! local port and sets the option. It must never touch any socket other than the one whose
//! local and peer ports match the connection; remove it once sqlx sets TCP_NODELAY again.

/// Set TCP_NODELAY on this process's TCP socket with local port `local` whose peer port is
/// one of `peers`. Returns whether one was found.
#[cfg(target_os = "linux")]
pub fn set_for(local: u16, peers: &[u16]) -> bool {
    use std::os::fd::{BorrowedFd, RawFd};

    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    for entry in dir.flatten() {
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|t| t.as_os_str().to_string_lossy().starts_with("socket:"));
        let fd = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok());
        let (true, Some(fd)) = (is_socket, fd) else {
            continue;
        };
        // SAFETY: the descriptor was open a moment ago and is only borrowed for a few
        // syscalls. Should another thread close it and reuse the number in between, the
        // port checks below fail (or, at worst, another TCP socket gets TCP_NODELAY, which
        // is harmless); no memory is involved.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let port_of = |a: std::io::Result<socket2::SockAddr>| {
            a.ok().and_then(|a| a.as_socket()).map(|a| a.port())
        };
        if port_of(sock.local_addr()) == Some(local)
            && port_of(sock.peer_addr()).is_some_and(|p| peers.contains(&p))
        {
            return sock.set_tcp_nodelay(true).is_ok();
        }
    }
    false
}

#[cfg(not(target_os = "linux"))]
pub fn set_for(_local: u16, _peers: &[u16]) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn finds_and_sets_the_matching_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let server_port = listener.local_addr().expect("addr").port();
        let client = std::net::TcpStream::connect(("127.0.0.1", server_port)).expect("connect");
        let local = client.local_addr().expect("local").port();
        assert!(!client.nodelay().expect("get"));
        assert!(!super::set_for(local, &[server_port.wrapping_add(1)]));
        assert!(super::set_for(local, &[1, server_port]));
        assert!(client.nodelay().expect("get"));
    }
}
