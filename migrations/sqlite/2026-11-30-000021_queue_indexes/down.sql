DROP INDEX applications_open_group;
CREATE INDEX applications_open_group ON applications (group_id, submitted_at, id)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');
DROP INDEX applications_claimed_queue;
