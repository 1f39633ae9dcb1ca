DROP TRIGGER duplicate_pairs_file;
DROP TRIGGER duplicate_pairs_dni;
DROP INDEX memberships_application;
DROP TABLE duplicate_pairs;
