-- A document's ciphertext in pieces of 256 KiB (`document_chunks`), so that deleting a file
-- is many short write transactions instead of one long one. The nonce stays in
-- `document_blobs`, whose row is the file's presence: the purge deletes it, with the
-- metadata and the audit entry, and queues the pieces and the drawn pages in
-- `document_sweeps` for small batches later.
CREATE TABLE document_chunks (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    bytes BYTEA NOT NULL,
    PRIMARY KEY (document_id, seq)
);
CREATE TABLE document_sweeps (
    document_id TEXT PRIMARY KEY NOT NULL
);

INSERT INTO document_chunks (document_id, seq, bytes)
SELECT b.document_id, s.i, substring(b.ciphertext FROM s.i * 262144 + 1 FOR 262144)
FROM document_blobs b CROSS JOIN LATERAL generate_series(0, (length(b.ciphertext) - 1) / 262144) AS s(i);

ALTER TABLE document_blobs DROP COLUMN ciphertext;
