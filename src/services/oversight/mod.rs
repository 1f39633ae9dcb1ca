//! Commissioner oversight (issue #6): the dashboard of figures per group and officer, the
//! audit log told in plain words, read-only records of any application or person, the
//! membership search and the CSV exports. Reads only, except the audit entries that
//! record who opened a record or took an export.

pub mod channels;
pub mod dashboard;
pub mod exports;
pub mod log;
pub mod records;
pub mod summary;
