//! Fixed-window rate limits for the auth mutations (sign-in, sign-up, password reset), per
//! client IP and per account, kept in memory per instance.

use crate::error::{ApiError, ErrorCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept before expired windows are swept.
const SWEEP_AT: usize = 10_000;

pub struct RateLimiter {
    max: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `max` attempts per `window` for each key; `max == 0` turns the limit off.
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter { max, window, hits: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt for `key`; `Err(retry_after)` once the window's budget is spent.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut hits = self.hits.lock().expect("rate limiter lock");
        if hits.len() >= SWEEP_AT {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The limits of the auth mutations.
pub struct AuthLimits {
    pub per_ip: RateLimiter,
    pub per_account: RateLimiter,
}

impl AuthLimits {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> AuthLimits {
        AuthLimits {
            per_ip: RateLimiter::new(per_ip_per_minute, Duration::from_secs(60)),
            per_account: RateLimiter::new(per_account_per_minute, Duration::from_secs(60)),
        }
    }

    /// Counts an attempt of `op` from `ip` on `account` (an email); RATE_LIMITED when either
    /// budget is spent.
    pub fn check(&self, op: &str, ip: Option<std::net::IpAddr>, account: &str) -> Result<(), ApiError> {
        let ip_key = format!("{op}:{}", ip.map(|i| i.to_string()).unwrap_or_default());
        let account_key = format!("{op}:{}", super::users::normalize_email(account));
        let wait = self.per_ip.hit(&ip_key).and_then(|_| self.per_account.hit(&account_key));
        wait.map_err(|d| {
            let secs = d.as_secs().max(1);
            let mut e = ApiError::new(ErrorCode::RateLimited, format!("too many attempts: try again in {secs} s"));
            e.field = None;
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_per_key_and_window() {
        let l = RateLimiter::new(2, Duration::from_millis(200));
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_err(), "third in the window");
        assert!(l.hit("b").is_ok(), "keys are separate");
        std::thread::sleep(Duration::from_millis(220));
        assert!(l.hit("a").is_ok(), "a new window");
        assert!(RateLimiter::new(0, Duration::from_secs(1)).hit("x").is_ok(), "0 turns it off");
    }
}
