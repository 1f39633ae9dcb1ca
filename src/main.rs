use std::process::ExitCode;

use clap::Parser;
use vecinal::app::config::Settings;
use vecinal::cli::{self, Cli};

fn main() -> ExitCode {
    return_freed_memory();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // The analysis child needs no settings, database or logs: it reads a file and answers.
    if let Some(cli::Command::AnalyseDocument { kind, media, seconds }) = &cli.command {
        return vecinal::documents::analysis::isolate::child_main(kind, media, *seconds);
    }
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

/// glibc's malloc serves blocks above its mmap threshold with their own mappings, returned
/// to the system when freed, and by default raises that threshold to the largest such
/// block freed (up to 32 MiB): after the first 10 MiB upload, the next ones come from its
/// per-thread arenas, which keep them. Eight parallel 30 MB applications then left 215 MiB
/// resident after a 283 MiB peak; with the threshold fixed at 128 KiB, 88 MiB after 184
/// (docs/PERFORMANCE.md). The threshold can only be fixed before malloc's first use, from
/// the environment, so the process starts itself again once with it set (same process id,
/// same arguments). A value set by the operator is kept, and a failed `exec` (the binary
/// replaced on disk) carries on with glibc's defaults.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt as _;
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        let _failed = again.args(args).env("MALLOC_MMAP_THRESHOLD_", "131072").exec();
    }
}
