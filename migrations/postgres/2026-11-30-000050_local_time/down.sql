CREATE OR REPLACE FUNCTION count_application(a applications, s BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO application_counts (group_id, status, n) VALUES (a.group_id, a.status, s)
    ON CONFLICT (group_id, status) DO UPDATE SET n = application_counts.n + excluded.n;
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
    FROM (SELECT (decided_at - INTERVAL '3 hours')::date AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, s,
                 CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE WHEN w < 86400 THEN 0 WHEN w < 172800 THEN 1 WHEN w < 259200 THEN 2 WHEN w < 432000 THEN 3 WHEN w < 604800 THEN 4 WHEN w < 864000 THEN 5 WHEN w < 1209600 THEN 6 WHEN w < 1814400 THEN 7 WHEN w < 2592000 THEN 8 WHEN w < 3888000 THEN 9 WHEN w < 5184000 THEN 10 WHEN w < 7776000 THEN 11 ELSE 12 END END AS b
          FROM (SELECT d.*, EXTRACT(EPOCH FROM decided_at - submitted_at) AS w FROM (SELECT a.decided_at AS decided_at, a.submitted_at AS submitted_at, a.group_id AS group_id, a.decided_by AS decided_by, a.status AS status, s AS s) d) dw
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
$$;

CREATE OR REPLACE FUNCTION count_channel(a applications, s BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO channel_counts (day, group_id, officer_id, received_online, received_desk, decided_online, decided_desk)
    SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd)
    FROM (SELECT (created_at - INTERVAL '3 hours')::date AS day, group_id, COALESCE(taken_by, '') AS officer_id,
               CASE WHEN taken_by IS NULL THEN s ELSE 0 END AS ro, CASE WHEN taken_by IS NULL THEN 0 ELSE s END AS rd,
               0 AS dn, 0 AS dd
        FROM (SELECT a.created_at AS created_at, a.decided_at AS decided_at, a.group_id AS group_id, a.taken_by AS taken_by, a.decided_by AS decided_by, a.status AS status, s AS s) r
        UNION ALL
        SELECT (decided_at - INTERVAL '3 hours')::date, group_id, COALESCE(decided_by, ''),
               0, 0, CASE WHEN taken_by IS NULL THEN s ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE s END
        FROM (SELECT a.created_at AS created_at, a.decided_at AS decided_at, a.group_id AS group_id, a.taken_by AS taken_by, a.decided_by AS decided_by, a.status AS status, s AS s) d
        WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected')) c
    GROUP BY day, group_id, officer_id
    ON CONFLICT (day, group_id, officer_id) DO UPDATE SET
        received_online = channel_counts.received_online + excluded.received_online,
        received_desk = channel_counts.received_desk + excluded.received_desk,
        decided_online = channel_counts.decided_online + excluded.decided_online,
        decided_desk = channel_counts.decided_desk + excluded.decided_desk;
$$;

DROP FUNCTION local_day(TIMESTAMP);
DROP TABLE local_zone;
DROP TABLE local_offsets;
