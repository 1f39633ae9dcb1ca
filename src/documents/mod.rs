//! Residents' documents: content checks, hashing and encryption at rest.

pub mod keys;
