ALTER TABLE document_blobs ADD COLUMN ciphertext BLOB NOT NULL DEFAULT x'';
-- The pieces joined again, in order (|| joins blobs byte for byte; CAST keeps them a blob).
UPDATE document_blobs SET ciphertext = CAST((
    WITH RECURSIVE joined(seq, bytes) AS (
        SELECT c.seq, c.bytes FROM document_chunks c WHERE c.document_id = document_blobs.document_id AND c.seq = 0
        UNION ALL
        SELECT c.seq, joined.bytes || c.bytes FROM joined
        JOIN document_chunks c ON c.document_id = document_blobs.document_id AND c.seq = joined.seq + 1
    )
    SELECT bytes FROM joined ORDER BY seq DESC LIMIT 1
) AS BLOB);
DROP TABLE document_sweeps;
DROP TABLE document_chunks;
