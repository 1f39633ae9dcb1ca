-- Enrollment at the police station (issue 15): applications an officer takes at the desk
-- for residents without e-mail or a phone that photographs documents.
--
-- taken_by: the officer who took the application at the desk; NULL for online applications.
-- That officer may never approve or confirm it (the state machine says so).
ALTER TABLE applications ADD COLUMN taken_by TEXT REFERENCES users (id);

-- Finding an account by DNI: the desk refuses a second account for a DNI that has one, and
-- a claim is looked up by DNI.
CREATE INDEX applications_dni ON applications (dni);

-- The one-time claim code printed on the desk receipt: argon2id of the code (see
-- docs/ARCHITECTURE.md, "Enrollment at the desk"), valid 90 days, single use. One per
-- account: the desk creates the account once.
CREATE TABLE desk_claims (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- Decisions that would have been mailed to a resident without a confirmed e-mail address:
-- the group's officers tell them by phone or at the desk, then mark them told.
CREATE TABLE desk_notices (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    group_id TEXT NOT NULL REFERENCES groups (id),
    kind TEXT NOT NULL CHECK (kind IN ('approved', 'rejected', 'info_requested')),
    created_at TIMESTAMP NOT NULL,
    told_at TIMESTAMP,
    told_by TEXT REFERENCES users (id)
);
CREATE INDEX desk_notices_open ON desk_notices (group_id, created_at) WHERE told_at IS NULL;
CREATE INDEX desk_notices_application ON desk_notices (application_id);

-- Summary rows for the dashboard's desk and online figures, kept by triggers like those of
-- 2026-11-30-000011_summary_counts and rebuilt by `vecinal stats rebuild`
-- (src/db/channel_counts.rs holds the same definitions). Each application contributes:
--   received: on the local day (UTC-3) of created_at, under (group, taken_by or ''),
--             1 to received_desk when taken at the desk, else to received_online;
--   decided:  once approved or rejected, on the local day of decided_at, under
--             (group, decided_by or ''), 1 to decided_desk or decided_online.
CREATE TABLE channel_counts (
    day DATE NOT NULL,
    group_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    received_online BIGINT NOT NULL,
    received_desk BIGINT NOT NULL,
    decided_online BIGINT NOT NULL,
    decided_desk BIGINT NOT NULL,
    PRIMARY KEY (day, group_id, officer_id)
) WITHOUT ROWID;

INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, '-3 hours') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT created_at, decided_at, group_id, taken_by, decided_by, status, 1 AS s FROM applications) r
        UNION ALL
        SELECT date(decided_at, '-3 hours'), group_id, COALESCE(decided_by, ''),
               0, 0, CASE WHEN taken_by IS NULL THEN s ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE s END
        FROM (SELECT created_at, decided_at, group_id, taken_by, decided_by, status, 1 AS s FROM applications) d
        WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected')) c
    GROUP BY day, group_id, officer_id;

CREATE TRIGGER channel_counts_insert AFTER INSERT ON applications BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, '-3 hours') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) r
        UNION ALL
        SELECT date(decided_at, '-3 hours'), group_id, COALESCE(decided_by, ''),
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

CREATE TRIGGER channel_counts_update AFTER UPDATE OF status, group_id, decided_at, decided_by, created_at, taken_by ON applications
WHEN OLD.status IS NOT NEW.status OR OLD.group_id IS NOT NEW.group_id OR OLD.decided_at IS NOT NEW.decided_at
    OR OLD.decided_by IS NOT NEW.decided_by OR OLD.created_at IS NOT NEW.created_at OR OLD.taken_by IS NOT NEW.taken_by
BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, '-3 hours') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s UNION ALL SELECT NEW.created_at AS created_at, NEW.decided_at AS decided_at, NEW.group_id AS group_id, NEW.taken_by AS taken_by, NEW.decided_by AS decided_by, NEW.status AS status, 1 AS s) r
        UNION ALL
        SELECT date(decided_at, '-3 hours'), group_id, COALESCE(decided_by, ''),
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

CREATE TRIGGER channel_counts_delete AFTER DELETE ON applications BEGIN
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT date(created_at, '-3 hours') AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT OLD.created_at AS created_at, OLD.decided_at AS decided_at, OLD.group_id AS group_id, OLD.taken_by AS taken_by, OLD.decided_by AS decided_by, OLD.status AS status, -1 AS s) r
        UNION ALL
        SELECT date(decided_at, '-3 hours'), group_id, COALESCE(decided_by, ''),
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
