//! How fast does `TorchRng` draw, next to PyTorch?
//!
//! ```sh
//! cargo bench --bench bench_rng
//! python scripts/bench_torch_rng.py      # the same measurements in PyTorch
//! ```
//!
//! Each line: the median time of one call over several repetitions, and the 32-bit draws per
//! second that makes. `torch.rand(1_800_000)` and `nn.Linear(768, 2304)` (GPT-2's fused QKV
//! layer: 1 769 472 weight draws plus 2 304 bias draws) are what `scripts/bench_torch_rng.py`
//! times on the PyTorch side.
//!
//! The fused kernel calls `f32::mul_add`. Without the `fma` target feature (the default for
//! x86-64 builds) that is a call into the C library's `fmaf`, which costs more than the draw
//! itself; `RUSTFLAGS="-C target-feature=+fma"` turns it into one instruction and brings
//! `Linear::new` to the speed of `rand`. The bits are the same either way.
//!
//! It takes no options (the `--bench` that `cargo bench` passes is ignored).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ch03_attention::{Linear, TorchRng, UniformKernel};

const REPEATS: usize = 31;

/// Median wall time of `REPEATS` calls of `f` (after one warm-up call).
fn median_time(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[REPEATS / 2]
}

fn report(name: &str, draws: usize, time: Duration) {
    let per_second = draws as f64 / time.as_secs_f64();
    println!(
        "{name:<36} {:>8.3} ms   {:>7.1} M draws/s",
        time.as_secs_f64() * 1e3,
        per_second / 1e6
    );
}

fn main() {
    let mut g = TorchRng::manual_seed(123);
    let n = 1_800_000;
    report(
        "rand(1, 1_800_000)",
        n,
        median_time(|| {
            black_box(g.rand(1, n));
        }),
    );
    report(
        "rand(1200, 1500)",
        n,
        median_time(|| {
            black_box(g.rand(1200, 1500));
        }),
    );
    report(
        "uniform(1, 1_800_000, -0.5, 0.5) fused",
        n,
        median_time(|| {
            black_box(g.uniform(1, n, -0.5, 0.5));
        }),
    );
    let mut u = TorchRng::manual_seed(123).with_kernel(UniformKernel::Unfused);
    report(
        "uniform(1, 1_800_000, -0.5, 0.5) unfused",
        n,
        median_time(|| {
            black_box(u.uniform(1, n, -0.5, 0.5));
        }),
    );
    report(
        "Linear::new(768, 2304, bias)",
        768 * 2304 + 2304,
        median_time(|| {
            black_box(Linear::new(768, 2304, true, &mut g));
        }),
    );
    report(
        "next_u32 x 1_800_000",
        n,
        median_time(|| {
            let mut acc = 0u32;
            for _ in 0..n {
                acc ^= g.next_u32();
            }
            black_box(acc);
        }),
    );
}
