//! Compiles the default comment templates (`rust/src/template/default-*.hbs`) with the handlebars
//! crate at build time, into the form the renderer walks (`rust/src/template/compiled.rs`), so a
//! cold function renders a default comment without loading the template parser. The output,
//! `$OUT_DIR/default_templates.json`, is embedded by `rust/src/template.rs`; a unit test checks
//! it against compiling the same files at run time.

#[path = "src/template/compiled.rs"]
#[allow(dead_code)]
mod compiled;

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=rust/build.rs");
    println!("cargo::rerun-if-changed=rust/src/template/compiled.rs");
    let mut out = serde_json::Map::new();
    for (key, file) in [
        ("passed", "default-passed.hbs"),
        ("failed", "default-failed.hbs"),
        ("manualReview", "default-manual-review.hbs"),
    ] {
        let path = format!("rust/src/template/{file}");
        println!("cargo::rerun-if-changed={path}");
        let source = std::fs::read_to_string(&path)?;
        let template = handlebars::Template::compile(&source)
            .map_err(|e| format!("{path} is not a valid template: {e}"))?;
        out.insert(
            key.to_owned(),
            serde_json::to_value(compiled::from_template(&template))?,
        );
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR")?).join("default_templates.json");
    std::fs::write(dest, serde_json::to_string(&out)?)?;
    Ok(())
}
