-- The queue's duplicate sign kept with the application (issue 11). `in_pair` says the
-- application is on either side of a recorded pair, so that a queue page reads it with its
-- rows: probing `duplicate_pairs` twice per row cost a fifth of the page at 1 M
-- applications. The few rows marked are then checked one statement each, as the
-- commissioners' list decides (src/db/duplicates.rs). Triggers keep it when a pair is
-- recorded and when a pair row is deleted (the service deletes none; a hand edit or a
-- restore may); `vecinal stats rebuild` recomputes it (src/db/marks.rs).
ALTER TABLE applications ADD COLUMN in_pair BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE applications SET in_pair = TRUE
WHERE id IN (SELECT first_id FROM duplicate_pairs UNION SELECT second_id FROM duplicate_pairs);

CREATE FUNCTION applications_in_pair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE applications SET in_pair = TRUE WHERE id IN (NEW.first_id, NEW.second_id) AND NOT in_pair;
    ELSE
        UPDATE applications a SET in_pair = EXISTS (
            SELECT 1 FROM duplicate_pairs p WHERE p.first_id = a.id
            UNION ALL SELECT 1 FROM duplicate_pairs p WHERE p.second_id = a.id)
        WHERE a.id IN (OLD.first_id, OLD.second_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_in_pair AFTER INSERT OR DELETE ON duplicate_pairs
    FOR EACH ROW EXECUTE FUNCTION applications_in_pair();
