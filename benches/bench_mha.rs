//! Times the textbook `MultiHeadAttention` and the efficient path (`EfficientMha`) on GPT-2
//! small's attention shape (768 dimensions, 12 heads):
//!
//! ```sh
//! cargo bench --bench bench_mha              # readable table
//! cargo bench --bench bench_mha -- --json    # one JSON object per line
//! cargo bench --bench bench_mha -- --quick   # batch 1 × 1024 tokens only
//! ```
//!
//! Options: `--threads 1,2` (the efficient path's), `--configs 1x1024,8x1024,1x4096` (batch × tokens),
//! `--impl textbook,efficient`, `--runs 9` (at least 7), `--block 64` (efficient block size),
//! `--simd best` (the efficient path's instruction-set level: `best`, `all` for every level the CPU
//! has, or names such as `AVX-512,AVX2+FMA,portable`).
//!
//! Decoding (batch 1; a batch above 1 is skipped): `--impl efficient-decode` prefills an
//! `EfficientDecoder`'s cache with `tokens` tokens, then decodes 64 tokens one at a time;
//! `median_ms` is the median over the runs of the mean ms per decoded token (the prefill is not
//! timed), `kv_cache_mib` the cache's preallocated size and `peak_mib` the heap the 64 steps
//! held beyond it. `--impl efficient-recompute` is the cost per token without a cache: the
//! efficient forward pass over the whole sequence (`tokens + i` tokens) for each of 4 new tokens,
//! the mean per token.
//!
//! Training: `--impl efficient-train` times `EfficientMha::forward_tape` and its `backward`
//! together (the gradients of the input and of every parameter for a fixed upstream gradient,
//! uniform in [-0.5, 0.5)), any batch; `--impl textbook-train` the same with the textbook
//! `gradients::Tape` (one thread). `peak_mib` covers both passes.
//!
//! Each configuration: one warm-up pass, then the median of `--runs` timed passes.
//! `peak_mib` is the largest amount of heap memory the forward pass held at once, beyond what
//! was allocated before it (module, input), counted by the allocator of
//! `tests/support/counting_alloc.rs` (shared with `tests/efficient_alloc.rs`). The efficient path
//! runs at every thread count (`EfficientMha::with_threads`); the textbook path is the book's
//! single-threaded module, run once per configuration and reported with `threads` 1.
//! For the efficient path each row also gives its `simd` level and the fused QKV projection timed
//! alone (`EfficientMha::project_qkv`, median of `--runs`): `qkv_ms`, and `qkv_gflops`, its
//! `2 · batch · tokens · 768 · 2304` floating-point operations per second.
//! `scripts/bench_torch.py` prints the same lines for PyTorch, `scripts/bench_compare.sh` runs
//! both and prints the ratios.

use std::time::Instant;

use ch03_attention::efficient::{EfficientDecoder, SimdLevel};
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
    /// `None`: the widest level the CPU has.
    levels: Vec<Option<SimdLevel>>,
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
        levels: vec![None],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            // `cargo bench` hands a harness-less benchmark `--bench`: nothing to do.
            "--bench" => {}
            "--json" => o.json = true,
            "--quick" => o.configs = vec![(1, 1024)],
            "--threads" => o.threads = parse_list(&value()?, "thread count")?,
            "--impl" => o.impls = parse_list(&value()?, "impl")?,
            "--runs" => o.runs = value()?.parse().map_err(|_| "bad --runs")?,
            "--block" => o.block = value()?.parse().map_err(|_| "bad --block")?,
            "--simd" => o.levels = parse_levels(&value()?)?,
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
                     [--block 64] [--simd best|all|AVX-512,AVX2+FMA,...]"
                    .into());
            }
            other => return Err(format!("unknown option {other} (try --help)")),
        }
    }
    o.runs = o.runs.max(7);
    Ok(o)
}

/// `best` (the widest level the CPU has), `all` (every level it has, widest first), or a list
/// of level names (`AVX-512,AVX2+FMA,portable`; any case).
fn parse_levels(s: &str) -> Result<Vec<Option<SimdLevel>>, String> {
    match s {
        "all" => Ok(SimdLevel::available().into_iter().map(Some).collect()),
        _ => s
            .split(',')
            .map(|name| match name {
                "best" => Ok(None),
                _ => SimdLevel::ALL
                    .into_iter()
                    .find(|l| l.to_string().eq_ignore_ascii_case(name))
                    .map(Some)
                    .ok_or(format!("bad --simd level {name}")),
            })
            .collect(),
    }
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

/// Tokens decoded one at a time after the prefill (`efficient-decode`).
const DECODED: usize = 64;
/// New tokens timed by `efficient-recompute` (each one a whole forward pass).
const RECOMPUTED: usize = 4;

/// Median over `runs` runs (after one warm-up run) of the mean ms per decoded token, and the
/// peak extra heap (MiB) of the timed steps. `setup` (not timed) prepares a run; `step(i)`
/// decodes new token `i`.
fn measure_per_token<S>(
    runs: usize,
    tokens: usize,
    mut setup: impl FnMut() -> S,
    mut step: impl FnMut(&mut S, usize) -> DMatrix<f32>,
) -> (f64, f64) {
    let mut peak = 0;
    let mut times = Vec::with_capacity(runs);
    for run in 0..=runs {
        let mut state = setup();
        let before = counting_alloc::start();
        let start = Instant::now();
        for i in 0..tokens {
            std::hint::black_box(step(&mut state, i));
        }
        let per_token = start.elapsed().as_secs_f64() * 1e3 / tokens as f64;
        peak = peak.max(counting_alloc::since(before).1);
        if run > 0 {
            times.push(per_token);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak as f64 / (1024.0 * 1024.0))
}

/// `efficient-train`: `EfficientMha::forward_tape` then `EfficientTape::backward` (the
/// gradients of the input and of every parameter); `textbook-train`: the same with the textbook
/// `gradients::Tape`. Median ms and peak heap (MiB) of the forward and backward passes together.
fn train(
    runs: usize,
    name: &str,
    mha: &MultiHeadAttention,
    eff: &EfficientMha,
    x: &[DMatrix<f32>],
    d_output: &[DMatrix<f32>],
) -> (f64, f64) {
    use ch03_attention::gradients::Tape;
    measure(runs, || match name {
        "efficient-train" => {
            let tape = eff.forward_tape(x).expect("valid input");
            tape.backward(d_output).expect("valid gradient").x
        }
        _ => {
            let tape = Tape::multi_head(mha, x, None).expect("valid input");
            tape.backward(d_output).expect("valid gradient").x
        }
    })
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
            "{:<10} {:>9} {:>5} {:>6} {:>7} {:>10} {:>9} {:>9}",
            "impl", "simd", "batch", "tokens", "threads", "median ms", "peak MiB", "QKV GF/s"
        );
    }
    for &(batch, tokens) in &o.configs {
        let mut rng = TorchRng::manual_seed(123);
        // Room for the decoded tokens after the prompt.
        let context_length = tokens + DECODED;
        let mha = MultiHeadAttention::new(
            D_MODEL,
            D_MODEL,
            context_length,
            0.0,
            HEADS,
            false,
            &mut rng,
        )
        .expect("GPT-2 sizes are valid");
        let x: Vec<DMatrix<f32>> = (0..batch).map(|_| rng.rand(tokens, D_MODEL)).collect();
        let new_tokens = rng.rand(DECODED, D_MODEL); // the decoded tokens' inputs
        // The upstream gradient of `efficient-train` and `textbook-train`.
        let d_output: Vec<DMatrix<f32>> = (0..batch)
            .map(|_| rng.uniform(tokens, D_MODEL, -0.5, 0.5))
            .collect();
        let mut cache_mib = None;
        for name in &o.impls {
            // The textbook module is the book's, on the calling thread: one row, threads 1.
            if name.starts_with("efficient-") && name != "efficient-train" && batch != 1 {
                eprintln!("{name}: one sequence at a time; skipping batch {batch}");
                continue;
            }
            let runs: Vec<(usize, Option<SimdLevel>)> = match name.as_str() {
                "textbook" | "textbook-train" => vec![(1, None)],
                "efficient" | "efficient-decode" | "efficient-recompute" | "efficient-train" => o
                    .levels
                    .iter()
                    .flat_map(|&level| o.threads.iter().map(move |&t| (t, level)))
                    .collect(),
                other => {
                    eprintln!("unknown impl {other}");
                    std::process::exit(2);
                }
            };
            for (threads, level) in runs {
                let efficient = || {
                    EfficientMha::from_textbook(&mha)
                        .with_threads(threads)
                        .and_then(|e| e.with_block_size(o.block))
                        .and_then(|e| match level {
                            Some(level) => e.with_simd_level(level),
                            None => Ok(e),
                        })
                        .unwrap_or_else(|e| {
                            eprintln!("{e}");
                            std::process::exit(2);
                        })
                };
                let (median_ms, peak_mib, simd, projection) = match name.as_str() {
                    "textbook" => {
                        let (ms, mib) = measure(o.runs, || mha.forward(&x).expect("valid input"));
                        (ms, mib, None, None)
                    }
                    "efficient" => {
                        let eff = efficient();
                        let (ms, mib) = measure(o.runs, || eff.forward(&x).expect("valid input"));
                        // The fused QKV projection alone: 2 · T · d_in · 3·d_out per item.
                        let (qkv_ms, _) =
                            measure(o.runs, || eff.project_qkv(&x).expect("valid input"));
                        let flops = 2.0 * (batch * tokens * D_MODEL * 3 * D_MODEL) as f64;
                        let gflops = flops / (qkv_ms * 1e-3) / 1e9;
                        (ms, mib, Some(eff.simd_level()), Some((qkv_ms, gflops)))
                    }
                    "efficient-train" | "textbook-train" => {
                        let eff = efficient();
                        let (ms, mib) = train(o.runs, name, &mha, &eff, &x, &d_output);
                        let simd = (name == "efficient-train").then(|| eff.simd_level());
                        (ms, mib, simd, None)
                    }
                    "efficient-decode" => {
                        let eff = efficient();
                        let mut prefilled = EfficientDecoder::new(&eff).expect("fits in memory");
                        prefilled.prefill(&x[0]).expect("valid input");
                        cache_mib = Some(prefilled.cache_bytes() as f64 / (1024.0 * 1024.0));
                        let token = |i: usize| new_tokens.rows(i, 1).into_owned();
                        let tokens_in: Vec<DMatrix<f32>> = (0..DECODED).map(token).collect();
                        let (ms, mib) = measure_per_token(
                            o.runs,
                            DECODED,
                            || prefilled.clone(), // the prompt cached, not timed
                            |decoder, i| decoder.step(&tokens_in[i]).expect("room in the cache"),
                        );
                        (ms, mib, Some(eff.simd_level()), None)
                    }
                    "efficient-recompute" => {
                        let eff = efficient();
                        // The sequence after each new token: the prompt and the new tokens.
                        let mut whole = DMatrix::zeros(tokens + RECOMPUTED, D_MODEL);
                        whole.rows_mut(0, tokens).copy_from(&x[0]);
                        whole
                            .rows_mut(tokens, RECOMPUTED)
                            .copy_from(&new_tokens.rows(0, RECOMPUTED));
                        let prefixes: Vec<DMatrix<f32>> = (1..=RECOMPUTED)
                            .map(|i| whole.rows(0, tokens + i).into_owned())
                            .collect();
                        let (ms, mib) = measure_per_token(
                            o.runs,
                            RECOMPUTED,
                            || (),
                            |(), i| {
                                let out = eff
                                    .forward(std::slice::from_ref(&prefixes[i]))
                                    .expect("valid input");
                                out[0].rows(tokens + i, 1).into_owned() // the new row
                            },
                        );
                        (ms, mib, Some(eff.simd_level()), None)
                    }
                    _ => unreachable!("the impl names were checked above"),
                };
                let cache = match (name.as_str(), cache_mib) {
                    ("efficient-decode", Some(mib)) => format!(", \"kv_cache_mib\": {mib:.1}"),
                    _ => String::new(),
                };
                if o.json {
                    let simd = simd.map_or("null".into(), |l| format!("\"{l}\""));
                    let (qkv_ms, gflops) = projection
                        .map_or(("null".into(), "null".into()), |(m, g)| {
                            (format!("{m:.3}"), format!("{g:.1}"))
                        });
                    println!(
                        "{{\"impl\": \"{name}\", \"batch\": {batch}, \"tokens\": {tokens}, \
                         \"d_model\": {D_MODEL}, \"heads\": {HEADS}, \"threads\": {threads}, \
                         \"median_ms\": {median_ms:.3}, \"peak_mib\": {peak_mib:.1}, \
                         \"simd\": {simd}, \"qkv_ms\": {qkv_ms}, \"qkv_gflops\": {gflops}{cache}}}"
                    );
                } else {
                    let simd = simd.map_or("—".into(), |l| l.to_string());
                    let gflops = projection.map_or("—".into(), |(_, g)| format!("{g:.1}"));
                    println!(
                        "{name:<10} {simd:>9} {batch:>5} {tokens:>6} {threads:>7} {median_ms:>10.3} \
                         {peak_mib:>9.1} {gflops:>9}"
                    );
                }
            }
        }
    }
}
