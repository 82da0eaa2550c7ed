//! Time, injected: the API never reads the system clock directly, so tests can set it.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;

    /// Today in Vietnam (UTC+7, no daylight saving): the date that defaults to "on" in
    /// queries about the tree.
    fn today(&self) -> NaiveDate {
        let vn = FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
        self.now().with_timezone(&vn).date_naive()
    }
}

use chrono::Offset as _;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The clock as the schema holds it.
pub(crate) type SharedClock = Arc<dyn Clock>;

/// A clock that tests move by hand: time is injected, never slept through.
#[derive(Debug, Clone)]
pub struct SettableClock(Arc<std::sync::RwLock<DateTime<Utc>>>);

impl SettableClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(std::sync::RwLock::new(now)))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        match self.0.write() {
            Ok(mut g) => *g = now,
            Err(poisoned) => *poisoned.into_inner() = now,
        }
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.read() {
            Ok(g) => *g,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}
