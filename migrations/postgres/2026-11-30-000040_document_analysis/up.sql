-- What the service read in each document for the officer (issue 13): the queue of
-- documents to read, and what was found. One row per document, written with the document
-- (state 'pending') and filled by the background job ('done'). Only what the review needs
-- is kept: the DNI number and names as read, never the birth date or trámite number; the
-- read values are cleared when the document's file is deleted.
CREATE TABLE document_analyses (
    document_id TEXT PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    -- PDFs: pages drawn (as document_renditions rows), pages in the file, why not drawn.
    pages INTEGER NOT NULL DEFAULT 0,
    total_pages INTEGER NOT NULL DEFAULT 0,
    not_rendered TEXT CHECK (not_rendered IN ('unreadable', 'encrypted', 'page_too_large', 'too_slow')),
    -- Identity document: the barcode compared with the application.
    dni_verdict TEXT CHECK (dni_verdict IN ('match', 'mismatch', 'unread')),
    dni_number TEXT,
    dni_surname TEXT,
    dni_names TEXT,
    dni_number_matches BOOLEAN,
    -- JSON array of the words read that the account's name lacks.
    dni_words_missing TEXT,
    -- Certificate: JSON array of the QR codes' texts.
    codes TEXT NOT NULL DEFAULT '[]'
);
-- The job's queue: pending analyses, earliest due first.
CREATE INDEX document_analyses_due ON document_analyses (next_attempt_at) WHERE state = 'pending';
CREATE INDEX document_analyses_application ON document_analyses (application_id);

-- PDF pages drawn as PNG: derived documents, encrypted like their source (the associated
-- data names the source document and the page), deleted with its file.
CREATE TABLE document_renditions (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size_bytes BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    PRIMARY KEY (document_id, page)
);
-- The key rotation finds the pages still under an old key.
CREATE INDEX document_renditions_key ON document_renditions (key_id);
-- Possible duplicates: the same file, or the same DNI (applications_dni, made by
-- 2026-11-30-000031_desk_enrollment), under another account.
CREATE INDEX documents_sha256 ON documents (sha256);
