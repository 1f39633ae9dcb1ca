"""Helpers of scripts/jobs-lock (standard library only).

  jobs_lock.py prepare DB N C gives N applications decided 31 to 400 days ago their three
                              documents, stored as the service stores them (a row in
                              documents, the ciphertext in document_chunks), of the sizes
                              residents send: most photos and PDFs of 0.1 to 3 MB, one in ten
                              up to the 10 MB limit. The retention purge must delete their
                              files. And dates C claims ten days back, past any claim
                              period, so the claim release has C claims to release.
  jobs_lock.py probe DB OUT   every 2 ms, one write transaction of one row; writes how long
                              each waited for the write lock until it is stopped (SIGTERM).
  jobs_lock.py report LOG OUT reads the jobs' log (JSON lines, `held_us` of every write
                              transaction and of the statistics refresh) and the probe's
                              waits; prints the figures.
"""

import json
import os
import random
import signal
import sqlite3
import sys
import time
import uuid

MIB = 1024 * 1024
CHUNK = 256 * 1024


def prepare(db, n, claims):
    rng = random.Random(11)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 10000")
    (key_id,) = con.execute("SELECT key_id FROM documents LIMIT 1").fetchone()
    apps = con.execute(
        "SELECT id, decided_at FROM applications WHERE status IN ('approved', 'rejected') "
        "AND decided_at BETWEEN datetime('now', '-400 days') AND datetime('now', '-31 days') "
        "ORDER BY id LIMIT ?",
        (n,),
    ).fetchall()
    total = 0
    con.execute("BEGIN")
    for app_id, decided_at in apps:
        for kind, media in (("residency_proof", "application/pdf"), ("criminal_record", "application/pdf"),
                            ("identity_document", "image/jpeg")):
            size = rng.randint(100_000, 10 * MIB) if rng.random() < 0.1 else rng.randint(100_000, 3 * MIB)
            doc_id = str(uuid.uuid4())
            con.execute(
                "INSERT INTO documents (id, application_id, kind, media_type, size_bytes, sha256, original_name, "
                "key_id, uploaded_at, replaced_at, purged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (doc_id, app_id, kind, media, size, os.urandom(32).hex(), kind + ".bin", key_id, decided_at),
            )
            con.execute("INSERT INTO document_blobs (document_id, nonce) VALUES (?, ?)", (doc_id, os.urandom(12)))
            # The ciphertext in the service's pieces of 256 KiB (documents::CHUNK_BYTES).
            cipher = os.urandom(size + 16)
            for seq, start in enumerate(range(0, len(cipher), CHUNK)):
                con.execute(
                    "INSERT INTO document_chunks (document_id, seq, bytes) VALUES (?, ?, ?)",
                    (doc_id, seq, cipher[start:start + CHUNK]),
                )
            total += size
    lapsed = con.execute(
        "UPDATE applications SET claimed_at = datetime('now', '-10 days') WHERE id IN "
        "(SELECT id FROM applications WHERE status = 'in_review' ORDER BY id LIMIT ?)",
        (claims,),
    ).rowcount
    con.execute("COMMIT")
    print(f"{len(apps) * 3} document files due for the purge, {total / MIB:.0f} MiB; {lapsed} lapsed claims")


def probe(db, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    con = sqlite3.connect(db, isolation_level=None, timeout=30)
    con.execute("CREATE TABLE IF NOT EXISTS lock_probe (at REAL NOT NULL)")
    # Retries every 0.2 ms itself: SQLite's busy handler sleeps up to 100 ms between tries,
    # so the wait it reports would be its own schedule, not how long the lock was held.
    con.execute("PRAGMA busy_timeout = 0")
    waits = []
    while not stop:
        t0 = time.perf_counter()
        while True:
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.0002)
        waits.append((time.time(), time.perf_counter() - t0))
        con.execute("INSERT INTO lock_probe (at) VALUES (?)", (time.time(),))
        con.execute("COMMIT")
        time.sleep(0.002)
    with open(out, "w") as f:
        f.write("\n".join(f"{at:.3f} {w * 1000:.3f}" for at, w in waits))


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def report(log, out):
    held = []
    what = {}
    with open(log) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if "held_us" in e:
                ms = e["held_us"] / 1000
                held.append(ms)
                msg = e.get("message", "")
                what[msg] = max(what.get(msg, 0.0), ms)
    with open(out) as f:
        rows = [line.split() for line in f if line.strip()]
    waits = [float(w) for _, w in rows]
    if rows:
        at, w = max(rows, key=lambda r: float(r[1]))
        stamp = time.strftime("%H:%M:%S", time.gmtime(float(at))) + f".{at.split('.')[1]}"
        print(f"probe's longest wait ended at {stamp} UTC")
    print(f"write transactions of the jobs: {len(held)}; held the lock: median {pct(held, 50):.2f} ms, "
          f"p99 {pct(held, 99):.2f} ms, longest {max(held, default=0):.2f} ms")
    for msg, ms in sorted(what.items()):
        print(f"   longest '{msg}': {ms:.2f} ms")
    print(f"probe: {len(waits)} one-row write transactions; waited for the lock: p99 {pct(waits, 99):.2f} ms, "
          f"longest {max(waits, default=0):.2f} ms")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "probe":
        probe(sys.argv[2], sys.argv[3])
    elif cmd == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
