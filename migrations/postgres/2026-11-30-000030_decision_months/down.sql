DROP TRIGGER decision_months_change ON decision_counts;
DROP FUNCTION count_decision_change();
DROP TABLE decision_days;
DROP TABLE decision_months;
