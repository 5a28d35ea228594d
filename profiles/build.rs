//! Embeds Apple's profile schema files (`schema/apple/*.yaml`) in the crate: writes
//! `$OUT_DIR/schema_files.rs`, a `&[(file name, contents)]` of `include_str!`s, sorted by name.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR")?).join("schema").join("apple");
    println!("cargo:rerun-if-changed={}", dir.display());
    let files = yaml_files(&dir)?;
    let mut out = String::from("/// Apple's schema files: (file name, YAML text), sorted by name.\n");
    out.push_str("pub(crate) static FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().and_then(|n| n.to_str()).ok_or("schema file name is not UTF-8")?;
        let abs = path.to_str().ok_or("schema file path is not UTF-8")?;
        writeln!(out, "    ({name:?}, include_str!({abs:?})),")?;
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR")?).join("schema_files.rs");
    std::fs::write(dest, out)?;
    Ok(())
}

/// The `.yaml` files directly in `dir`, sorted by name.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "yaml") {
            files.push(path.canonicalize()?);
        }
    }
    files.sort();
    Ok(files)
}
