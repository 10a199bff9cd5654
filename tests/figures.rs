//! Every committed figure in docs/figures/ is exactly what the code draws today.
//! If this fails after a change, run `cargo run --example figures` and review the new SVGs.

#[test]
fn committed_figures_are_up_to_date() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/figures");
    let figures = ch03_attention::figures::all().unwrap();
    assert!(!figures.is_empty());
    let mut stale = Vec::new();
    for (name, svg) in &figures {
        let committed = std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_default();
        if &committed != svg {
            stale.push(*name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale figures {stale:?}: run `cargo run --example figures`"
    );
    // And no orphan: every SVG in the folder is produced by the code.
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            figures.iter().any(|(name, _)| *name == file),
            "docs/figures/{file} is not drawn by figures::all()"
        );
    }
}

#[test]
fn heatmap_of_3_3_labels_every_token_and_writes_the_values() {
    let svg = ch03_attention::figures::attn_weights_3_3();
    for token in ch03_attention::inputs::TOKENS {
        assert_eq!(
            svg.matches(&format!(">{token}<")).count(),
            2,
            "{token}: one row and one column label"
        );
    }
    // 36 cells, the diagonal of "Your" first: 0.2098 → "0.21".
    assert_eq!(svg.matches("<rect x=").count(), 36);
    assert!(svg.contains(">0.21<"));
}
