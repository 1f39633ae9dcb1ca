//! The upload bodies held in memory at once, in KiB: `web::upload` reserves a form's
//! declared length before reading it and keeps the reservation until the request is done.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Bytes of upload bodies the process holds at once, at least: two forms of three 10 MiB
/// files (the default largest upload). With three, 8 parallel applications peaked at
/// 268 MiB (docs/PERFORMANCE.md).
pub const UPLOAD_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes of upload bodies may be in memory at once, counted in KiB.
pub struct UploadBudget {
    permits: Arc<Semaphore>,
    /// The largest reservation: one whole form of the largest size.
    max_form_kib: u32,
}

impl UploadBudget {
    /// A budget that holds `UPLOAD_MEMORY_BYTES`, and at least one form of
    /// `max_form_bytes`.
    pub fn new(max_form_bytes: usize) -> Self {
        let max_form_kib = kib(max_form_bytes);
        let total = kib(UPLOAD_MEMORY_BYTES).max(max_form_kib);
        Self { permits: Arc::new(Semaphore::new(total as usize)), max_form_kib }
    }

    /// What a form of `declared` bytes reserves: its length, or the largest form's when it
    /// declares none (a chunked body) or more.
    pub(crate) fn reservation(&self, declared: Option<usize>) -> u32 {
        declared.map_or(self.max_form_kib, |n| kib(n).clamp(1, self.max_form_kib))
    }

    pub(crate) fn permits(&self) -> Arc<Semaphore> {
        self.permits.clone()
    }

    /// KiB free now, for tests.
    pub fn available_kib(&self) -> usize {
        self.permits.available_permits()
    }
}

fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reserves_its_declared_length_and_at_most_the_largest_form() {
        let max_form = 3 * 10 * 1024 * 1024 + 256 * 1024;
        let budget = UploadBudget::new(max_form);
        assert_eq!(budget.available_kib(), UPLOAD_MEMORY_BYTES / 1024);
        assert_eq!(budget.reservation(Some(0)), 1);
        assert_eq!(budget.reservation(Some(1)), 1);
        assert_eq!(budget.reservation(Some(1025)), 2);
        assert_eq!(budget.reservation(Some(5 * 1024 * 1024)), 5 * 1024);
        assert_eq!(budget.reservation(None), kib(max_form), "a chunked body counts as the largest");
        assert_eq!(budget.reservation(Some(usize::MAX)), kib(max_form));
        // Two of the largest forms fit at once, a third waits.
        assert!(budget.available_kib() >= 2 * kib(max_form) as usize);
        assert!(budget.available_kib() < 3 * kib(max_form) as usize);
    }

    #[test]
    fn the_budget_always_holds_one_largest_form() {
        let huge = 3 * 100 * 1024 * 1024 + 256 * 1024;
        let budget = UploadBudget::new(huge);
        assert_eq!(budget.available_kib(), kib(huge) as usize);
        assert_eq!(budget.reservation(None), kib(huge));
    }
}
