-- Neighbourhood groups, officers' assignments, applications with their documents and
-- timeline.

CREATE TABLE groups (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    area TEXT NOT NULL,
    invite_link TEXT NOT NULL,
    validity_days INTEGER NOT NULL CHECK (validity_days BETWEEN 1 AND 3650),
    certificate_max_age_days INTEGER NOT NULL CHECK (certificate_max_age_days BETWEEN 1 AND 365),
    two_approvals BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX groups_active ON groups (active, name);

CREATE TABLE officer_assignments (
    officer_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (officer_id, group_id)
);
CREATE INDEX officer_assignments_group ON officer_assignments (group_id);

CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL REFERENCES users (id),
    group_id TEXT NOT NULL REFERENCES groups (id),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second', 'approved', 'rejected', 'withdrawn')),
    street_address TEXT NOT NULL,
    dni TEXT NOT NULL,
    phone TEXT,
    certificate_issued_on DATE NOT NULL,
    requested_kinds TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    claimed_by TEXT REFERENCES users (id),
    claimed_at TIMESTAMP,
    first_approver TEXT REFERENCES users (id),
    consented_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_resident ON applications (resident_id, created_at);
CREATE INDEX applications_queue ON applications (group_id, status, submitted_at, id);
CREATE INDEX applications_open_queue ON applications (submitted_at, id)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');
CREATE INDEX applications_claimed ON applications (claimed_by, status);
CREATE INDEX applications_decided ON applications (group_id, decided_at);
-- One open application per resident and group, enforced by the database itself.
CREATE UNIQUE INDEX applications_one_open ON applications (resident_id, group_id)
    WHERE status IN ('submitted', 'in_review', 'needs_info', 'awaiting_second');

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind TEXT NOT NULL CHECK (kind IN ('residency_proof', 'criminal_record', 'identity_document')),
    media_type TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    original_name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP,
    purged_at TIMESTAMP
);
CREATE INDEX documents_application ON documents (application_id, kind);

-- Ciphertext apart from the metadata, so listing documents never reads file contents.
CREATE TABLE document_blobs (
    document_id TEXT PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL
);

CREATE TABLE application_events (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id),
    kind TEXT NOT NULL,
    message TEXT,
    -- Internal notes are for staff only; the resident's timeline never shows them.
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX application_events_application ON application_events (application_id, at);
