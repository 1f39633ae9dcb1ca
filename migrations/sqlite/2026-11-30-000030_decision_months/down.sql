DROP TRIGGER decision_months_delete;
DROP TRIGGER decision_months_update;
DROP TRIGGER decision_months_insert;
DROP TABLE decision_days;
DROP TABLE decision_months;
