//! Table definitions, kept by hand in step with `migrations/` (a test compares the two).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        full_name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        locale -> Text,
        email_confirmed_at -> Nullable<Timestamp>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notify_pref -> Text,
        last_digest_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        idle_timeout_secs -> Integer,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        new_email -> Nullable<Text>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        action -> Text,
        subject_type -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        details -> Text,
        ip -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    local_offsets (starts_at) {
        starts_at -> Timestamp,
        offset_seconds -> Integer,
    }
}

diesel::table! {
    local_zone (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        area -> Text,
        invite_link -> Text,
        validity_days -> Integer,
        certificate_max_age_days -> Integer,
        two_approvals -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        member_seq -> Integer,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        user_id -> Text,
        group_id -> Text,
        application_id -> Text,
        number -> Text,
        status -> Text,
        valid_from -> Date,
        valid_until -> Date,
        verification_token -> Text,
        status_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reminded_30_at -> Nullable<Timestamp>,
        reminded_7_at -> Nullable<Timestamp>,
        removed_from_chat_at -> Nullable<Timestamp>,
        removed_from_chat_by -> Nullable<Text>,
    }
}

diesel::table! {
    officer_assignments (officer_id, group_id) {
        officer_id -> Text,
        group_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        resident_id -> Text,
        group_id -> Text,
        status -> Text,
        street_address -> Text,
        dni -> Text,
        phone -> Nullable<Text>,
        certificate_issued_on -> Date,
        requested_kinds -> Text,
        version -> Integer,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        first_approver -> Nullable<Text>,
        consented_at -> Timestamp,
        submitted_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        renewal_of -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        taken_by -> Nullable<Text>,
        dni_verdict -> Nullable<Text>,
        in_pair -> Bool,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        application_id -> Text,
        kind -> Text,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        original_name -> Text,
        key_id -> Text,
        uploaded_at -> Timestamp,
        replaced_at -> Nullable<Timestamp>,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    document_blobs (document_id) {
        document_id -> Text,
        nonce -> Binary,
    }
}

diesel::table! {
    document_chunks (document_id, seq) {
        document_id -> Text,
        seq -> Integer,
        bytes -> Binary,
    }
}

diesel::table! {
    document_sweeps (document_id) {
        document_id -> Text,
    }
}

diesel::table! {
    document_analyses (document_id) {
        document_id -> Text,
        application_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        pages -> Integer,
        total_pages -> Integer,
        not_rendered -> Nullable<Text>,
        dni_verdict -> Nullable<Text>,
        dni_number -> Nullable<Text>,
        dni_surname -> Nullable<Text>,
        dni_names -> Nullable<Text>,
        dni_number_matches -> Nullable<Bool>,
        dni_words_missing -> Nullable<Text>,
        codes -> Text,
    }
}

diesel::table! {
    document_renditions (document_id, page) {
        document_id -> Text,
        page -> Integer,
        width -> Integer,
        height -> Integer,
        size_bytes -> BigInt,
        key_id -> Text,
        nonce -> Binary,
        ciphertext -> Binary,
    }
}

diesel::table! {
    duplicate_pairs (first_id, second_id) {
        first_id -> Text,
        second_id -> Text,
        found_at -> Timestamp,
    }
}

diesel::table! {
    application_events (id) {
        id -> Text,
        application_id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        kind -> Text,
        message -> Nullable<Text>,
        internal -> Bool,
        details -> Text,
    }
}

// Summary rows kept by triggers (migration 2026-11-30-000011_summary_counts).
diesel::table! {
    application_counts (group_id, status) {
        group_id -> Text,
        status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    decision_counts (day, group_id, officer_id) {
        day -> Date,
        group_id -> Text,
        officer_id -> Text,
        approved -> BigInt,
        rejected -> BigInt,
        withdrawn -> BigInt,
        wait_0 -> BigInt,
        wait_1 -> BigInt,
        wait_2 -> BigInt,
        wait_3 -> BigInt,
        wait_4 -> BigInt,
        wait_5 -> BigInt,
        wait_6 -> BigInt,
        wait_7 -> BigInt,
        wait_8 -> BigInt,
        wait_9 -> BigInt,
        wait_10 -> BigInt,
        wait_11 -> BigInt,
        wait_12 -> BigInt,
    }
}

diesel::table! {
    member_counts (group_id, valid_until) {
        group_id -> Text,
        valid_until -> Date,
        n -> BigInt,
    }
}

// Kept from decision_counts by triggers (migration 2026-11-30-000030_decision_months).
diesel::table! {
    decision_months (month, group_id, officer_id) {
        month -> Date,
        group_id -> Text,
        officer_id -> Text,
        approved -> BigInt,
        rejected -> BigInt,
        withdrawn -> BigInt,
        wait_0 -> BigInt,
        wait_1 -> BigInt,
        wait_2 -> BigInt,
        wait_3 -> BigInt,
        wait_4 -> BigInt,
        wait_5 -> BigInt,
        wait_6 -> BigInt,
        wait_7 -> BigInt,
        wait_8 -> BigInt,
        wait_9 -> BigInt,
        wait_10 -> BigInt,
        wait_11 -> BigInt,
        wait_12 -> BigInt,
    }
}

diesel::table! {
    decision_days (day) {
        day -> Date,
        approved -> BigInt,
        rejected -> BigInt,
        withdrawn -> BigInt,
    }
}

// Enrollment at the desk (migration 2026-11-30-000031_desk_enrollment).
diesel::table! {
    desk_claims (user_id) {
        user_id -> Text,
        application_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    desk_notices (id) {
        id -> Text,
        application_id -> Text,
        group_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        told_at -> Nullable<Timestamp>,
        told_by -> Nullable<Text>,
        membership_id -> Nullable<Text>,
    }
}

diesel::table! {
    channel_counts (day, group_id, officer_id) {
        day -> Date,
        group_id -> Text,
        officer_id -> Text,
        received_online -> BigInt,
        received_desk -> BigInt,
        decided_online -> BigInt,
        decided_desk -> BigInt,
    }
}

// Kept from channel_counts by triggers (migration 2026-11-30-000090_channel_months).
diesel::table! {
    channel_months (month, group_id, officer_id) {
        month -> Date,
        group_id -> Text,
        officer_id -> Text,
        received_online -> BigInt,
        received_desk -> BigInt,
        decided_online -> BigInt,
        decided_desk -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(desk_notices -> applications (application_id));
diesel::joinable!(desk_claims -> applications (application_id));
diesel::joinable!(officer_assignments -> groups (group_id));
diesel::joinable!(officer_assignments -> users (officer_id));
diesel::joinable!(applications -> groups (group_id));
diesel::joinable!(documents -> applications (application_id));
diesel::joinable!(document_chunks -> documents (document_id));
diesel::joinable!(document_blobs -> documents (document_id));
diesel::joinable!(document_analyses -> documents (document_id));
diesel::joinable!(document_renditions -> documents (document_id));
diesel::joinable!(application_events -> applications (application_id));
diesel::joinable!(memberships -> groups (group_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    tokens,
    login_throttle,
    audit_log,
    mail_outbox,
    server_secrets,
    groups,
    officer_assignments,
    applications,
    documents,
    document_blobs,
    document_chunks,
    document_sweeps,
    document_analyses,
    document_renditions,
    duplicate_pairs,
    application_events,
    memberships,
    application_counts,
    decision_counts,
    decision_months,
    decision_days,
    member_counts,
    desk_claims,
    desk_notices,
    channel_counts,
    channel_months,
);
