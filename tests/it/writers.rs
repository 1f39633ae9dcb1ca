//! One process's write transactions to a SQLite file take their turns in arrival order
//! (`db::writers`): a writer waits exactly until the one before it ends, instead of polling
//! from SQLite's busy handler, where a later writer could pass it.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use vecinal::db::{self, DatabaseUrl, DbConn, writers};

use crate::helpers::*;

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[derive(QueryableByName)]
struct Arrived {
    #[diesel(sql_type = Integer)]
    i: i32,
}

#[test]
fn sqlite_writers_of_one_process_commit_in_the_order_they_arrived() {
    let test_db = TestDb::create();
    // PostgreSQL queues writers itself: each write transaction first waits for the audit
    // chain's lock, in the server's lock queue.
    let DatabaseUrl::Sqlite(path) = test_db.url().clone() else { return };
    db::run_migrations(test_db.url()).unwrap();
    let connect = || db::establish(test_db.url()).unwrap();
    connect().batch_execute("CREATE TABLE arrivals (i INTEGER NOT NULL)").unwrap();
    let queue = writers::for_file(&path);
    let record = |c: &mut DbConn, i: i32| -> QueryResult<()> {
        diesel::sql_query(format!("INSERT INTO arrivals (i) VALUES ({i})")).execute(c).map(drop)
    };

    std::thread::scope(|s| {
        let (holding, held) = mpsc::channel();
        let mut first = connect();
        let q = queue.clone();
        s.spawn(move || {
            first
                .write_tx(|c| {
                    holding.send(()).unwrap();
                    // Holds its turn until the five others queue behind it.
                    until("five writers queue", || q.waiting() == 6);
                    record(c, 0)
                })
                .unwrap()
        });
        held.recv().unwrap();
        for i in 1..=5 {
            let mut conn = connect();
            s.spawn(move || conn.write_tx(|c| record(c, i)).unwrap());
            until("the writer queues", || queue.waiting() == i as u64 + 1);
        }
    });

    let order: Vec<i32> = diesel::sql_query("SELECT i FROM arrivals ORDER BY rowid")
        .load::<Arrived>(&mut connect())
        .unwrap()
        .into_iter()
        .map(|a| a.i)
        .collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(queue.waiting(), 0, "every turn ended");
}
