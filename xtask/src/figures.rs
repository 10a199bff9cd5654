//! `cargo xtask figures`: rewrites every figure in `docs/figures/` from the crate's computed
//! results (`ch03_attention::figures::all`). A test (`tests/figures.rs`) fails while any is stale.

use std::process::ExitCode;

pub fn run() -> ExitCode {
    match write_all() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

fn write_all() -> Result<(), Box<dyn std::error::Error>> {
    let dir = crate::workspace_root().join("docs/figures");
    std::fs::create_dir_all(&dir)?;
    for (name, svg) in ch03_attention::figures::all()? {
        let path = dir.join(name);
        std::fs::write(&path, svg)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
