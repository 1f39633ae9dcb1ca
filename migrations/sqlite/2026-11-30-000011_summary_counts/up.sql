-- Summary rows for the pages whose figures would otherwise grow with history: counts of
-- applications per group and status, decisions per local day, group and officer (with the
-- waiting times as a histogram), and active memberships per group and last valid day.
-- Triggers keep them in the same transaction as every change to the rows they count, so
-- no code path can forget them; `vecinal stats rebuild` recomputes them from the rows.
-- The same definitions are in src/db/stats.rs, and a test checks that both agree.

-- The officer whose decision closed the application (approval, or its confirmation in a
-- two-approval group, or rejection); NULL for withdrawals.
ALTER TABLE applications ADD COLUMN decided_by TEXT REFERENCES users (id);
UPDATE applications SET decided_by = (
    SELECT e.actor_id FROM application_events e
    WHERE e.application_id = applications.id AND e.kind = applications.status
    ORDER BY e.at DESC LIMIT 1
) WHERE status IN ('approved', 'rejected');

-- The queue of one group in order, and the oldest open application of each group.
CREATE INDEX applications_open_group ON applications (group_id, submitted_at, id)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');

CREATE TABLE application_counts (
    group_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (group_id, status)
) WITHOUT ROWID;

-- day: the local calendar day (UTC-3) of decided_at. officer_id: decided_by, '' for none.
-- wait_k: approvals and rejections whose wait from submission to decision falls in the
-- k-th range of whole days: [0,1) [1,2) [2,3) [3,5) [5,7) [7,10) [10,14) [14,21) [21,30)
-- [30,45) [45,60) [60,90) [90,...).
CREATE TABLE decision_counts (
    day DATE NOT NULL,
    group_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    approved BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    withdrawn BIGINT NOT NULL,
    wait_0 BIGINT NOT NULL,
    wait_1 BIGINT NOT NULL,
    wait_2 BIGINT NOT NULL,
    wait_3 BIGINT NOT NULL,
    wait_4 BIGINT NOT NULL,
    wait_5 BIGINT NOT NULL,
    wait_6 BIGINT NOT NULL,
    wait_7 BIGINT NOT NULL,
    wait_8 BIGINT NOT NULL,
    wait_9 BIGINT NOT NULL,
    wait_10 BIGINT NOT NULL,
    wait_11 BIGINT NOT NULL,
    wait_12 BIGINT NOT NULL,
    PRIMARY KEY (day, group_id, officer_id)
) WITHOUT ROWID;

-- Active memberships per group and last valid day: the members still valid on a day are
-- the sum over valid_until >= that day.
CREATE TABLE member_counts (
    group_id TEXT NOT NULL,
    valid_until DATE NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (group_id, valid_until)
) WITHOUT ROWID;

INSERT INTO application_counts (group_id, status, n)
    SELECT group_id, status, COUNT(*) FROM applications GROUP BY group_id, status;
INSERT INTO member_counts (group_id, valid_until, n)
    SELECT group_id, valid_until, COUNT(*) FROM memberships WHERE status = 'active' GROUP BY group_id, valid_until;
    INSERT INTO decision_counts (day, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
    SELECT day, group_id, officer_id,
           SUM(CASE WHEN status = 'approved' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'rejected' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'withdrawn' THEN s ELSE 0 END),
           SUM(CASE WHEN b = 0 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 1 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 2 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 3 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 4 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 5 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 6 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 7 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 8 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 9 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 10 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 11 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 12 THEN s ELSE 0 END)
    FROM (SELECT date(decided_at, '-3 hours') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
                 CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE WHEN w < 86400 THEN 0 WHEN w < 172800 THEN 1 WHEN w < 259200 THEN 2 WHEN w < 432000 THEN 3 WHEN w < 604800 THEN 4 WHEN w < 864000 THEN 5 WHEN w < 1209600 THEN 6 WHEN w < 1814400 THEN 7 WHEN w < 2592000 THEN 8 WHEN w < 3888000 THEN 9 WHEN w < 5184000 THEN 10 WHEN w < 7776000 THEN 11 ELSE 12 END END AS b
          FROM (SELECT d.*, strftime('%s', decided_at) - strftime('%s', submitted_at) AS w FROM (SELECT *, 1 AS s FROM applications) d) dw
          WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected', 'withdrawn')) db
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        approved = decision_counts.approved + excluded.approved,
        rejected = decision_counts.rejected + excluded.rejected,
        withdrawn = decision_counts.withdrawn + excluded.withdrawn,
        wait_0 = decision_counts.wait_0 + excluded.wait_0,
        wait_1 = decision_counts.wait_1 + excluded.wait_1,
        wait_2 = decision_counts.wait_2 + excluded.wait_2,
        wait_3 = decision_counts.wait_3 + excluded.wait_3,
        wait_4 = decision_counts.wait_4 + excluded.wait_4,
        wait_5 = decision_counts.wait_5 + excluded.wait_5,
        wait_6 = decision_counts.wait_6 + excluded.wait_6,
        wait_7 = decision_counts.wait_7 + excluded.wait_7,
        wait_8 = decision_counts.wait_8 + excluded.wait_8,
        wait_9 = decision_counts.wait_9 + excluded.wait_9,
        wait_10 = decision_counts.wait_10 + excluded.wait_10,
        wait_11 = decision_counts.wait_11 + excluded.wait_11,
        wait_12 = decision_counts.wait_12 + excluded.wait_12;

CREATE TRIGGER application_counts_insert AFTER INSERT ON applications BEGIN
    INSERT INTO application_counts (group_id, status, n) VALUES (NEW.group_id, NEW.status, 1)
    ON CONFLICT (group_id, status) DO UPDATE SET n = application_counts.n + 1;
    INSERT INTO decision_counts (day, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
    SELECT day, group_id, officer_id,
           SUM(CASE WHEN status = 'approved' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'rejected' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'withdrawn' THEN s ELSE 0 END),
           SUM(CASE WHEN b = 0 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 1 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 2 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 3 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 4 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 5 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 6 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 7 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 8 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 9 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 10 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 11 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 12 THEN s ELSE 0 END)
    FROM (SELECT date(decided_at, '-3 hours') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
                 CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE WHEN w < 86400 THEN 0 WHEN w < 172800 THEN 1 WHEN w < 259200 THEN 2 WHEN w < 432000 THEN 3 WHEN w < 604800 THEN 4 WHEN w < 864000 THEN 5 WHEN w < 1209600 THEN 6 WHEN w < 1814400 THEN 7 WHEN w < 2592000 THEN 8 WHEN w < 3888000 THEN 9 WHEN w < 5184000 THEN 10 WHEN w < 7776000 THEN 11 ELSE 12 END END AS b
          FROM (SELECT d.*, strftime('%s', decided_at) - strftime('%s', submitted_at) AS w FROM (SELECT NEW.decided_at AS decided_at, NEW.submitted_at AS submitted_at, NEW.group_id AS group_id, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) d) dw
          WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected', 'withdrawn')) db
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        approved = decision_counts.approved + excluded.approved,
        rejected = decision_counts.rejected + excluded.rejected,
        withdrawn = decision_counts.withdrawn + excluded.withdrawn,
        wait_0 = decision_counts.wait_0 + excluded.wait_0,
        wait_1 = decision_counts.wait_1 + excluded.wait_1,
        wait_2 = decision_counts.wait_2 + excluded.wait_2,
        wait_3 = decision_counts.wait_3 + excluded.wait_3,
        wait_4 = decision_counts.wait_4 + excluded.wait_4,
        wait_5 = decision_counts.wait_5 + excluded.wait_5,
        wait_6 = decision_counts.wait_6 + excluded.wait_6,
        wait_7 = decision_counts.wait_7 + excluded.wait_7,
        wait_8 = decision_counts.wait_8 + excluded.wait_8,
        wait_9 = decision_counts.wait_9 + excluded.wait_9,
        wait_10 = decision_counts.wait_10 + excluded.wait_10,
        wait_11 = decision_counts.wait_11 + excluded.wait_11,
        wait_12 = decision_counts.wait_12 + excluded.wait_12;
END;

CREATE TRIGGER application_counts_update AFTER UPDATE OF status, group_id, decided_at, decided_by, submitted_at ON applications
WHEN OLD.status IS NOT NEW.status OR OLD.group_id IS NOT NEW.group_id OR OLD.decided_at IS NOT NEW.decided_at
    OR OLD.decided_by IS NOT NEW.decided_by OR OLD.submitted_at IS NOT NEW.submitted_at
BEGIN
    UPDATE application_counts SET n = n - 1 WHERE group_id = OLD.group_id AND status = OLD.status;
    INSERT INTO application_counts (group_id, status, n) VALUES (NEW.group_id, NEW.status, 1)
    ON CONFLICT (group_id, status) DO UPDATE SET n = application_counts.n + 1;
    INSERT INTO decision_counts (day, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
    SELECT day, group_id, officer_id,
           SUM(CASE WHEN status = 'approved' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'rejected' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'withdrawn' THEN s ELSE 0 END),
           SUM(CASE WHEN b = 0 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 1 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 2 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 3 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 4 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 5 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 6 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 7 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 8 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 9 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 10 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 11 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 12 THEN s ELSE 0 END)
    FROM (SELECT date(decided_at, '-3 hours') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
                 CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE WHEN w < 86400 THEN 0 WHEN w < 172800 THEN 1 WHEN w < 259200 THEN 2 WHEN w < 432000 THEN 3 WHEN w < 604800 THEN 4 WHEN w < 864000 THEN 5 WHEN w < 1209600 THEN 6 WHEN w < 1814400 THEN 7 WHEN w < 2592000 THEN 8 WHEN w < 3888000 THEN 9 WHEN w < 5184000 THEN 10 WHEN w < 7776000 THEN 11 ELSE 12 END END AS b
          FROM (SELECT d.*, strftime('%s', decided_at) - strftime('%s', submitted_at) AS w FROM (SELECT OLD.decided_at AS decided_at, OLD.submitted_at AS submitted_at, OLD.group_id AS group_id, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s UNION ALL SELECT NEW.decided_at AS decided_at, NEW.submitted_at AS submitted_at, NEW.group_id AS group_id, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) d) dw
          WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected', 'withdrawn')) db
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        approved = decision_counts.approved + excluded.approved,
        rejected = decision_counts.rejected + excluded.rejected,
        withdrawn = decision_counts.withdrawn + excluded.withdrawn,
        wait_0 = decision_counts.wait_0 + excluded.wait_0,
        wait_1 = decision_counts.wait_1 + excluded.wait_1,
        wait_2 = decision_counts.wait_2 + excluded.wait_2,
        wait_3 = decision_counts.wait_3 + excluded.wait_3,
        wait_4 = decision_counts.wait_4 + excluded.wait_4,
        wait_5 = decision_counts.wait_5 + excluded.wait_5,
        wait_6 = decision_counts.wait_6 + excluded.wait_6,
        wait_7 = decision_counts.wait_7 + excluded.wait_7,
        wait_8 = decision_counts.wait_8 + excluded.wait_8,
        wait_9 = decision_counts.wait_9 + excluded.wait_9,
        wait_10 = decision_counts.wait_10 + excluded.wait_10,
        wait_11 = decision_counts.wait_11 + excluded.wait_11,
        wait_12 = decision_counts.wait_12 + excluded.wait_12;
END;

CREATE TRIGGER application_counts_delete AFTER DELETE ON applications BEGIN
    UPDATE application_counts SET n = n - 1 WHERE group_id = OLD.group_id AND status = OLD.status;
    INSERT INTO decision_counts (day, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
    SELECT day, group_id, officer_id,
           SUM(CASE WHEN status = 'approved' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'rejected' THEN s ELSE 0 END),
           SUM(CASE WHEN status = 'withdrawn' THEN s ELSE 0 END),
           SUM(CASE WHEN b = 0 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 1 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 2 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 3 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 4 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 5 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 6 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 7 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 8 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 9 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 10 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 11 THEN s ELSE 0 END),
           SUM(CASE WHEN b = 12 THEN s ELSE 0 END)
    FROM (SELECT date(decided_at, '-3 hours') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
                 CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE WHEN w < 86400 THEN 0 WHEN w < 172800 THEN 1 WHEN w < 259200 THEN 2 WHEN w < 432000 THEN 3 WHEN w < 604800 THEN 4 WHEN w < 864000 THEN 5 WHEN w < 1209600 THEN 6 WHEN w < 1814400 THEN 7 WHEN w < 2592000 THEN 8 WHEN w < 3888000 THEN 9 WHEN w < 5184000 THEN 10 WHEN w < 7776000 THEN 11 ELSE 12 END END AS b
          FROM (SELECT d.*, strftime('%s', decided_at) - strftime('%s', submitted_at) AS w FROM (SELECT OLD.decided_at AS decided_at, OLD.submitted_at AS submitted_at, OLD.group_id AS group_id, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s) d) dw
          WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected', 'withdrawn')) db
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        approved = decision_counts.approved + excluded.approved,
        rejected = decision_counts.rejected + excluded.rejected,
        withdrawn = decision_counts.withdrawn + excluded.withdrawn,
        wait_0 = decision_counts.wait_0 + excluded.wait_0,
        wait_1 = decision_counts.wait_1 + excluded.wait_1,
        wait_2 = decision_counts.wait_2 + excluded.wait_2,
        wait_3 = decision_counts.wait_3 + excluded.wait_3,
        wait_4 = decision_counts.wait_4 + excluded.wait_4,
        wait_5 = decision_counts.wait_5 + excluded.wait_5,
        wait_6 = decision_counts.wait_6 + excluded.wait_6,
        wait_7 = decision_counts.wait_7 + excluded.wait_7,
        wait_8 = decision_counts.wait_8 + excluded.wait_8,
        wait_9 = decision_counts.wait_9 + excluded.wait_9,
        wait_10 = decision_counts.wait_10 + excluded.wait_10,
        wait_11 = decision_counts.wait_11 + excluded.wait_11,
        wait_12 = decision_counts.wait_12 + excluded.wait_12;
END;

CREATE TRIGGER member_counts_insert AFTER INSERT ON memberships WHEN NEW.status = 'active' BEGIN
    INSERT INTO member_counts (group_id, valid_until, n) VALUES (NEW.group_id, NEW.valid_until, 1)
    ON CONFLICT (group_id, valid_until) DO UPDATE SET n = member_counts.n + 1;
END;

CREATE TRIGGER member_counts_update AFTER UPDATE OF status, group_id, valid_until ON memberships
WHEN OLD.status IS NOT NEW.status OR OLD.group_id IS NOT NEW.group_id OR OLD.valid_until IS NOT NEW.valid_until
BEGIN
    UPDATE member_counts SET n = n - 1
    WHERE OLD.status = 'active' AND group_id = OLD.group_id AND valid_until = OLD.valid_until;
    INSERT INTO member_counts (group_id, valid_until, n) SELECT NEW.group_id, NEW.valid_until, 1
    WHERE NEW.status = 'active'
    ON CONFLICT (group_id, valid_until) DO UPDATE SET n = member_counts.n + 1;
END;

CREATE TRIGGER member_counts_delete AFTER DELETE ON memberships WHEN OLD.status = 'active' BEGIN
    UPDATE member_counts SET n = n - 1 WHERE group_id = OLD.group_id AND valid_until = OLD.valid_until;
END;
