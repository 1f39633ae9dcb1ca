//! Group management and the public list of groups.
