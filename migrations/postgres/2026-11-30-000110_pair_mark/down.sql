DROP TRIGGER applications_in_pair ON duplicate_pairs;
DROP FUNCTION applications_in_pair();
ALTER TABLE applications DROP COLUMN in_pair;
