//! Vecinal: verified neighbourhood-watch groups. Residents apply with proof of residence
//! and a criminal-record certificate, officers review, commissioners audit.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod services;
pub mod startup;
pub mod web;
