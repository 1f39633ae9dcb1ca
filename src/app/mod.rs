//! What the running service is made of: its settings, clock, logging and the state every
//! request and job shares.

pub mod clock;
pub mod config;
pub mod state;
pub mod telemetry;
pub mod tx;
pub mod upload_budget;

pub use state::AppState;
pub use tx::Tx;
