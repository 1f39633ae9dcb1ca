-- Local days in the configured time zone (VECINAL_TIME_ZONE) instead of a fixed UTC-3.
-- `local_offsets` holds the zone's UTC offset from each instant on (UTC instants, the
-- first row at the start of time); the service writes it at start from the IANA database
-- for the configured zone, with the zone's name in `local_zone`, and rebuilds the daily
-- summary rows when the zone or its rules change. Until then it holds the fixed UTC-3
-- the triggers used before, under a name no zone has, so the first start installs the
-- configured zone.
CREATE TABLE local_offsets (
    starts_at TIMESTAMP NOT NULL PRIMARY KEY,
    offset_seconds INTEGER NOT NULL CHECK (offset_seconds BETWEEN -86399 AND 86399)
);
CREATE TABLE local_zone (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL
);
INSERT INTO local_offsets (starts_at, offset_seconds) VALUES ('0001-01-01 00:00:00', -10800);
INSERT INTO local_zone (id, name) VALUES (1, 'UTC-3');

-- The triggers that count per local day, as before but with the zone's offset.

DROP TRIGGER application_counts_insert;
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
    FROM (SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
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

DROP TRIGGER application_counts_update;
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
    FROM (SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
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

DROP TRIGGER application_counts_delete;
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
    FROM (SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
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

DROP TRIGGER channel_counts_insert;
CREATE TRIGGER channel_counts_insert AFTER INSERT ON applications BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= created_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) r
        UNION ALL
        SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds'), group_id, COALESCE(decided_by, ''),
               0, 0, CASE WHEN taken_by IS NULL THEN s ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE s END
        FROM (SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) d
        WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected')) c
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        received_online = channel_counts.received_online + excluded.received_online,
        received_desk = channel_counts.received_desk + excluded.received_desk,
        decided_online = channel_counts.decided_online + excluded.decided_online,
        decided_desk = channel_counts.decided_desk + excluded.decided_desk;
END;

DROP TRIGGER channel_counts_update;
CREATE TRIGGER channel_counts_update AFTER UPDATE OF status, group_id, decided_at, decided_by, created_at, taken_by ON applications
WHEN OLD.status IS NOT NEW.status OR OLD.group_id IS NOT NEW.group_id OR OLD.decided_at IS NOT NEW.decided_at
    OR OLD.decided_by IS NOT NEW.decided_by OR OLD.created_at IS NOT NEW.created_at OR OLD.taken_by IS NOT NEW.taken_by
BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= created_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s UNION ALL SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) r
        UNION ALL
        SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds'), group_id, COALESCE(decided_by, ''),
               0, 0, CASE WHEN taken_by IS NULL THEN s ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE s END
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s UNION ALL SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) d
        WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected')) c
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        received_online = channel_counts.received_online + excluded.received_online,
        received_desk = channel_counts.received_desk + excluded.received_desk,
        decided_online = channel_counts.decided_online + excluded.decided_online,
        decided_desk = channel_counts.decided_desk + excluded.decided_desk;
END;

DROP TRIGGER channel_counts_delete;
CREATE TRIGGER channel_counts_delete AFTER DELETE ON applications BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= created_at ORDER BY starts_at DESC LIMIT 1) || ' seconds') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s) r
        UNION ALL
        SELECT date(decided_at, (SELECT offset_seconds FROM local_offsets WHERE starts_at <= decided_at ORDER BY starts_at DESC LIMIT 1) || ' seconds'), group_id, COALESCE(decided_by, ''),
               0, 0, CASE WHEN taken_by IS NULL THEN s ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE s END
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s) d
        WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected')) c
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        received_online = channel_counts.received_online + excluded.received_online,
        received_desk = channel_counts.received_desk + excluded.received_desk,
        decided_online = channel_counts.decided_online + excluded.decided_online,
        decided_desk = channel_counts.decided_desk + excluded.decided_desk;
END;
