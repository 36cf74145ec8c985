//! Fuzzing of the media input paths (image and audio decoding) in the tests: [proptest] strategies that
//! mutate real files used as seeds, and a watchdog, [`within`], that turns a hang into a test failure.
//!
//! A case is a seed (a real photo, voice note, video...) with 1 to 8 [`Mutation`]s applied: bit flips,
//! overwritten, inserted, removed or repeated byte runs, and truncation. Half of the offsets fall in the
//! first 4 KiB, where containers keep the headers whose lengths and counts a decoder trusts; the rest
//! anywhere in the file. The property the services need is that every case ends, within a deadline,
//! with a result or an error, never a panic, an abort or a hang, and that the decoder's own limits bound
//! its memory. proptest shrinks a failing case to a small list of mutations and prints it.
//!
//! [`config`] sizes a run: [`DEFAULT_CASES`] cases per property in the test command, or
//! `MEDIABOT_FUZZ_CASES` for a long run, e.g.
//! `MEDIABOT_FUZZ_CASES=20000 cargo test -p imaging --test it fuzz -- --nocapture`.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per property in the test command: enough to cross every seed with header and body mutations in a
/// few seconds per seed.
pub const DEFAULT_CASES: u32 = 256;

/// Bytes at the start of a file where half of the mutations fall.
pub const HEAD_BYTES: usize = 4096;

/// The proptest configuration of a fuzz property: `MEDIABOT_FUZZ_CASES` cases (default
/// [`DEFAULT_CASES`]), no failure persistence files in the source tree (a failure prints its case), and
/// few shrink steps, as each step decodes a whole file.
pub fn config() -> Config {
    let cases = std::env::var("MEDIABOT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// Where in the file a mutation applies.
#[derive(Debug, Clone, Copy)]
pub enum Offset {
    /// Byte `n` of the first [`HEAD_BYTES`] (clamped to the file).
    Head(usize),
    /// A fraction of the file's length: `n / 2^32`.
    Anywhere(u32),
}

impl Offset {
    /// The byte offset in a file of `len` bytes, `0..=len`.
    pub fn resolve(self, len: usize) -> usize {
        match self {
            Offset::Head(n) => n.min(len),
            Offset::Anywhere(fraction) => {
                let at = (len as u128 * u128::from(fraction)) >> 32;
                usize::try_from(at).unwrap_or(len).min(len)
            }
        }
    }
}

/// One change to a seed file.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// XOR one bit (`bit` 0–7) of the byte at the offset.
    FlipBit(Offset, u8),
    /// Overwrite bytes from the offset (as many as fit).
    Overwrite(Offset, Vec<u8>),
    /// Insert bytes at the offset.
    Insert(Offset, Vec<u8>),
    /// Remove up to this many bytes from the offset.
    Remove(Offset, u16),
    /// Insert a copy of up to this many bytes that start at the offset, right after them.
    Repeat(Offset, u16),
    /// Cut the file at the offset.
    Truncate(Offset),
}

fn offset() -> impl Strategy<Value = Offset> {
    prop_oneof![
        (0..HEAD_BYTES).prop_map(Offset::Head),
        any::<u32>().prop_map(Offset::Anywhere),
    ]
}

/// Byte runs a decoder is most likely to trust: lengths and counts at their extremes, and random bytes.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0xff; 4]),
        Just(vec![0x00; 4]),
        Just(vec![0x7f, 0xff, 0xff, 0xff]),
        Just(vec![0x80, 0x00, 0x00, 0x00]),
        proptest::collection::vec(any::<u8>(), 1..64),
    ]
}

/// One mutation; truncation is rarer than the rest, as it hides every later change.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (offset(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        3 => (offset(), bytes()).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        2 => (offset(), bytes()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        2 => (offset(), 1u16..4096).prop_map(|(at, n)| Mutation::Remove(at, n)),
        1 => (offset(), 1u16..4096).prop_map(|(at, n)| Mutation::Repeat(at, n)),
        1 => offset().prop_map(Mutation::Truncate),
    ]
}

/// 1 to 8 mutations, applied in order.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..=8)
}

/// `seed` with `mutations` applied in order.
pub fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut file = seed.to_vec();
    for mutation in mutations {
        let len = file.len();
        match mutation {
            Mutation::FlipBit(at, bit) => {
                if let Some(byte) = file.get_mut(at.resolve(len)) {
                    *byte ^= 1 << (bit & 7);
                }
            }
            Mutation::Overwrite(at, bytes) => {
                let start = at.resolve(len);
                let end = (start + bytes.len()).min(len);
                file[start..end].copy_from_slice(&bytes[..end - start]);
            }
            Mutation::Insert(at, bytes) => {
                let start = at.resolve(len);
                file.splice(start..start, bytes.iter().copied());
            }
            Mutation::Remove(at, n) => {
                let start = at.resolve(len);
                let end = (start + usize::from(*n)).min(len);
                file.drain(start..end);
            }
            Mutation::Repeat(at, n) => {
                let start = at.resolve(len);
                let end = (start + usize::from(*n)).min(len);
                let copy = file[start..end].to_vec();
                file.splice(end..end, copy);
            }
            Mutation::Truncate(at) => file.truncate(at.resolve(len)),
        }
    }
    file
}

/// Runs `work` on its own thread and returns its value, or `Err` with the time waited when it has not
/// finished after `deadline` (the thread is left running; the test fails). A panic in `work` is resumed
/// on the caller's thread, so proptest sees it as the failure it is.
pub fn within<T: Send + 'static>(
    deadline: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Duration> {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let value = work();
        let _ = done.send(());
        value
    });
    match finished.recv_timeout(deadline) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(value) => Ok(value),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => Err(deadline),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn offsets_stay_inside_the_file() {
        assert_eq!(Offset::Head(10).resolve(4), 4);
        assert_eq!(Offset::Anywhere(0).resolve(100), 0);
        assert_eq!(Offset::Anywhere(u32::MAX).resolve(100), 99);
        assert_eq!(Offset::Anywhere(1 << 31).resolve(100), 50);
        assert_eq!(Offset::Anywhere(u32::MAX).resolve(0), 0);
    }

    #[test]
    fn mutations_change_the_file_as_named() {
        let seed: Vec<u8> = (0..10).collect();
        let at = |n| Offset::Head(n);
        assert_eq!(apply(&seed, &[Mutation::FlipBit(at(0), 1)])[0], 2);
        assert_eq!(apply(&seed, &[Mutation::Truncate(at(3))]), vec![0, 1, 2]);
        assert_eq!(
            apply(&seed, &[Mutation::Overwrite(at(8), vec![7, 7, 7])]),
            vec![0, 1, 2, 3, 4, 5, 6, 7, 7, 7]
        );
        assert_eq!(
            apply(&seed, &[Mutation::Insert(at(1), vec![9])])[..3],
            [0, 9, 1]
        );
        assert_eq!(apply(&seed, &[Mutation::Remove(at(2), 100)]), vec![0, 1]);
        assert_eq!(
            apply(&seed, &[Mutation::Repeat(at(8), 5)]),
            vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 8, 9]
        );
    }

    #[test]
    fn the_watchdog_reports_a_hang_and_passes_a_panic_on() {
        assert_eq!(within(Duration::from_secs(5), || 7), Ok(7));
        assert!(
            within(Duration::from_millis(50), || std::thread::sleep(
                Duration::from_secs(2)
            ))
            .is_err()
        );
        let panicked =
            std::panic::catch_unwind(|| within(Duration::from_secs(5), || panic!("decoder bug")));
        assert!(panicked.is_err());
    }
}
