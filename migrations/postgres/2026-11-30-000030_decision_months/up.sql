-- Decisions per month, group and officer, and per day for all groups together, kept from
-- decision_counts by triggers: a year on the dashboard then reads about 12 monthly rows per
-- group and officer and the days of the two partial months, instead of 365 daily rows per
-- group and officer; the weekly chart reads one row per day. The triggers carry each change
-- of a daily row (the difference between its old and new counts) to its month and day, so
-- the three tables agree whatever changed the daily row; `vecinal stats rebuild` recomputes
-- all three.

CREATE TABLE decision_months (
    month DATE NOT NULL,
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
    PRIMARY KEY (month, group_id, officer_id)
);

CREATE TABLE decision_days (
    day DATE NOT NULL,
    approved BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    withdrawn BIGINT NOT NULL,
    PRIMARY KEY (day)
);

CREATE FUNCTION count_decision_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO decision_months (month, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
        VALUES (date_trunc('month', OLD.day)::date, OLD.group_id, OLD.officer_id, -OLD.approved, -OLD.rejected, -OLD.withdrawn, -OLD.wait_0, -OLD.wait_1, -OLD.wait_2, -OLD.wait_3, -OLD.wait_4, -OLD.wait_5, -OLD.wait_6, -OLD.wait_7, -OLD.wait_8, -OLD.wait_9, -OLD.wait_10, -OLD.wait_11, -OLD.wait_12)
        ON CONFLICT (month, group_id, officer_id) DO UPDATE SET
            approved = decision_months.approved + excluded.approved,
            rejected = decision_months.rejected + excluded.rejected,
            withdrawn = decision_months.withdrawn + excluded.withdrawn,
            wait_0 = decision_months.wait_0 + excluded.wait_0,
            wait_1 = decision_months.wait_1 + excluded.wait_1,
            wait_2 = decision_months.wait_2 + excluded.wait_2,
            wait_3 = decision_months.wait_3 + excluded.wait_3,
            wait_4 = decision_months.wait_4 + excluded.wait_4,
            wait_5 = decision_months.wait_5 + excluded.wait_5,
            wait_6 = decision_months.wait_6 + excluded.wait_6,
            wait_7 = decision_months.wait_7 + excluded.wait_7,
            wait_8 = decision_months.wait_8 + excluded.wait_8,
            wait_9 = decision_months.wait_9 + excluded.wait_9,
            wait_10 = decision_months.wait_10 + excluded.wait_10,
            wait_11 = decision_months.wait_11 + excluded.wait_11,
            wait_12 = decision_months.wait_12 + excluded.wait_12;
        INSERT INTO decision_days (day, approved, rejected, withdrawn)
        VALUES (OLD.day, -OLD.approved, -OLD.rejected, -OLD.withdrawn)
        ON CONFLICT (day) DO UPDATE SET
            approved = decision_days.approved + excluded.approved,
            rejected = decision_days.rejected + excluded.rejected,
            withdrawn = decision_days.withdrawn + excluded.withdrawn;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO decision_months (month, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
        VALUES (date_trunc('month', NEW.day)::date, NEW.group_id, NEW.officer_id, NEW.approved, NEW.rejected, NEW.withdrawn, NEW.wait_0, NEW.wait_1, NEW.wait_2, NEW.wait_3, NEW.wait_4, NEW.wait_5, NEW.wait_6, NEW.wait_7, NEW.wait_8, NEW.wait_9, NEW.wait_10, NEW.wait_11, NEW.wait_12)
        ON CONFLICT (month, group_id, officer_id) DO UPDATE SET
            approved = decision_months.approved + excluded.approved,
            rejected = decision_months.rejected + excluded.rejected,
            withdrawn = decision_months.withdrawn + excluded.withdrawn,
            wait_0 = decision_months.wait_0 + excluded.wait_0,
            wait_1 = decision_months.wait_1 + excluded.wait_1,
            wait_2 = decision_months.wait_2 + excluded.wait_2,
            wait_3 = decision_months.wait_3 + excluded.wait_3,
            wait_4 = decision_months.wait_4 + excluded.wait_4,
            wait_5 = decision_months.wait_5 + excluded.wait_5,
            wait_6 = decision_months.wait_6 + excluded.wait_6,
            wait_7 = decision_months.wait_7 + excluded.wait_7,
            wait_8 = decision_months.wait_8 + excluded.wait_8,
            wait_9 = decision_months.wait_9 + excluded.wait_9,
            wait_10 = decision_months.wait_10 + excluded.wait_10,
            wait_11 = decision_months.wait_11 + excluded.wait_11,
            wait_12 = decision_months.wait_12 + excluded.wait_12;
        INSERT INTO decision_days (day, approved, rejected, withdrawn)
        VALUES (NEW.day, NEW.approved, NEW.rejected, NEW.withdrawn)
        ON CONFLICT (day) DO UPDATE SET
            approved = decision_days.approved + excluded.approved,
            rejected = decision_days.rejected + excluded.rejected,
            withdrawn = decision_days.withdrawn + excluded.withdrawn;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER decision_months_change
    AFTER INSERT OR DELETE OR UPDATE ON decision_counts
    FOR EACH ROW EXECUTE FUNCTION count_decision_change();

INSERT INTO decision_months (month, group_id, officer_id, approved, rejected, withdrawn, wait_0, wait_1, wait_2, wait_3, wait_4, wait_5, wait_6, wait_7, wait_8, wait_9, wait_10, wait_11, wait_12)
    SELECT date_trunc('month', day)::date, group_id, officer_id, SUM(approved), SUM(rejected), SUM(withdrawn), SUM(wait_0), SUM(wait_1), SUM(wait_2), SUM(wait_3), SUM(wait_4), SUM(wait_5), SUM(wait_6), SUM(wait_7), SUM(wait_8), SUM(wait_9), SUM(wait_10), SUM(wait_11), SUM(wait_12)
    FROM decision_counts GROUP BY 1, group_id, officer_id;
INSERT INTO decision_days (day, approved, rejected, withdrawn)
    SELECT day, SUM(approved), SUM(rejected), SUM(withdrawn) FROM decision_counts GROUP BY day;
