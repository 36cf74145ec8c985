//! Flood control with token buckets, shaped after Telegram's published limits for bots
//! (<https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this>): about one message per
//! second in a private chat (short bursts allowed), 20 messages per minute in a group, about 30 messages per
//! second in all. A call over a limit gets 429 `Too Many Requests: retry after N`.

use std::{collections::HashMap, time::Instant};

/// Burst allowed in one private chat before the 1/s rate applies.
const PRIVATE_BURST: f64 = 4.0;
/// Sustained messages per second in one private chat.
const PRIVATE_RATE: f64 = 1.0;
/// Burst allowed in one group.
const GROUP_BURST: f64 = 20.0;
/// Sustained messages per second in one group (20 per minute).
const GROUP_RATE: f64 = 20.0 / 60.0;
/// Burst and sustained rate over all chats of one bot.
const GLOBAL_RATE: f64 = 30.0;

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, rate: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            capacity,
            rate,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.at = now;
    }

    /// Seconds until one token is available (0 when one is available now).
    fn wait(&self) -> f64 {
        if self.tokens >= 1.0 {
            0.0
        } else {
            (1.0 - self.tokens) / self.rate
        }
    }
}

/// The buckets of one bot.
#[derive(Debug)]
pub struct FloodControl {
    chats: HashMap<i64, Bucket>,
    global: Bucket,
}

impl Default for FloodControl {
    fn default() -> Self {
        Self {
            chats: HashMap::new(),
            global: Bucket::new(GLOBAL_RATE, GLOBAL_RATE, Instant::now()),
        }
    }
}

impl FloodControl {
    /// Takes one message from the chat's bucket and the bot's global bucket, or says how many whole seconds
    /// to wait (at least 1) if either is empty; nothing is taken then.
    pub fn acquire(&mut self, chat_id: i64, now: Instant) -> Result<(), u64> {
        let group = chat_id < 0;
        let chat = self.chats.entry(chat_id).or_insert_with(|| {
            if group {
                Bucket::new(GROUP_BURST, GROUP_RATE, now)
            } else {
                Bucket::new(PRIVATE_BURST, PRIVATE_RATE, now)
            }
        });
        chat.refill(now);
        self.global.refill(now);
        let wait = chat.wait().max(self.global.wait());
        if wait > 0.0 {
            return Err((wait.ceil() as u64).max(1));
        }
        chat.tokens -= 1.0;
        self.global.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn private_chat_burst_then_one_per_second() {
        let mut flood = FloodControl::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert!(flood.acquire(1, t0).is_ok());
        }
        assert_eq!(flood.acquire(1, t0), Err(1));
        assert!(flood.acquire(2, t0).is_ok(), "other chats are not affected");
        assert!(flood.acquire(1, t0 + Duration::from_millis(1100)).is_ok());
    }

    #[test]
    fn group_twenty_per_minute() {
        let mut flood = FloodControl::default();
        let t0 = Instant::now();
        for i in 0..20 {
            assert!(
                flood
                    .acquire(-5, t0 + Duration::from_millis(i * 40))
                    .is_ok()
            );
        }
        assert_eq!(flood.acquire(-5, t0 + Duration::from_millis(800)), Err(3));
    }

    #[test]
    fn global_thirty_per_second() {
        let mut flood = FloodControl::default();
        let t0 = Instant::now();
        for chat in 0..30 {
            assert!(flood.acquire(chat + 1, t0).is_ok());
        }
        assert_eq!(flood.acquire(100, t0), Err(1));
    }
}
