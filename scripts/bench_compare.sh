#!/usr/bin/env bash
# Runs this crate's benchmark (examples/bench_mha.rs) and its PyTorch counterpart
# (scripts/bench_torch.py) on the same configurations, then prints one table: median time and
# peak memory of each, and the ratio ours / PyTorch (below 1.00: we are faster).
#
#   scripts/bench_compare.sh                      # all configurations, 1 and 2 threads
#   scripts/bench_compare.sh --quick              # batch 1 × 1024 tokens only
#   scripts/bench_compare.sh --threads 1 --runs 11 --configs 1x4096
#
# The options (--quick, --threads, --configs, --runs) are passed to both benchmarks.
# PyTorch: uses `python3` if it can `import torch`; otherwise creates a virtualenv with the CPU
# build of PyTorch under ${XDG_CACHE_HOME:-~/.cache}/ch03-attention/ (once; set PYTHON to use
# another interpreter). Memory: ours is the heap peak of a forward pass (counting allocator);
# PyTorch's is the growth of the process's peak resident set size, an upper bound that includes
# one-time library buffers. They are not the same measurement: compare within a column.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/ch03-attention/torch-venv"
  if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    echo "creating $venv with PyTorch (CPU build), once..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu \
      || "$venv/bin/pip" install --quiet torch
  fi
  PYTHON="$venv/bin/python"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== ours: cargo run --release --example bench_mha -- --json $*" >&2
cargo run --quiet --release --example bench_mha -- --json "$@" | tee "$out/ours.jsonl" >&2
echo "== PyTorch: scripts/bench_torch.py --json $*" >&2
"$PYTHON" scripts/bench_torch.py --json "$@" | tee "$out/torch.jsonl" >&2

"$PYTHON" - "$out/ours.jsonl" "$out/torch.jsonl" <<'PY'
import json
import sys

rows = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
get = {(r["impl"], r["batch"], r["tokens"], r["threads"]): r for r in rows}
configs = sorted({(r["batch"], r["tokens"]) for r in rows}, key=lambda c: (c[1], c[0]))
threads = sorted({r["threads"] for r in rows})

def cell(r, key, fmt):
    return "—" if r is None or r.get(key) is None else fmt.format(r[key])

def ratio(a, b):
    return "—" if a is None or b is None else f"{a['median_ms'] / b['median_ms']:.2f}"

print()
print("| batch × tokens | threads | textbook ms | torch_chapter ms | ratio | efficient ms | torch_sdpa ms | ratio "
      "| peak MiB: textbook / efficient | peak RSS MiB: chapter / sdpa |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for batch, tokens in configs:
    for t in threads:
        # The textbook path is single-threaded: at t threads it is compared as it is (1 thread).
        text = get.get(("textbook", batch, tokens, 1))
        chap = get.get(("torch_chapter", batch, tokens, t))
        eff = get.get(("efficient", batch, tokens, t))
        sdpa = get.get(("torch_sdpa", batch, tokens, t))
        text_ms = cell(text, "median_ms", "{:.1f}") + ("" if t == 1 or text is None else " (1 thread)")
        print(f"| {batch} × {tokens} | {t} | {text_ms} | {cell(chap, 'median_ms', '{:.1f}')} | {ratio(text, chap)} "
              f"| {cell(eff, 'median_ms', '{:.1f}')} | {cell(sdpa, 'median_ms', '{:.1f}')} | {ratio(eff, sdpa)} "
              f"| {cell(text, 'peak_mib', '{:.1f}')} / {cell(eff, 'peak_mib', '{:.1f}')} "
              f"| {cell(chap, 'peak_mib', '{:.1f}')} / {cell(sdpa, 'peak_mib', '{:.1f}')} |")
PY
