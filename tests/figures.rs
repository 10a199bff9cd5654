//! Every committed figure in docs/figures/ is exactly what the code draws today.
//! If this fails after a change, run `cargo xtask figures` and review the new SVGs.

#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
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
        "stale figures {stale:?}: run `cargo xtask figures`"
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

/// The text of every cell of a heatmap figure, panel after panel, each row by row ("" for a
/// masked cell).
fn cells(svg: &str) -> Vec<String> {
    svg.lines()
        .filter(|l| l.starts_with("<rect x="))
        .map(|l| match l.rfind("</text>") {
            Some(end) => {
                let start = l[..end].rfind('>').unwrap() + 1;
                l[start..end].to_string()
            }
            None => String::new(),
        })
        .collect()
}

/// The similarity page's figure and its sentence: X (6 × 3), then Ω = X·Xᵀ, then the cosines
/// (6 × 6 each). In the row of "journey", "Your" out-scores "with" though "with" is the better
/// aligned; the cosine's diagonal is 1.
#[test]
fn similarity_figure_shows_the_vectors_their_dot_products_and_cosines() {
    let c = cells(&ch03_attention::figures::similarity_3_3().unwrap());
    assert_eq!(c.len(), 18 + 36 + 36);
    assert_eq!(c[..3], ["0.43", "0.15", "0.89"], "x⁽¹⁾ \"Your\"");
    let (scores, cosines) = (&c[18..54], &c[54..]);
    let at = |m: &[String], i: usize, j: usize| m[6 * i + j].clone();
    let (your, journey, with) = (0, 1, 3);
    assert_eq!(at(scores, journey, journey), "1.50");
    assert_eq!(
        (at(scores, journey, your), at(scores, journey, with)),
        ("0.95".into(), "0.84".into())
    );
    assert_eq!(
        (at(cosines, journey, your), at(cosines, journey, with)),
        ("0.78".into(), "0.98".into())
    );
    for i in 0..6 {
        assert_eq!(at(cosines, i, i), "1.00");
        for j in 0..6 {
            assert_eq!(at(scores, i, j), at(scores, j, i));
            assert_eq!(at(cosines, i, j), at(cosines, j, i));
        }
    }
}

/// The normalize page's figure and its sentences: three rows (÷ sum, naive softmax, stable
/// softmax) for the book's scores of "journey", for (1, −1, 0.5) and for (1000, 1001, 999).
#[test]
fn normalize_figure_shows_the_three_normalizations_side_by_side() {
    use ch03_attention::figures::{LARGE_SCORES, NEGATIVE_SCORES};
    use ch03_attention::nalgebra::DVector;
    use ch03_attention::normalize::{softmax, sum_normalize};
    let c = cells(&ch03_attention::figures::normalize_3_3().unwrap());
    assert_eq!(c.len(), 18 + 9 + 9);
    let (book, negative, large) = (&c[..18], &c[18..27], &c[27..]);
    // The book's scores: both softmaxes print alike, and give "journey" more than division.
    assert_eq!(book[6..12], book[12..18]);
    assert_eq!((book[1].as_str(), book[13].as_str()), ("0.23", "0.24"));
    assert_eq!(
        negative,
        [
            "2.00", "-2.00", "1.00", "0.57", "0.08", "0.35", "0.57", "0.08", "0.35"
        ]
    );
    assert_eq!(
        large,
        [
            "0.33", "0.33", "0.33", "NaN", "NaN", "NaN", "0.24", "0.67", "0.09"
        ]
    );
    // Division's weights sum to 1 even with the negative one ...
    let negative = sum_normalize(&DVector::from_vec(NEGATIVE_SCORES.to_vec()));
    assert_eq!(negative.as_slice(), [2.0, -2.0, 1.0]);
    // ... and the stable softmax of the large scores is that of (0, 1, −1), bit for bit.
    assert_eq!(
        softmax(&DVector::from_vec(LARGE_SCORES.to_vec())),
        softmax(&DVector::from_vec(vec![0.0, 1.0, -1.0]))
    );
}

/// The dropout page's figure and its sentence: the book's mask keeps 21 of 36 elements, the MKL
/// path's (PyTorch ≤ 2.6) 15, from the same seed.
#[test]
fn dropout_figure_shows_the_kept_masks_of_both_paths() {
    let c = cells(&ch03_attention::figures::dropout_mask_3_5().unwrap());
    assert_eq!(c.len(), 72);
    let kept = |m: &[String]| m.iter().filter(|v| *v == "2.00").count();
    assert!(c.iter().all(|v| v == "2.00" || v == "0.00"), "{c:?}");
    assert_eq!(
        c[..6],
        ["2.00", "2.00", "0.00", "2.00", "2.00", "0.00"],
        "the book's first row"
    );
    assert_eq!((kept(&c[..36]), kept(&c[36..])), (21, 15));
}
