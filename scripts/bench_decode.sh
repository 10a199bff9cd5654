#!/usr/bin/env bash
# The decode table of the kv_cache page: per-token ms of decoding with this crate's KV cache
# (`bench_mha --impl efficient-decode`), of recomputing the whole causal forward pass for each
# new token (`--impl efficient-recompute`), and of PyTorch's KV-cache loop
# (`scripts/bench_torch.py --impl torch_kv_decode`: fused QKV, torch.cat append, SDPA over the
# cache), one thread, GPT-2 small's attention (768, 12 heads), batch 1.
#
#   scripts/bench_decode.sh                         # prompts of 128, 1024 and 4096 tokens
#   scripts/bench_decode.sh --rounds 3 --tokens 1024
#
# The three run one after another for each prompt length, and with --rounds N the whole sequence
# repeats N times (interleaved); the table shows, per cell, the best (lowest) of the rounds, the
# same statistic for every side (on a shared machine another program can only slow a run down).
# Every round is printed to stderr. PYTHON must be an interpreter that can `import torch`
# (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

tokens="128,1024,4096"
rounds=3
runs=7
while [ $# -gt 0 ]; do
  case "$1" in
    --tokens) tokens="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
PYTHON=${PYTHON:-python3}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo bench --quiet --bench bench_mha --no-run
for round in $(seq 1 "$rounds"); do
  for t in ${tokens//,/ }; do
    for impl in efficient-decode efficient-recompute; do
      cargo bench --quiet --bench bench_mha -- --json --configs "1x$t" --threads 1 --impl "$impl" \
        --runs "$runs" | tee -a "$out" >&2
    done
    "$PYTHON" scripts/bench_torch.py --json --configs "1x$t" --threads 1 \
      --impl torch_kv_decode --runs "$runs" | tee -a "$out" >&2
  done
done

python3 - "$out" <<'PY'
import json, sys
best, cache = {}, {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    key = (row["impl"], row["tokens"])
    best[key] = min(best.get(key, float("inf")), row["median_ms"])
    if "kv_cache_mib" in row:
        cache[row["tokens"]] = row["kv_cache_mib"]
print("| prompt tokens | cache ms/token | recompute ms/token | recompute / cache "
      "| PyTorch KV loop ms/token | cache / PyTorch | cache MiB (prompt + 64) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for t in sorted({k[1] for k in best}):
    c = best[("efficient-decode", t)]
    r = best[("efficient-recompute", t)]
    p = best[("torch_kv_decode", t)]
    print(f"| {t} | {c:.3f} | {r:.1f} | {r / c:.0f}× | {p:.3f} | {c / p:.2f} | {cache[t]:.1f} |")
PY
