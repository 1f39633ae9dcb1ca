-- The queue's marks kept with the application (issue 11), so that a queue page reads them
-- with its rows instead of five more statements per page.
--
-- `dni_verdict`: the verdict of the application's current identity document, as the
-- background reading wrote it in `document_analyses` (NULL until read). Triggers keep it:
-- when a reading's verdict is written, and when an identity document is replaced (the new
-- one is unread). `vecinal stats rebuild` recomputes it (src/db/marks.rs).
ALTER TABLE applications ADD COLUMN dni_verdict TEXT CHECK (dni_verdict IN ('match', 'mismatch', 'unread'));

UPDATE applications SET dni_verdict = (
    SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id
    WHERE d.application_id = applications.id AND d.kind = 'identity_document' AND d.replaced_at IS NULL
    ORDER BY d.uploaded_at DESC LIMIT 1)
WHERE id IN (
    SELECT d.application_id FROM documents d JOIN document_analyses da ON da.document_id = d.id
    WHERE d.kind = 'identity_document' AND d.replaced_at IS NULL AND da.dni_verdict IS NOT NULL);

CREATE TRIGGER applications_dni_verdict_read AFTER UPDATE OF dni_verdict ON document_analyses
WHEN NEW.dni_verdict IS NOT OLD.dni_verdict BEGIN
    UPDATE applications SET dni_verdict = (
        SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id
        WHERE d.application_id = NEW.application_id AND d.kind = 'identity_document' AND d.replaced_at IS NULL
        ORDER BY d.uploaded_at DESC LIMIT 1)
    WHERE id = NEW.application_id;
END;

CREATE TRIGGER applications_dni_verdict_replaced AFTER UPDATE OF replaced_at ON documents
WHEN NEW.kind = 'identity_document' BEGIN
    UPDATE applications SET dni_verdict = (
        SELECT da.dni_verdict FROM documents d JOIN document_analyses da ON da.document_id = d.id
        WHERE d.application_id = NEW.application_id AND d.kind = 'identity_document' AND d.replaced_at IS NULL
        ORDER BY d.uploaded_at DESC LIMIT 1)
    WHERE id = NEW.application_id;
END;

-- The queue's duplicate sign: whether an application is in a recorded pair, on either
-- side (the primary key serves `first_id`).
CREATE INDEX duplicate_pairs_second ON duplicate_pairs (second_id);
