-- A document's ciphertext in pieces of 256 KiB (`document_chunks`), so that deleting a file
-- is many short write transactions instead of one long one that holds SQLite's write lock
-- while a 10 MB value's pages are freed. The nonce stays in `document_blobs`, whose row is
-- the file's presence: the purge deletes it, with the metadata and the audit entry, and
-- queues the pieces and the drawn pages in `document_sweeps` for small batches later.
CREATE TABLE document_chunks (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    bytes BLOB NOT NULL,
    PRIMARY KEY (document_id, seq)
);
CREATE TABLE document_sweeps (
    document_id TEXT PRIMARY KEY NOT NULL
);

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4095)
INSERT INTO document_chunks (document_id, seq, bytes)
SELECT b.document_id, n.i, substr(b.ciphertext, n.i * 262144 + 1, 262144)
FROM document_blobs b JOIN n ON n.i * 262144 < length(b.ciphertext);

ALTER TABLE document_blobs DROP COLUMN ciphertext;
