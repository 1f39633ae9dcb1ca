-- The queue's marks kept with the application (issue 11), so that a queue page reads them
-- with its rows instead of five more statements per page.
--
-- `dni_verdict`: the verdict of the application's current identity document, as the
-- background reading wrote it in `document_analyses` (NULL until read). Triggers keep it:
-- when a reading's verdict is written, and when an identity document is replaced (the new
-- one is unread). `vecinal stats rebuild` recomputes it (src/db/marks.rs).
ALTER TABLE applications ADD COLUMN dni_verdict TEXT CHECK (dni_verdict IN ('match', 'mismatch', 'unread'));

CREATE FUNCTION application_dni_verdict(application TEXT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id
    WHERE d.application_id = application AND d.kind = 'identity_document' AND d.replaced_at IS NULL
    ORDER BY d.uploaded_at DESC LIMIT 1
$$;

UPDATE applications SET dni_verdict = application_dni_verdict(id)
WHERE id IN (
    SELECT d.application_id FROM documents d JOIN document_analyses da ON da.document_id = d.id
    WHERE d.kind = 'identity_document' AND d.replaced_at IS NULL AND da.dni_verdict IS NOT NULL);

CREATE FUNCTION applications_dni_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE applications SET dni_verdict = application_dni_verdict(NEW.application_id)
    WHERE id = NEW.application_id;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_dni_verdict_read AFTER UPDATE OF dni_verdict ON document_analyses
    FOR EACH ROW WHEN (NEW.dni_verdict IS DISTINCT FROM OLD.dni_verdict)
    EXECUTE FUNCTION applications_dni_verdict();
CREATE TRIGGER applications_dni_verdict_replaced AFTER UPDATE OF replaced_at ON documents
    FOR EACH ROW WHEN (NEW.kind = 'identity_document')
    EXECUTE FUNCTION applications_dni_verdict();

-- The queue's duplicate sign: whether an application is in a recorded pair, on either
-- side (the primary key serves `first_id`).
CREATE INDEX duplicate_pairs_second ON duplicate_pairs (second_id);
