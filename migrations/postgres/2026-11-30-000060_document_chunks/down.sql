ALTER TABLE document_blobs ADD COLUMN ciphertext BYTEA NOT NULL DEFAULT '';
UPDATE document_blobs SET ciphertext = COALESCE(
    (SELECT string_agg(c.bytes, ''::bytea ORDER BY c.seq) FROM document_chunks c WHERE c.document_id = document_blobs.document_id),
    ''::bytea);
ALTER TABLE document_blobs ALTER COLUMN ciphertext DROP DEFAULT;
DROP TABLE document_sweeps;
DROP TABLE document_chunks;
