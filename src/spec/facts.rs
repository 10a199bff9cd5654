//! Inputs and facts the sections' checks share: seeded random inputs small enough to print,
//! the book's batch, and measured facts about a wrong result (row sums, weight on later
//! tokens, outputs that move when only later tokens move).

use nalgebra::{DMatrix, DVector};

use super::probe::{Got, Out, TOL};
use super::text::{Text, text};

/// A seeded random `(rows × cols)` matrix with entries in `[lo, hi)`, printed with 4 decimals
/// in a verdict: entries are rounded to 2 decimals so what the learner reads is the input.
pub(crate) fn random(seed: u64, rows: usize, cols: usize, lo: f64, hi: f64) -> DMatrix<f32> {
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
