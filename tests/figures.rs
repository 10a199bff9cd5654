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

/// The heatmap's colours and cell texts at their edges: ink turns white only *above* 55 % of the
/// panel's largest value, infinite scores are written as −∞ and ∞ in their own cells, and a panel
/// of zeros is all white (not a 0 / 0 = NaN shade).
#[test]
fn heatmap_cells_at_the_edges_of_each_rule() {
    use ch03_attention::figures::{Heatmap, svg};
    use ch03_attention::nalgebra::DMatrix;
    let m = DMatrix::from_row_slice(1, 4, &[1.0_f32, 0.55, f32::NEG_INFINITY, f32::INFINITY]);
    let picture = svg(&[Heatmap::new("edges", &m, &[], &[])]);
    assert!(
        picture.contains(r##"fill="#ffffff">1.00</text>"##),
        "{picture}"
    );
    assert!(
        picture.contains(r##"fill="#111111">0.55</text>"##),
        "{picture}"
    );
    let (minus, plus) = (picture.find(">−∞<"), picture.find(">∞<"));
    assert!(minus.is_some() && plus.is_some(), "{picture}");
    assert!(
        minus < plus,
        "−∞ is the third cell, ∞ the fourth: {picture}"
    );

    let zeros = DMatrix::from_element(1, 2, 0.0_f32);
    let picture = svg(&[Heatmap::new("zeros", &zeros, &[], &[])]);
    assert_eq!(
        picture.matches(r##"fill="#f7fbff""##).count(),
        2,
        "{picture}"
    );
}

/// Steps other than 1: x from −6 to 6 is cut every 2 (ticks from −6, not from a multiple of the
/// range), and y up to 400 every 100 (a step ten times the power of ten below 400 / 6 ≈ 67).
#[test]
fn line_chart_ticks_for_steps_of_two_and_of_a_hundred() {
    use ch03_attention::figures::{Series, line_chart};
    let line = Series {
        label: "line",
        points: vec![(-6.0, 0.0), (6.0, 400.0)],
        colour: "#000000",
        dashed: false,
    };
    let picture = line_chart("t", "x", "y", &[line]).unwrap();
    // x ticks: −6, −4, …, 6 at 60 + (x + 6) / 12 · 640.
    for k in -3..=3 {
        let x = f64::from(2 * k);
        let pixel = 60.0 + (x + 6.0) / 12.0 * 640.0;
        let text = format!(
            r##"<text x="{pixel:.1}" y="358" text-anchor="middle" fill="#333333">{x}</text>"##
        );
        assert!(picture.contains(&text), "{text} in {picture}");
    }
    assert_eq!(picture.matches(r#"y="358""#).count(), 7, "seven x ticks");
    // y ticks: 0, 100, …, 400 at 340 − y / 400 · 300 (label 4 px below the line).
    for (k, tick) in ["0", "100", "200", "300", "400"].iter().enumerate() {
        let text = format!(
            r##"y="{:.1}" text-anchor="end" fill="#333333">{tick}</text>"##,
            344.0 - 75.0 * k as f64
        );
        assert!(picture.contains(&text), "{text} in {picture}");
    }
    assert_eq!(
        picture.matches(r#"text-anchor="end""#).count(),
        5,
        "five y ticks"
    );
}

/// A line chart's axes where the leakage figures never take them: x below 0 (the axis starts at
/// the smallest x, and the ticks run from it), and a single x value (the axis falls back to
/// [0, 1] instead of dividing by a zero range). Hand-computed: the plot spans x pixels 60 to 700
/// and y pixels 340 (y = 0) to 40 (the top).
#[test]
fn line_chart_axes_below_zero_and_for_one_point() {
    use ch03_attention::figures::{Series, line_chart};
    let series = |points| Series {
        label: "line",
        points,
        colour: "#000000",
        dashed: false,
    };
    // x from −2 to 2: ticks every 1 at pixels 60, 220, 380, 540, 700; y from 0 to 3 (step 0.5).
    let picture = line_chart("t", "x", "y", &[series(vec![(-2.0, 1.0), (2.0, 3.0)])]).unwrap();
    assert!(
        picture.contains(r#"points="60.0,240.0 700.0,40.0""#),
        "{picture}"
    );
    for (pixel, tick) in [
        ("60.0", "-2"),
        ("220.0", "-1"),
        ("380.0", "0"),
        ("700.0", "2"),
    ] {
        let text = format!(
            r##"<text x="{pixel}" y="358" text-anchor="middle" fill="#333333">{tick}</text>"##
        );
        assert!(picture.contains(&text), "{text} in {picture}");
    }
    assert_eq!(picture.matches(r#"y="358""#).count(), 5, "five x ticks");
    // One point at x = 0: the x axis is [0, 1], so the point sits at the left edge.
    let picture = line_chart("t", "x", "y", &[series(vec![(0.0, 1.0)])]).unwrap();
    assert!(picture.contains(r#"points="60.0,40.0""#), "{picture}");
    assert!(!picture.contains("NaN"), "{picture}");
}
