DROP TRIGGER applications_out_of_pair;
DROP TRIGGER applications_in_pair;
ALTER TABLE applications DROP COLUMN in_pair;
