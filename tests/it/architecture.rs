//! The module map holds: `src/` modules depend on each other in one direction only
//! (docs/ARCHITECTURE.md, "Module map"), and HTTP handlers reach the database only through
//! services.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first: a module may use only modules before it. Within one folder anything goes.
const LAYERS: &[&str] = &[
    "domain",
    "i18n",
    "error",
    "db",
    "audit",
    "auth",
    "documents",
    "mail",
    "app",
    "services",
    "jobs",
    "web",
    "startup",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to: `src/web/officer.rs` → `web`, `src/cli.rs` → `cli`.
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` a file mentions, outside comments.
fn references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
            // `use crate::{a, b}` names several at once.
            if rest.starts_with('{') {
                let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
                for part in group.split(',') {
                    let name: String =
                        part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        found.insert(name);
                    }
                }
            }
        }
    }
    found
}

fn dependencies() -> BTreeMap<String, BTreeSet<(String, String)>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut deps: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for file in files {
        let from = top_module(&file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(src()).unwrap().display().to_string();
        for to in references(&text) {
            // `crate::tk!` is a macro at the crate root, not a module.
            if to != from && to != "tk" {
                deps.entry(from.clone()).or_default().insert((to, rel.clone()));
            }
        }
    }
    deps
}

#[test]
fn modules_only_depend_downwards() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (from, tos) in dependencies() {
        let from_rank = rank(&from).unwrap_or_else(|| panic!("src/{from} is not in LAYERS: place it"));
        for (to, file) in tos {
            let to_rank = rank(&to).unwrap_or_else(|| panic!("{file} uses crate::{to}, which is not in LAYERS"));
            if to_rank > from_rank {
                wrong.push(format!("{file}: {from} uses {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies that point upwards:\n{}", wrong.join("\n"));
}

#[test]
fn the_layer_check_sees_imports() {
    let refs = references(
        "use crate::{db, web::page};\nuse crate::app::AppState; // crate::jobs\nlet x = crate::services::review::queue();",
    );
    assert_eq!(refs, ["app", "db", "services", "web"].iter().map(|s| s.to_string()).collect());
}
#[test]
fn handlers_reach_the_database_only_through_services() {
    let mut files = Vec::new();
    rust_files(&src().join("web"), &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            // `.db(` also catches `state` and `.db(` split over two lines by rustfmt.
            for banned in [
                ".db(",
                ".write(",
                ".write_tx(",
                "audit::record",
                "crate::db::schema",
                "crate::db::queries",
                "DbConn",
                "diesel::",
            ] {
                if line.contains(banned) {
                    wrong.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "web/ must call services instead:\n{}", wrong.join("\n"));
}
