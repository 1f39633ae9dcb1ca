DROP TRIGGER channel_months_change ON channel_counts;
DROP FUNCTION count_channel_month();
DROP TABLE channel_months;
