DROP INDEX documents_sha256;
DROP TABLE document_renditions;
DROP TABLE document_analyses;
