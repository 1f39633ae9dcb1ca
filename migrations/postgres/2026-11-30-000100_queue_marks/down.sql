DROP INDEX duplicate_pairs_second;
DROP TRIGGER applications_dni_verdict_replaced ON documents;
DROP TRIGGER applications_dni_verdict_read ON document_analyses;
DROP FUNCTION applications_dni_verdict();
DROP FUNCTION application_dni_verdict(TEXT);
ALTER TABLE applications DROP COLUMN dni_verdict;
