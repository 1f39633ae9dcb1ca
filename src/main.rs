use std::process::ExitCode;

use clap::Parser;
use vecinal::app::config::Settings;
use vecinal::cli::{self, Cli};

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    vecinal::app::telemetry::init(settings.log_format);
    cli::run(cli, settings)
}
