#!/usr/bin/env python3
"""PyTorch counterpart of `cargo bench --bench bench_mha`.

Optional tool (cargo test never runs it). Times two PyTorch modules on the GPT-2-small attention
shape (d_model 768, 12 heads) under torch.no_grad():

  torch_chapter  the chapter's MultiHeadAttention (section 3.6.2): W_query / W_key / W_value
                 Linear layers, view + transpose into heads, queries @ keys^T, masked_fill_ with
                 -inf, softmax, dropout (identity in eval mode), weights @ values, out_proj.
  torch_sdpa     the same parameters with one fused QKV Linear and
                 torch.nn.functional.scaled_dot_product_attention(is_causal=True), PyTorch's
                 own efficient causal attention (the counterpart of this crate's `efficient`).
  torch_mm       torch.mm alone on the fused QKV projection's shape, (batch·tokens × 768) @
                 (768 × 2304): the machine's matrix-product speed as PyTorch reaches it, the
                 yardstick of this crate's projections. Its row adds `gflops`
                 (2·batch·tokens·768·2304 floating-point operations / median time).
  torch_kv_decode  the KV-cache loop, the counterpart of `--impl efficient-decode` (batch 1):
                 the same fused-QKV module with a cache appended by torch.cat (as the book's
                 repository's KV-cache bonus code does), the prompt of `tokens` tokens prefilled
                 (not timed), then 64 tokens decoded one at a time, each a fused QKV projection,
                 torch.cat of its key and value onto the cache, scaled_dot_product_attention of
                 its one query over the cache, and out_proj. `median_ms` is the median over the
                 runs of the mean ms per decoded token; `peak_mib` is measured as for the others.
  torch_sdpa_train  forward + backward of torch_sdpa, the counterpart of `--impl efficient-train`:
                 the input requires grad, `module(x).backward(G)` with a fixed G (uniform in
                 [-0.5, 0.5)), gradients of the input and of every parameter; the gradients are
                 reset to None before each pass. Not under torch.no_grad().

Usage:
  bench_torch.py [--json] [--quick] [--threads 1,2] [--configs 1x1024,8x1024,1x4096] [--runs 9]
                 [--impl torch_chapter,torch_sdpa,torch_mm]

Every (impl, batch, tokens, threads) configuration runs in a fresh child process, so its memory
figure is its own: `peak_mib` is the growth of the process's peak resident set size
(`resource.getrusage(...).ru_maxrss`) across the warm-up and timed forward passes, measured
after the module and the input exist. It is an upper bound on what the forward pass needs (it
includes one-time buffers that MKL/OpenMP allocate on first use) and it is not the same quantity
as the Rust benchmark's heap peak; it is printed as null when it could not be measured.
Timings are the median of `--runs` (at least 7) passes after 2 warm-up passes, with
torch.set_num_threads set to the configuration's thread count.
"""
import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

D_MODEL = 768
HEADS = 12
CONFIGS = [(1, 1024), (8, 1024), (1, 4096)]  # (batch, tokens)
DECODED = 64  # tokens decoded one at a time by torch_kv_decode


def build_modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ChapterMultiHeadAttention(nn.Module):
        """Section 3.6.2's class, written from the chapter's description."""

        def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
            super().__init__()
            assert d_out % num_heads == 0, "d_out must be divisible by num_heads"
            self.d_out = d_out
            self.num_heads = num_heads
            self.head_dim = d_out // num_heads
            self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.out_proj = nn.Linear(d_out, d_out)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer(
                "mask", torch.triu(torch.ones(context_length, context_length), diagonal=1)
            )

        def forward(self, x):
            b, num_tokens, _ = x.shape
            split = (b, num_tokens, self.num_heads, self.head_dim)
            keys = self.W_key(x).view(split).transpose(1, 2)  # (b, heads, T, head_dim)
            queries = self.W_query(x).view(split).transpose(1, 2)
            values = self.W_value(x).view(split).transpose(1, 2)
            attn_scores = queries @ keys.transpose(2, 3)  # (b, heads, T, T)
            mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
            attn_scores.masked_fill_(mask_bool, -torch.inf)
            attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
            attn_weights = self.dropout(attn_weights)
            context_vecs = (attn_weights @ values).transpose(1, 2)  # (b, T, heads, head_dim)
            context_vecs = context_vecs.contiguous().view(b, num_tokens, self.d_out)
            return self.out_proj(context_vecs)

    class SdpaMultiHeadAttention(nn.Module):
        """Fused QKV projection + PyTorch's scaled_dot_product_attention with is_causal=True."""

        def __init__(self, d_in, d_out, num_heads, qkv_bias=False):
            super().__init__()
            assert d_out % num_heads == 0, "d_out must be divisible by num_heads"
            self.d_out = d_out
            self.num_heads = num_heads
            self.head_dim = d_out // num_heads
            self.qkv = nn.Linear(d_in, 3 * d_out, bias=qkv_bias)
            self.out_proj = nn.Linear(d_out, d_out)

        def forward(self, x):
            b, num_tokens, _ = x.shape
            qkv = self.qkv(x).view(b, num_tokens, 3, self.num_heads, self.head_dim)
            queries, keys, values = qkv.permute(2, 0, 3, 1, 4)  # each (b, heads, T, head_dim)
            context_vecs = F.scaled_dot_product_attention(
                queries, keys, values, attn_mask=None, dropout_p=0.0, is_causal=True
            )
            context_vecs = context_vecs.transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
            return self.out_proj(context_vecs)

    class MatMul(nn.Module):
        """torch.mm of the input, flattened to (batch·tokens × 768), and a (768 × 2304) matrix."""

        def __init__(self, d_in, d_out):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(d_in, d_out))

        def forward(self, x):
            return torch.mm(x.reshape(-1, x.shape[-1]), self.weight)

    class KvCacheMultiHeadAttention(SdpaMultiHeadAttention):
        """SdpaMultiHeadAttention with a KV cache appended by torch.cat."""

        def __init__(self, d_in, d_out, num_heads, qkv_bias=False):
            super().__init__(d_in, d_out, num_heads, qkv_bias)
            self.reset_cache()

        def reset_cache(self):
            self.cache_k, self.cache_v = None, None

        def forward(self, x):
            b, num_tokens, _ = x.shape
            qkv = self.qkv(x).view(b, num_tokens, 3, self.num_heads, self.head_dim)
            queries, keys, values = qkv.permute(2, 0, 3, 1, 4)  # each (b, heads, new, head_dim)
            if self.cache_k is None:
                self.cache_k, self.cache_v = keys, values
            else:
                self.cache_k = torch.cat([self.cache_k, keys], dim=2)
                self.cache_v = torch.cat([self.cache_v, values], dim=2)
            # A prompt on an empty cache is causal; one new token sees every cached key.
            context_vecs = F.scaled_dot_product_attention(
                queries, self.cache_k, self.cache_v, dropout_p=0.0, is_causal=num_tokens > 1
            )
            context_vecs = context_vecs.transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
            return self.out_proj(context_vecs)

    return {
        "torch_kv_decode": lambda tokens: KvCacheMultiHeadAttention(D_MODEL, D_MODEL, HEADS),
        "torch_chapter": lambda tokens: ChapterMultiHeadAttention(D_MODEL, D_MODEL, tokens, 0.0, HEADS),
        "torch_sdpa": lambda tokens: SdpaMultiHeadAttention(D_MODEL, D_MODEL, HEADS),
        "torch_sdpa_train": lambda tokens: SdpaMultiHeadAttention(D_MODEL, D_MODEL, HEADS),
        "torch_mm": lambda tokens: MatMul(D_MODEL, 3 * D_MODEL),
    }


def run_one(impl, batch, tokens, threads, runs):
    """Times one configuration in this process and returns its result row."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(123)
    module = build_modules()[impl](tokens).eval()
    x = torch.rand(batch, tokens, D_MODEL)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    if impl == "torch_kv_decode":
        new_tokens = torch.rand(batch, DECODED, D_MODEL)
        with torch.no_grad():
            for i in range(2 + runs):
                module.reset_cache()
                module(x)  # the prompt, not timed
                start = time.perf_counter()
                for t in range(DECODED):
                    out = module(new_tokens[:, t : t + 1])
                elapsed = time.perf_counter() - start
                del out
                if i >= 2:
                    times.append(elapsed * 1e3 / DECODED)
    if impl == "torch_sdpa_train":
        # Forward + backward: the gradients of the input and of every parameter, as
        # `--impl efficient-train` computes them (eval mode: dropout_p is 0 either way).
        x.requires_grad_(True)
        d_out = torch.rand(batch, tokens, D_MODEL) - 0.5
        for i in range(2 + runs):
            x.grad = None
            for p in module.parameters():
                p.grad = None
            start = time.perf_counter()
            module(x).backward(d_out)
            elapsed = time.perf_counter() - start
            if i >= 2:
                times.append(elapsed * 1e3)
    with torch.no_grad():
        for i in range(0 if impl in ("torch_kv_decode", "torch_sdpa_train") else 2 + runs):
            start = time.perf_counter()
            out = module(x)
            elapsed = time.perf_counter() - start
            del out
            if i >= 2:
                times.append(elapsed * 1e3)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = (peak_kib - base_kib) / 1024 if peak_kib >= base_kib > 0 else None
    median_ms = statistics.median(times)
    row = {
        "impl": impl,
        "batch": batch,
        "tokens": tokens,
        "d_model": D_MODEL,
        "heads": HEADS,
        "threads": threads,
        "median_ms": round(median_ms, 3),
        "peak_mib": None if peak_mib is None else round(peak_mib, 1),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    if impl == "torch_mm":
        row["gflops"] = round(2 * batch * tokens * D_MODEL * 3 * D_MODEL / (median_ms * 1e-3) / 1e9, 1)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--quick", action="store_true", help="only batch 1 x 1024 tokens")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--runs", type=int, default=9, help="timed runs per configuration (>= 7)")
    p.add_argument("--impl", default="torch_chapter,torch_sdpa,torch_mm", help="comma-separated impls")
    p.add_argument("--configs", help="comma-separated BATCHxTOKENS (default 1x1024,8x1024,1x4096)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: impl,batch,tokens,threads
    args = p.parse_args()
    runs = max(args.runs, 7)

    if args.one:
        impl, batch, tokens, threads = args.one.split(",")
        print(json.dumps(run_one(impl, int(batch), int(tokens), int(threads), runs)))
        return

    configs = CONFIGS[:1] if args.quick else CONFIGS
    if args.configs:
        configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    impls = args.impl.split(",")
    if not args.json:
        print(f"{'impl':<14} {'batch':>5} {'tokens':>6} {'threads':>7} {'median ms':>10} {'peak RSS MiB':>12}")
    for batch, tokens in configs:
        for impl in impls:
            for t in threads:
                child = subprocess.run(
                    [sys.executable, __file__, "--one", f"{impl},{batch},{tokens},{t}", "--runs", str(runs)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                row = json.loads(child.stdout.strip().splitlines()[-1])
                if args.json:
                    print(json.dumps(row), flush=True)
                else:
                    peak = "n/a" if row["peak_mib"] is None else f"{row['peak_mib']:.1f}"
                    print(
                        f"{impl:<14} {batch:>5} {tokens:>6} {t:>7} {row['median_ms']:>10.2f} {peak:>12}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
