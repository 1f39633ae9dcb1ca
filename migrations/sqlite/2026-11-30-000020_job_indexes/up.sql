-- Indexes for the background jobs, so each finds its work without scanning a table that
-- grows with applications (issue 11): the jobs read outside their write transactions, and
-- these keep those reads short too.

-- Lapsed claims: only claimed applications have a claim time (`claimed_at <= cutoff`
-- implies NOT NULL, so both planners use the partial index with the cutoff bound).
CREATE INDEX applications_claimed_at ON applications (claimed_at, id) WHERE claimed_at IS NOT NULL;
-- The retention purge: documents that still have a file, in id order.
CREATE INDEX documents_unpurged ON documents (id) WHERE purged_at IS NULL;
-- The retention purge of unconfirmed accounts checks that the account never acted on an
-- application; account deletion looks there too.
CREATE INDEX application_events_actor ON application_events (actor_id) WHERE actor_id IS NOT NULL;
-- Mails to a deleted or purged account's address.
CREATE INDEX mail_outbox_to ON mail_outbox (to_address);
