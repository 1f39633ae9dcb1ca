//! Vecinal: verified neighbourhood-watch groups. Residents apply with proof of residence
//! and a criminal-record certificate, officers review, commissioners audit.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod groups;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod memberships;
pub mod oversight;
pub mod privacy;
pub mod retention;
pub mod review;
pub mod staff;
pub mod startup;
pub mod telemetry;
pub mod web;
