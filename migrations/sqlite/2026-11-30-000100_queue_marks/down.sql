DROP INDEX duplicate_pairs_second;
DROP TRIGGER applications_dni_verdict_replaced;
DROP TRIGGER applications_dni_verdict_read;
ALTER TABLE applications DROP COLUMN dni_verdict;
