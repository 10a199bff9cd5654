#!/usr/bin/env bash
# Runs this crate's benchmark (benches/bench_mha.rs) and its PyTorch counterpart
# (scripts/bench_torch.py) on the same configurations, then prints two tables: the efficient path
# at every SIMD level this CPU has (forced, widest first) against PyTorch's
# scaled_dot_product_attention, with the speed of its fused QKV projection beside torch.mm's on
# the same shape; and the textbook path against PyTorch's module of the chapter, with peak memory.
# Ratios are ours / PyTorch (below 1.00: we are faster).
#
#   scripts/bench_compare.sh                      # batch 1 × 1024, 8 × 1024, 1 × 4096; 1 and 2 threads
#   scripts/bench_compare.sh --quick              # batch 1 × 1024 tokens only
#   scripts/bench_compare.sh --rounds 3           # three interleaved rounds, best of the rounds
#   scripts/bench_compare.sh --threads 1 --runs 11 --configs 1x4096
#   scripts/bench_compare.sh --simd best          # the widest level only (default: all)
#
# The textbook module is the book's, single-threaded: bench_mha reports it once per configuration
# (threads 1), and the table shows that time on every thread row, against PyTorch's module at
# that row's thread count. Each benchmark reports the median of --runs timed passes after a
# warm-up. The two are run configuration by configuration, one right after the other, so both see the same machine
# conditions; with --rounds N the whole sequence repeats N times and the table shows, per line,
# the best (lowest) of the rounds. On a shared machine another program can only slow a run
# down, never speed it up, so the least disturbed round is the best estimate of each side's
# cost; the same statistic is applied to both sides. Every round is printed to stderr.
#
# PyTorch: uses `python3` if it can `import torch`; otherwise creates a virtualenv with PyTorch
# from PyPI under ${XDG_CACHE_HOME:-~/.cache}/ch03-attention/ (once; set PYTHON to use
# another interpreter). Memory: ours is the heap peak of a forward pass (counting allocator);
# PyTorch's is the growth of the process's peak resident set size, an upper bound that includes
# one-time library buffers. They are not the same measurement: compare within a column.
set -euo pipefail
cd "$(dirname "$0")/.."

configs="1x1024,8x1024,1x4096"
threads="1,2"
runs=9
rounds=1
simd=all
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) configs="1x1024" ;;
    --configs) configs="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --simd) simd="$2"; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/ch03-attention/torch-venv"
  if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "creating $venv with PyTorch (CPU build), once..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet torch
  fi
  PYTHON="$venv/bin/python"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo bench --quiet --bench bench_mha --no-run
for round in $(seq 1 "$rounds"); do
  for config in ${configs//,/ }; do
    echo "== round $round, $config: ours, then PyTorch" >&2
    cargo bench --quiet --bench bench_mha -- --json --configs "$config" --threads "$threads" --runs "$runs" --simd "$simd" \
      | tee -a "$out/all.jsonl" >&2
    "$PYTHON" scripts/bench_torch.py --json --configs "$config" --threads "$threads" --runs "$runs" \
      | tee -a "$out/all.jsonl" >&2
  done
done

"$PYTHON" - "$out/all.jsonl" <<'PY'
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by_key = {}
for r in rows:
    by_key.setdefault((r["impl"], r["batch"], r["tokens"], r["threads"], r.get("simd")), []).append(r)

def best_of(key, field, best=min):
    values = [r[field] for r in by_key.get(key, []) if r.get(field) is not None]
    return best(values) if values else None

configs = sorted({(r["batch"], r["tokens"]) for r in rows}, key=lambda c: (c[1], c[0]))
threads = sorted({r["threads"] for r in rows})
rounds = max(len(v) for v in by_key.values())
order = ["AVX-512", "AVX2+FMA", "AVX+FMA", "AVX", "portable"]
levels = sorted({r["simd"] for r in rows if r["impl"] == "efficient"}, key=order.index)
capability = sorted({r["cpu_capability"] for r in rows if r.get("cpu_capability")})

def fmt(value, spec):
    return "—" if value is None else format(value, spec)

def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}"

print()
print(f"best of {rounds} round(s) of each benchmark's median time (lower = faster); "
      f"GF/s from the best round (higher = faster); PyTorch's CPU capability: {', '.join(capability)}")
print()
print("| batch × tokens | threads | SIMD level | efficient ms | torch_sdpa ms | ratio "
      "| QKV GF/s | torch.mm GF/s | % of torch.mm |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for batch, tokens in configs:
    for t in threads:
        sdpa = best_of(("torch_sdpa", batch, tokens, t, None), "median_ms")
        mm = best_of(("torch_mm", batch, tokens, t, None), "gflops", max)
        for level in levels:
            eff = ("efficient", batch, tokens, t, level)
            ms = best_of(eff, "median_ms")
            gf = best_of(eff, "qkv_gflops", max)
            share = "—" if gf is None or mm is None else f"{100 * gf / mm:.0f} %"
            print(f"| {batch} × {tokens} | {t} | {level} | {fmt(ms, '.1f')} | {fmt(sdpa, '.1f')} "
                  f"| {ratio(ms, sdpa)} | {fmt(gf, '.1f')} | {fmt(mm, '.1f')} | {share} |")

print()
print("| batch × tokens | threads | textbook ms (1 thread) | torch_chapter ms | ratio "
      "| peak MiB: textbook / efficient | peak RSS MiB: chapter / sdpa |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for batch, tokens in configs:
    for t in threads:
        text = ("textbook", batch, tokens, 1, None)  # the book's module runs on one thread
        chap = ("torch_chapter", batch, tokens, t, None)
        sdpa = ("torch_sdpa", batch, tokens, t, None)
        effs = [("efficient", batch, tokens, t, level) for level in levels[:1]]
        ms = {k: best_of(k, "median_ms") for k in (text, chap)}
        mib = {k: best_of(k, "peak_mib") for k in [text, chap, sdpa] + effs}
        eff_mib = mib[effs[0]] if effs else None
        print(f"| {batch} × {tokens} | {t} | {fmt(ms[text], '.1f')} | {fmt(ms[chap], '.1f')} "
              f"| {ratio(ms[text], ms[chap])} | {fmt(mib[text], '.1f')} / {fmt(eff_mib, '.1f')} "
              f"| {fmt(mib[chap], '.1f')} / {fmt(mib[sdpa], '.1f')} |")
PY
