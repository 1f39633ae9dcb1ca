//! This process's SQLite writers, queued in arrival order. SQLite lets one write
//! transaction at a time into a file; a connection that finds it taken retries from its busy
//! handler, which sleeps 1, 2, 5, 10 … 100 ms between tries. A writer could then wait 100 ms
//! for a lock held 3 ms, and one that keeps arriving (a job's back-to-back batches) could
//! pass others waiting already. Here every write transaction of the process takes a ticket
//! for its file first and is woken as soon as the one before it ends. Writers of other
//! processes (`vecinal jobs run` from cron beside the server) still meet SQLite's busy
//! handler.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A first-come, first-served lock.
#[derive(Debug, Default)]
pub struct Queue {
    state: Mutex<Tickets>,
    turn: Condvar,
}

#[derive(Debug, Default)]
struct Tickets {
    /// The next ticket handed out.
    next: u64,
    /// The ticket whose turn it is.
    serving: u64,
    /// Tickets given up by writers that waited past their limit: passed over in turn.
    abandoned: BTreeSet<u64>,
}

impl Tickets {
    fn advance(&mut self) {
        self.serving += 1;
        while self.abandoned.remove(&self.serving) {
            self.serving += 1;
        }
    }
}

/// A writer's turn: the next one in the queue goes when this is dropped.
#[derive(Debug)]
pub struct Turn {
    queue: Arc<Queue>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Tickets> {
        // The counters stay consistent whatever panicked while holding the mutex.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this writer's turn, at most `limit`; after that the writer goes on without
    /// one (SQLite's own lock still holds writers apart) rather than wait forever behind a
    /// transaction that never ends. `None` then.
    pub fn wait(self: &Arc<Self>, limit: Duration) -> Option<Turn> {
        let deadline = Instant::now() + limit;
        let mut t = self.lock();
        let ticket = t.next;
        t.next += 1;
        while t.serving != ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                t.abandoned.insert(ticket);
                return None;
            }
            t = self.turn.wait_timeout(t, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        Some(Turn { queue: self.clone() })
    }

    /// Writers holding a ticket: the one whose turn it is and those waiting.
    pub fn waiting(&self) -> u64 {
        let t = self.lock();
        t.next - t.serving - t.abandoned.len() as u64
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.queue.lock().advance();
        self.queue.turn.notify_all();
    }
}

/// The queue of the file `conn` writes to; `None` for a database in memory, which no other
/// connection shares.
pub fn queue_of(conn: &mut diesel::sqlite::SqliteConnection) -> diesel::QueryResult<Option<Arc<Queue>>> {
    use diesel::RunQueryDsl;
    let file: String = diesel::select(crate::db::fragment::Fixed::<diesel::sql_types::Text>::new(
        "(SELECT file FROM pragma_database_list WHERE name = 'main')".into(),
    ))
    .get_result(conn)?;
    Ok((!file.is_empty()).then(|| for_file(&file)))
}

/// The queue of the SQLite file at `path` (as SQLite names it, so every connection to one
/// file finds the same queue).
pub fn for_file(path: &str) -> Arc<Queue> {
    static QUEUES: LazyLock<Mutex<HashMap<String, Arc<Queue>>>> = LazyLock::new(Mutex::default);
    let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
    queues.entry(path.to_string()).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn until(mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn writers_get_their_turn_in_the_order_they_arrived() {
        let q = Arc::new(Queue::default());
        let first = q.wait(Duration::from_secs(10)).unwrap();
        let (done, order) = mpsc::channel();
        let mut threads = Vec::new();
        for i in 0..6 {
            let (q2, done) = (q.clone(), done.clone());
            threads.push(std::thread::spawn(move || {
                let turn = q2.wait(Duration::from_secs(10)).unwrap();
                done.send(i).unwrap();
                drop(turn);
            }));
            // The next writer arrives only once this one waits.
            until(|| q.waiting() == i + 2);
        }
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(order.try_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(q.waiting(), 0);
    }

    #[test]
    fn a_writer_that_waited_too_long_goes_on_and_its_ticket_is_passed_over() {
        let q = Arc::new(Queue::default());
        let first = q.wait(Duration::from_secs(10)).unwrap();
        let q2 = q.clone();
        let impatient = std::thread::spawn(move || q2.wait(Duration::from_millis(20)).is_none());
        assert!(impatient.join().unwrap(), "no turn after its limit");
        let q3 = q.clone();
        let patient = std::thread::spawn(move || q3.wait(Duration::from_secs(10)).is_some());
        until(|| q.waiting() == 2);
        drop(first);
        assert!(patient.join().unwrap(), "the abandoned ticket does not block the next writer");
        assert_eq!(q.waiting(), 0);
    }

    #[test]
    fn one_queue_per_file() {
        assert!(Arc::ptr_eq(&for_file("/tmp/a.db"), &for_file("/tmp/a.db")));
        assert!(!Arc::ptr_eq(&for_file("/tmp/a.db"), &for_file("/tmp/b.db")));
    }
}
