//! Loopback ports for the servers tests start, taken from below the kernel's ephemeral range.
//!
//! Binding `127.0.0.1:0`, reading the port and closing the socket hands out a port from the ephemeral
//! range (Linux: `/proc/sys/net/ipv4/ip_local_port_range`, 32768-60999 by default). Until the server binds
//! it, any outgoing connection of the machine (tests running side by side open many) may get the same port
//! as its local end, and the server then fails with "Address already in use". Ports below that range are
//! never given to outgoing connections, and one counter per test process never hands out a port twice, so
//! what is left is a port some other process listens on, which [`free_port`] skips.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out (above the registered ports most services use).
const LOWEST: u32 = 10_000;
/// The ephemeral range's start where `/proc` cannot be read.
const EPHEMERAL_START: u32 = 32_768;

/// The next port to try, or 0 before the first call.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A loopback port that nothing listens on now and that this process has not handed out before, from
/// below the ephemeral range. Processes start at different places (by process id), so test binaries run
/// at the same time rarely try the same ports. Errors: every port of the range was tried and is taken.
pub fn free_port() -> std::io::Result<u16> {
    let end = ephemeral_start();
    let span = end.saturating_sub(LOWEST).max(1);
    let first = LOWEST + (std::process::id().wrapping_mul(7_919)) % span;
    let _ = NEXT.compare_exchange(0, first, Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..span {
        let candidate = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOWEST + (candidate - LOWEST) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free loopback port in {LOWEST}-{end}"),
    ))
}

/// The first port of the kernel's ephemeral range.
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .filter(|start| *start > LOWEST + 1_000)
        .unwrap_or(EPHEMERAL_START)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: tests of one binary run side by side and share the counter.
    #[test]
    fn ports_are_below_the_ephemeral_range_never_repeat_and_skip_taken_ones() {
        let end = ephemeral_start();
        let mut ports: Vec<u16> = (0..200).map(|_| free_port().unwrap()).collect();
        assert!(
            ports
                .iter()
                .all(|p| u32::from(*p) >= LOWEST && u32::from(*p) < end)
        );
        // The port the counter would give next is taken (a listener of ours stands in for another process).
        let next = NEXT.load(Ordering::Relaxed);
        let taken = u16::try_from(LOWEST + (next - LOWEST) % (end - LOWEST)).unwrap();
        let _listener = TcpListener::bind(("127.0.0.1", taken)).unwrap();
        let skipped = free_port().unwrap();
        assert_ne!(skipped, taken);
        ports.push(skipped);
        ports.push(taken);
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 202, "no port handed out twice");
    }
}
