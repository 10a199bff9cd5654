//! Times the textbook `MultiHeadAttention` and the efficient path (`EfficientMha`) on GPT-2
//! small's attention shape (768 dimensions, 12 heads):
//!
//! ```sh
//! cargo run --release --example bench_mha              # readable table
//! cargo run --release --example bench_mha -- --json    # one JSON object per line
//! cargo run --release --example bench_mha -- --quick   # batch 1 × 1024 tokens only
//! ```
//!
//! Options: `--threads 1,2` (the efficient path's), `--configs 1x1024,8x1024,1x4096` (batch × tokens),
//! `--impl textbook,efficient`, `--runs 9` (at least 7), `--block 64` (efficient block size).
//!
//! Each configuration: one warm-up pass, then the median of `--runs` timed passes.
//! `peak_mib` is the largest amount of heap memory the forward pass held at once, beyond what
//! was allocated before it (module, input), counted by the allocator of
//! `tests/support/counting_alloc.rs` (shared with `tests/efficient_alloc.rs`). The efficient path
//! runs at every thread count (`EfficientMha::with_threads`); the textbook path is the book's
//! single-threaded module, run once per configuration and reported with `threads` 1.
//! `scripts/bench_torch.py` prints the same lines for PyTorch, `scripts/bench_compare.sh` runs
//! both and prints the ratios.

use std::time::Instant;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{EfficientMha, MultiHeadAttention, TorchRng};

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

const D_MODEL: usize = 768;
const HEADS: usize = 12;

struct Options {
    json: bool,
    threads: Vec<usize>,
    configs: Vec<(usize, usize)>,
    impls: Vec<String>,
    runs: usize,
    block: usize,
}

fn parse_list<T: std::str::FromStr>(s: &str, what: &str) -> Result<Vec<T>, String> {
    s.split(',')
        .map(|v| v.trim().parse().map_err(|_| format!("bad {what}: {v}")))
        .collect()
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        json: false,
        threads: vec![1, 2],
        configs: vec![(1, 1024), (8, 1024), (1, 4096)],
        impls: vec!["textbook".into(), "efficient".into()],
        runs: 9,
        block: ch03_attention::efficient::DEFAULT_BLOCK_SIZE,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--json" => o.json = true,
            "--quick" => o.configs = vec![(1, 1024)],
            "--threads" => o.threads = parse_list(&value()?, "thread count")?,
            "--impl" => o.impls = parse_list(&value()?, "impl")?,
            "--runs" => o.runs = value()?.parse().map_err(|_| "bad --runs")?,
            "--block" => o.block = value()?.parse().map_err(|_| "bad --block")?,
            "--configs" => {
                o.configs = value()?
                    .split(',')
                    .map(|c| {
                        let (b, t) = c.split_once('x').ok_or(format!("bad config {c}"))?;
                        Ok((
                            b.parse().map_err(|_| format!("bad batch in {c}"))?,
                            t.parse().map_err(|_| format!("bad tokens in {c}"))?,
                        ))
                    })
                    .collect::<Result<_, String>>()?
            }
            "--help" | "-h" => {
                return Err("usage: bench_mha [--json] [--quick] [--threads 1,2] \
                     [--configs 1x1024,8x1024,1x4096] [--impl textbook,efficient] [--runs 9] \
                     [--block 64]"
                    .into());
            }
            other => return Err(format!("unknown option {other} (try --help)")),
        }
    }
    o.runs = o.runs.max(7);
    Ok(o)
}

/// Median time (ms) and peak extra heap (MiB) of `runs` calls after one warm-up call.
fn measure(runs: usize, mut forward: impl FnMut() -> Vec<DMatrix<f32>>) -> (f64, f64) {
    let mut peak = 0;
    let mut times = Vec::with_capacity(runs);
    for i in 0..=runs {
        let before = counting_alloc::start();
        let start = Instant::now();
        let out = forward();
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        peak = peak.max(counting_alloc::since(before).1);
        drop(std::hint::black_box(out));
        if i > 0 {
            times.push(elapsed);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak as f64 / (1024.0 * 1024.0))
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if !o.json {
        println!(
            "{:<10} {:>5} {:>6} {:>7} {:>10} {:>9}",
            "impl", "batch", "tokens", "threads", "median ms", "peak MiB"
        );
    }
    for &(batch, tokens) in &o.configs {
        let mut rng = TorchRng::manual_seed(123);
        let mha = MultiHeadAttention::new(D_MODEL, D_MODEL, tokens, 0.0, HEADS, false, &mut rng)
            .expect("GPT-2 sizes are valid");
        let x: Vec<DMatrix<f32>> = (0..batch).map(|_| rng.rand(tokens, D_MODEL)).collect();
        for name in &o.impls {
            // The textbook module is the book's, on the calling thread: one row, threads 1.
            let threads = if name == "textbook" {
                &[1][..]
            } else {
                &o.threads
            };
            let rows: Vec<(usize, (f64, f64))> = threads
                .iter()
                .map(|&t| {
                    let time = match name.as_str() {
                        "textbook" => measure(o.runs, || mha.forward(&x).expect("valid input")),
                        "efficient" => {
                            let eff = EfficientMha::from_textbook(&mha)
                                .with_threads(t)
                                .and_then(|e| e.with_block_size(o.block))
                                .expect("threads and block size are positive");
                            measure(o.runs, || eff.forward(&x).expect("valid input"))
                        }
                        other => {
                            eprintln!("unknown impl {other}");
                            std::process::exit(2);
                        }
                    };
                    (t, time)
                })
                .collect();
            for (threads, (median_ms, peak_mib)) in rows {
                if o.json {
                    println!(
                        "{{\"impl\": \"{name}\", \"batch\": {batch}, \"tokens\": {tokens}, \
                         \"d_model\": {D_MODEL}, \"heads\": {HEADS}, \"threads\": {threads}, \
                         \"median_ms\": {median_ms:.3}, \"peak_mib\": {peak_mib:.1}}}"
                    );
                } else {
                    println!(
                        "{name:<10} {batch:>5} {tokens:>6} {threads:>7} {median_ms:>10.2} {peak_mib:>9.1}"
                    );
                }
            }
        }
    }
}
