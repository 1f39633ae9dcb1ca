//! The service's notion of "now". Tests move it forward to exercise expiry rules without
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// Current UTC time, truncated to microseconds (PostgreSQL's precision) so that values
    /// read back from either database compare equal to the ones written.
    pub fn now(&self) -> NaiveDateTime {
        let now = Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed));
        truncate_to_micros(now)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

fn truncate_to_micros(t: DateTime<Utc>) -> NaiveDateTime {
    let naive = t.naive_utc();
    let micros = naive.and_utc().timestamp_micros();
    DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc()).unwrap_or(naive)
}
