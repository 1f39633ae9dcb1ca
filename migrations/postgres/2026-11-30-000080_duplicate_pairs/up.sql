-- The commissioners' list of current duplicate signals (issue 13): pairs of applications
-- of two different accounts that share the DNI typed or a file (same SHA-256), kept by
-- triggers as each application and document is stored, so that the list reads a small
-- table in order instead of comparing a million applications on every visit. Which pairs
-- are still current (each side an open application or one holding a current membership)
-- is decided when the list is read (src/db/duplicates.rs).
--
-- A pair is recorded only while the other side is current: the states that end being
-- current (rejected, withdrawn, a membership expired, revoked or ended) never come back.
-- Each pair once, its two application ids in order; at most 20 pairs per new row, so a DNI
-- typed by many accounts cannot make one submission write without bound.
CREATE TABLE duplicate_pairs (
    first_id TEXT NOT NULL REFERENCES applications (id),
    second_id TEXT NOT NULL REFERENCES applications (id),
    found_at TIMESTAMP NOT NULL,
    PRIMARY KEY (first_id, second_id),
    CHECK (first_id < second_id)
);
-- The list: newest first, keyset on (found_at, first_id, second_id).
CREATE INDEX duplicate_pairs_found ON duplicate_pairs (found_at, first_id, second_id);
-- A membership by its application: whether a side of a pair (or of the review page's
-- duplicates) holds a current membership.
CREATE INDEX memberships_application ON memberships (application_id);

-- The pairs already in the data, current ones only. Of each DNI and each file, only the
-- first 21 current applications are paired (the triggers likewise record at most 20 pairs
-- per new row): a value that thousands share (test data, a form's example DNI) would
-- otherwise make the upgrade's work grow with the square of their number.
WITH current_dni AS (
    SELECT id, dni, resident_id, created_at,
           ROW_NUMBER() OVER (PARTITION BY dni ORDER BY created_at, id) AS n
    FROM applications
    WHERE dni <> ''
      AND (status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second')
               OR EXISTS (SELECT 1 FROM memberships m WHERE m.application_id = applications.id AND m.status IN ('active', 'suspended')))
), firsts AS (SELECT * FROM current_dni WHERE n <= 21)
INSERT INTO duplicate_pairs (first_id, second_id, found_at)
    SELECT a.id, b.id, GREATEST(a.created_at, b.created_at)
    FROM firsts a JOIN firsts b ON b.dni = a.dni AND b.id > a.id AND b.resident_id <> a.resident_id
    ON CONFLICT DO NOTHING;
WITH current_files AS (
    SELECT d.application_id, d.sha256, d.uploaded_at, a.resident_id,
           ROW_NUMBER() OVER (PARTITION BY d.sha256 ORDER BY d.uploaded_at, d.id) AS n
    FROM documents d JOIN applications a ON a.id = d.application_id
    WHERE d.replaced_at IS NULL
      AND (a.status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second')
               OR EXISTS (SELECT 1 FROM memberships m WHERE m.application_id = a.id AND m.status IN ('active', 'suspended')))
), firsts AS (SELECT * FROM current_files WHERE n <= 21)
INSERT INTO duplicate_pairs (first_id, second_id, found_at)
    SELECT a.application_id, b.application_id, MAX(GREATEST(a.uploaded_at, b.uploaded_at))
    FROM firsts a JOIN firsts b ON b.sha256 = a.sha256 AND b.application_id > a.application_id
        AND b.resident_id <> a.resident_id
    GROUP BY a.application_id, b.application_id
    ON CONFLICT DO NOTHING;

-- A new application: other accounts' current applications with the same DNI.
CREATE FUNCTION duplicate_pairs_dni() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.dni <> '' THEN
        INSERT INTO duplicate_pairs (first_id, second_id, found_at)
        SELECT CASE WHEN o.id < NEW.id THEN o.id ELSE NEW.id END,
               CASE WHEN o.id < NEW.id THEN NEW.id ELSE o.id END,
               NEW.created_at
        FROM applications o
        WHERE o.dni = NEW.dni AND o.resident_id <> NEW.resident_id
          AND (o.status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second')
               OR EXISTS (SELECT 1 FROM memberships m WHERE m.application_id = o.id AND m.status IN ('active', 'suspended')))
        LIMIT 20
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER duplicate_pairs_dni AFTER INSERT ON applications
    FOR EACH ROW EXECUTE FUNCTION duplicate_pairs_dni();

-- A new document: other accounts' current applications holding a file with the same SHA-256.
CREATE FUNCTION duplicate_pairs_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO duplicate_pairs (first_id, second_id, found_at)
    SELECT DISTINCT CASE WHEN o.application_id < NEW.application_id THEN o.application_id ELSE NEW.application_id END,
           CASE WHEN o.application_id < NEW.application_id THEN NEW.application_id ELSE o.application_id END,
           NEW.uploaded_at
    FROM documents o JOIN applications oa ON oa.id = o.application_id
    WHERE o.sha256 = NEW.sha256 AND o.replaced_at IS NULL AND o.application_id <> NEW.application_id
      AND oa.resident_id <> (SELECT resident_id FROM applications WHERE id = NEW.application_id)
      AND (oa.status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second')
           OR EXISTS (SELECT 1 FROM memberships m WHERE m.application_id = oa.id AND m.status IN ('active', 'suspended')))
    LIMIT 20
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER duplicate_pairs_file AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION duplicate_pairs_file();
