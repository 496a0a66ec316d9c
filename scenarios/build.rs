//! Builds the shipped scenario library into the crate: writes `$OUT_DIR/library.rs`, one
//! `ShippedFile { name, text: include_str!(..) }` per `library/*.toml` file (subdirectories are
//! not read, as `load_paths` reads a directory), sorted by file name. `scenarios::shipped()`
//! loads them, so a binary copied anywhere still has its default library.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=library");
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(manifest_dir).join("library");
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list the scenario library {}: {e}", dir.display()));
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list the scenario library {}: {e}", dir.display()))
            .path();
        if !(path.extension().is_some_and(|x| x == "toml") && path.is_file()) {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str());
        let full = path.to_str();
        let (Some(name), Some(full)) = (name, full) else {
            panic!("{}: a shipped scenario needs a UTF-8 path", path.display());
        };
        files.push((name.to_owned(), full.to_owned()));
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (name, full) in &files {
        out.push_str(&format!(
            "    ShippedFile {{ name: {name:?}, text: include_str!({full:?}) }},\n"
        ));
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = out_dir.join("library.rs");
    fs::write(&target, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
