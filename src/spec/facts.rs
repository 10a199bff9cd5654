//! Inputs and facts the sections' checks share: seeded random inputs small enough to print,
//! the book's batch, and measured facts about a wrong result (row sums, weight on later
//! tokens, outputs that move when only later tokens move).

use nalgebra::{DMatrix, DVector};

use super::probe::{Got, Out, TOL};
use super::text::{Text, text};

/// A seeded random `(rows × cols)` matrix with entries in `[lo, hi)`, printed with 4 decimals
/// in a verdict: entries are rounded to 2 decimals so what the learner reads is the input.
///
/// The range must hold more than one number (`lo < hi`): a check whose probe inputs are all the
/// same value tests far less than it says, so such a range is a mistake in the check, and panics.
pub(crate) fn random(seed: u64, rows: usize, cols: usize, lo: f64, hi: f64) -> DMatrix<f32> {
    assert!(
        lo < hi,
        "a probe's random inputs need a range, not [{lo}, {hi})"
    );
    crate::TorchRng::manual_seed(seed)
        .uniform(rows, cols, lo, hi)
        .map(|x| (x * 100.0).round() / 100.0)
}

/// A seeded random vector (see [`random`]).
pub(crate) fn random_v(seed: u64, n: usize, lo: f64, hi: f64) -> DVector<f32> {
    DVector::from_column_slice(random(seed, n, 1, lo, hi).as_slice())
}

/// The book's batch: the six embeddings twice.
pub(crate) fn book_batch() -> Vec<DMatrix<f32>> {
    let x = crate::inputs::inputs();
    vec![x.clone(), x]
}

/// The matrices of a result (one for a matrix, each item of a batch).
fn matrices(got: &Got) -> Vec<&DMatrix<f32>> {
    match &got.out {
        Out::Matrix(m) => vec![m],
        Out::Batch(b) => b.iter().collect(),
        _ => Vec::new(),
    }
}

/// Facts about attention weights: a row that does not sum to 1, columns that do.
pub(crate) fn weight_facts(got: &Got) -> Vec<Text> {
    let mut facts = Vec::new();
    for m in matrices(got) {
        let rows: Vec<f32> = (0..m.nrows()).map(|i| m.row(i).sum()).collect();
        if let Some(i) = rows.iter().position(|s| (s - 1.0).abs() > 1e-4) {
            let cols_one = m.nrows() != m.ncols()
                && (0..m.ncols()).all(|j| (m.column(j).sum() - 1.0).abs() <= 1e-4);
            facts.push(text!(
                "Row {i} of yours sums to {s}; each row of attention weights sums to 1 (row i holds query i's weights over the keys).",
                "여러분의 결과에서 {i}번 행의 합은 {s}입니다. 어텐션 가중치는 행마다 합이 1입니다({i}번 행은 쿼리 {i}의 가중치).",
                i = i,
                s = format!("{:.4}", rows[i]),
            ));
            if cols_one {
                facts.push(text!(
                    "Each column of yours sums to 1.",
                    "여러분의 결과는 열마다 합이 1입니다.",
                ));
            }
            break;
        }
    }
    facts
}

/// Facts about causal weights: weight on a later token, and the row sums.
pub(crate) fn causal_facts(got: &Got) -> Vec<Text> {
    let mut facts = Vec::new();
    for m in matrices(got) {
        let future = (0..m.nrows())
            .flat_map(|i| ((i + 1)..m.ncols()).map(move |j| (i, j)))
            .find(|&ij| m[ij] != 0.0);
        if let Some((i, j)) = future {
            facts.push(text!(
                "Token {i} of yours puts weight {x} on token {j}, a later token; above the diagonal every causal weight is exactly 0.",
                "여러분의 결과에서 토큰 {i}가 뒤에 오는 토큰 {j}에 가중치 {x}를 줍니다. 코잘 어텐션 가중치는 대각선 위가 모두 정확히 0입니다.",
                i = i,
                j = j,
                x = format!("{:.4}", m[(i, j)]),
            ));
            break;
        }
    }
    facts.extend(weight_facts(got));
    facts
}

/// Rows `0..k` of `after` minus those of `before`, item by item: all zeros when the first `k`
/// tokens' outputs do not depend on the tokens after them.
pub(crate) fn first_rows_change(before: &[DMatrix<f32>], after: &[DMatrix<f32>], k: usize) -> Out {
    Out::Batch(
        before
            .iter()
            .zip(after)
            .map(|(b, a)| {
                let k = k.min(b.nrows()).min(a.nrows());
                if b.ncols() == a.ncols() {
                    a.rows(0, k) - b.rows(0, k)
                } else {
                    a.rows(0, k).into_owned()
                }
            })
            .collect(),
    )
}

/// Facts about a [`first_rows_change`] result.
pub(crate) fn causality_facts(got: &Got) -> Vec<Text> {
    let moved = matrices(got).into_iter().enumerate().find_map(|(b, m)| {
        (0..m.nrows())
            .find(|&i| m.row(i).iter().any(|x| x.abs() > TOL))
            .map(|i| (b, i))
    });
    moved
        .map(|(b, i)| {
            text!(
                "In item {b}, token {i}'s output changed although only later tokens changed: it sees the future.",
                "{b}번 항목에서 뒤의 토큰만 바꿨는데 토큰 {i}의 출력이 바뀌었습니다. 미래를 보고 있습니다.",
                b = b,
                i = i,
            )
        })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(out: Out) -> Got {
        out.into()
    }

    /// A range of one number is a mistake in a check: it panics rather than test on constants.
    #[test]
    fn random_inputs_need_a_range() {
        let m = random(1, 3, 2, -0.5, 0.5);
        assert!(m.iter().all(|v| (-0.5..0.5).contains(v)));
        assert!(m.iter().any(|&v| v != m[0]));
        for (lo, hi) in [(2.0, 2.0), (3.0, -3.0)] {
            let result = std::panic::catch_unwind(|| random(1, 3, 2, lo, hi));
            assert!(result.is_err(), "[{lo}, {hi})");
        }
    }

    #[test]
    fn weight_facts_name_the_first_bad_row_and_columns_that_sum_to_1() {
        // 2 × 3 whose columns sum to 1 and whose rows do not (a softmax over columns).
        let m = DMatrix::from_row_slice(2, 3, &[0.5, 0.25, 0.75, 0.5, 0.75, 0.25]);
        let facts = weight_facts(&got(Out::Matrix(m)));
        assert_eq!(facts.len(), 2);
        assert!(
            facts[0].en.starts_with("Row 0 of yours sums to 1.5000;"),
            "{facts:?}"
        );
        assert_eq!(facts[1].en, "Each column of yours sums to 1.");
        // In a batch, the second item's row 1; the rows of the first are fine.
        let fine = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.5, 0.5]);
        let bad = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.5, 0.25]);
        let facts = weight_facts(&got(Out::Batch(vec![fine.clone(), bad])));
        assert_eq!(facts.len(), 1);
        assert!(
            facts[0].en.starts_with("Row 1 of yours sums to 0.7500;"),
            "{facts:?}"
        );
        assert!(weight_facts(&got(Out::Batch(vec![fine]))).is_empty());
        assert!(weight_facts(&got(Out::Count(3))).is_empty());
    }

    #[test]
    fn causal_facts_name_weight_on_a_later_token() {
        let m = DMatrix::from_row_slice(2, 2, &[0.75, 0.25, 0.5, 0.5]);
        let facts = causal_facts(&got(Out::Matrix(m)));
        assert!(
            facts[0]
                .en
                .starts_with("Token 0 of yours puts weight 0.2500 on token 1"),
            "{facts:?}"
        );
        let causal = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.5, 0.5]);
        assert!(causal_facts(&got(Out::Batch(vec![causal]))).is_empty());
    }

    #[test]
    fn causality_facts_name_the_first_token_that_moved() {
        let before = vec![DMatrix::from_element(3, 2, 0.25_f32); 2];
        let mut after = before.clone();
        after[1][(1, 0)] = 0.75;
        after[1][(2, 0)] = 9.0; // beyond the first 2 tokens: not counted
        let moved = causality_facts(&first_rows_change(&before, &after, 2).into());
        assert_eq!(moved.len(), 1);
        assert!(
            moved[0]
                .en
                .starts_with("In item 1, token 1's output changed"),
            "{moved:?}"
        );
        // A change of exactly TOL is within the tolerance: not a move.
        let mut at_tolerance = vec![DMatrix::zeros(3, 2)];
        at_tolerance[0][(0, 0)] = TOL;
        let zeros = vec![DMatrix::zeros(3, 2)];
        assert!(causality_facts(&first_rows_change(&zeros, &at_tolerance, 2).into()).is_empty());
        let mut later_only = before.clone();
        later_only[0][(2, 1)] = 1.0;
        assert!(causality_facts(&first_rows_change(&before, &later_only, 2).into()).is_empty());
        // The change itself: 0.75 − 0.25 where token 1 moved, exactly 0 elsewhere.
        let Out::Batch(change) = first_rows_change(&before, &after, 2) else {
            panic!("a batch")
        };
        assert_eq!(change[1][(1, 0)], 0.5);
        assert_eq!(change[0], DMatrix::zeros(2, 2));
        // A change of width is shown as the rows themselves.
        let wide = vec![DMatrix::from_element(3, 3, 1.0_f32)];
        let Out::Batch(rows) = first_rows_change(&before[..1], &wide, 2) else {
            panic!("a batch")
        };
        assert_eq!(rows[0], DMatrix::from_element(2, 3, 1.0_f32));
    }
}
