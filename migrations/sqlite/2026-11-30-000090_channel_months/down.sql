DROP TRIGGER channel_months_delete;
DROP TRIGGER channel_months_update;
DROP TRIGGER channel_months_insert;
DROP TABLE channel_months;
