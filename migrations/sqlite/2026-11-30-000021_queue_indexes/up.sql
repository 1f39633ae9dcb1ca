-- "Claimed by me" in the officers' queue reads each group's claims of one officer in queue
-- order; without this index it read every claim of the officer in every group and sorted.
CREATE INDEX applications_claimed_queue ON applications (claimed_by, group_id, submitted_at, id)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');

-- The queue reads only (submitted_at, id) per group; with the status in the index too, the
-- open-applications index of a group answers it alone. Without it SQLite preferred the
-- group-and-status index, which holds the status, and sorted its four ranges.
DROP INDEX applications_open_group;
CREATE INDEX applications_open_group ON applications (group_id, submitted_at, id, status)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');
