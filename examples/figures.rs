//! Rewrites every figure in `docs/figures/` from the crate's computed results:
//! `cargo run --example figures`. A test (`tests/figures.rs`) fails while any is stale.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/figures");
    std::fs::create_dir_all(dir)?;
    for (name, svg) in ch03_attention::figures::all()? {
        let path = format!("{dir}/{name}");
        std::fs::write(&path, svg)?;
        println!("wrote {path}");
    }
    Ok(())
}
