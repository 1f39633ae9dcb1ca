DROP TABLE application_events;
DROP TABLE document_blobs;
DROP TABLE documents;
DROP TABLE applications;
DROP TABLE officer_assignments;
DROP TABLE groups;
