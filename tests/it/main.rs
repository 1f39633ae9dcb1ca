//! Integration tests: through HTTP against a real server and a real database, one fresh
//! database per test. Set TEST_DATABASE_URL to run them on PostgreSQL.

mod helpers;

mod accounts;
mod analysis;
mod applications;
mod architecture;
mod audit;
mod batches;
mod dates;
mod deadlines;
mod desk;
mod enhancement;
mod groups;
mod head;
mod lifecycle;
mod mail;
mod memberships;
mod migrations;
mod oversight;
mod review;
mod robustness;
mod scale;
mod security;
mod sessions;
mod time_zone;
mod tls;
mod writers;
