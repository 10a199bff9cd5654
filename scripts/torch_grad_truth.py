#!/usr/bin/env python3
"""Ground truth for the backward passes: PyTorch autograd's gradients of the chapter's modules.

Optional tool (cargo test never runs it). Writes tests/data/torch_grads.json, read by
tests/gradients.rs. The modules are scripts/chapter_modules.py's, built the book's way.

Protocol for every case (the Rust test replays it with TorchRng):
  torch.manual_seed(seed)
  module = <class>(...)                       # draws its parameters
  x = book inputs stacked `batch` times, or torch.rand(batch, tokens, d_in) drawn next
      (SelfAttentionV2 takes one (tokens, d_in) matrix: batch is 1 and x is 2-D)
  module.eval() or module.train()             # "mode"
  out = module(x)                             # training mode: the dropout mask is drawn here
  out.backward(d_out)                         # d_out: a fixed formula, stored with the case
and records x.grad, every weight's and bias's .grad, and the output, as float32 bit patterns
(hex, row-major). Weights are PyTorch's (out, in) layout. A layer is named by its path in the
module (`W_query`, or `heads.1.W_query` in MultiHeadAttentionWrapper, whose `d_out` is each
head's width, so its output is `d_out · num_heads` wide).

Usage: torch_grad_truth.py [--only KIND]. With `--only KIND` (v2, causal, mha, wrapper) only the
cases of that kind are recorded again; every other case in the committed file is kept as it is.
The MultiHeadAttentionWrapper cases were added that way, with the same torch version and CPU
capability (2.15.0+cu132, AVX512) on another machine, whose float32 sums round differently from
the machine that recorded the others (its inputs, dropout masks and upstream gradients are the
same bit for bit).

The upstream gradient d_out[i] = cos(0.7 i + 0.3), i the row-major index, rounded to float32:
deterministic, of both signs, of order 1, and different for every output.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402
from chapter_modules import (CausalAttention, MultiHeadAttention,  # noqa: E402
                             MultiHeadAttentionWrapper, SelfAttentionV2)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch_grads.json")

ONLY = "--only"  # `--only wrapper`: re-record the cases of one kind, keep the others

INPUTS = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
                       [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])


def bits(t):
    t = t.detach().to(torch.float32).contiguous().reshape(-1)
    return [format(int(v) & 0xFFFFFFFF, "08x") for v in t.view(torch.int32).tolist()]


def upstream(shape):
    n = math.prod(shape)
    values = [math.cos(0.7 * i + 0.3) for i in range(n)]
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def run(kind, seed, mode, batch, tokens, d_in, d_out, inputs="rand", qkv_bias=False,
        context_length=None, dropout=0.0, num_heads=1):
    torch.manual_seed(seed)
    if kind == "v2":
        m = SelfAttentionV2(d_in, d_out, qkv_bias)
    elif kind == "causal":
        m = CausalAttention(d_in, d_out, context_length, dropout, qkv_bias)
    elif kind == "wrapper":
        m = MultiHeadAttentionWrapper(d_in, d_out, context_length, dropout, num_heads, qkv_bias)
    else:
        m = MultiHeadAttention(d_in, d_out, context_length, dropout, num_heads, qkv_bias)
    if inputs == "book":
        assert (tokens, d_in) == (6, 3)
        x = torch.stack([INPUTS] * batch)
    else:
        x = torch.rand(batch, tokens, d_in)
    if kind == "v2":
        assert batch == 1
        x = x[0]
    x = x.clone().requires_grad_(True)
    m.train() if mode == "train" else m.eval()
    out = m(x)
    g = upstream(tuple(out.shape))
    out.backward(g)
    case = {"kind": kind, "seed": seed, "mode": mode, "batch": batch, "tokens": tokens, "d_in": d_in,
            "d_out": d_out, "inputs": inputs, "qkv_bias": qkv_bias, "num_heads": num_heads,
            "dropout": dropout, "context_length": context_length or tokens,
            "x": bits(x), "d_output": bits(g), "output": bits(out), "grad_x": bits(x.grad)}
    layers = ["W_query", "W_key", "W_value"] + (["out_proj"] if kind == "mha" else [])
    if kind == "wrapper":
        layers = [f"heads.{h}.{name}" for h in range(num_heads) for name in layers]
    for name in layers:
        layer = m.get_submodule(name)
        case[f"grad_{name}_weight"] = bits(layer.weight.grad)
        if layer.bias is not None:
            case[f"grad_{name}_bias"] = bits(layer.bias.grad)
    return case


def main():
    cases = []
    # SelfAttentionV2: one (tokens, d_in) input, evaluation only (it has no dropout).
    cases.append(run("v2", 789, "eval", 1, 6, 3, 2, inputs="book"))
    for seed, (d_in, d_out, tokens) in zip([101, 102, 103], [(5, 4, 7), (8, 8, 3), (16, 6, 11)]):
        for bias in (False, True):
            cases.append(run("v2", seed, "eval", 1, tokens, d_in, d_out, qkv_bias=bias))
    # CausalAttention: batches of 1 to 3, with and without bias, eval and train. Seed 123 on the
    # book's inputs is section 3.5.3's module (its dropout rate only matters in training mode).
    for seed, batch, d_in, d_out, tokens, ctx, p, bias, inputs in [
        (123, 2, 3, 2, 6, 6, 0.5, False, "book"), (8, 1, 5, 4, 7, 9, 0.1, True, "rand"),
        (9, 3, 8, 3, 4, 10, 0.3, False, "rand"), (10, 2, 6, 6, 12, 12, 0.2, True, "rand"),
    ]:
        for mode in ("eval", "train"):
            cases.append(run("causal", seed, mode, batch, tokens, d_in, d_out, inputs=inputs,
                             qkv_bias=bias, context_length=ctx, dropout=p))
    # MultiHeadAttention: 1 to 4 heads, batches of 1 to 3, with and without bias, eval and train.
    # Seed 123 on the book's inputs is section 3.6.2's module.
    for seed, batch, d_in, d_out, tokens, ctx, p, heads, bias, inputs in [
        (123, 2, 3, 2, 6, 6, 0.5, 2, False, "book"), (21, 1, 5, 6, 7, 8, 0.1, 3, True, "rand"),
        (22, 2, 8, 8, 9, 9, 0.25, 4, False, "rand"), (23, 3, 4, 12, 5, 16, 0.0, 1, True, "rand"),
        (24, 2, 4, 4, 6, 6, 0.5, 2, True, "rand"), (25, 1, 6, 12, 10, 10, 0.2, 4, True, "rand"),
    ]:
        for mode in ("eval", "train"):
            cases.append(run("mha", seed, mode, batch, tokens, d_in, d_out, inputs=inputs,
                             qkv_bias=bias, context_length=ctx, dropout=p, num_heads=heads))
    # MultiHeadAttentionWrapper (3.6.1): 1 to 3 heads (d_out is each head's width), batches of 1
    # to 3, with and without bias, eval and train. Seed 123 on the book's inputs is section
    # 3.6.1's module. Appended after the others, so their cases keep their place.
    for seed, batch, d_in, d_out, tokens, ctx, p, heads, bias, inputs in [
        (123, 2, 3, 2, 6, 6, 0.5, 2, False, "book"), (31, 1, 5, 3, 7, 8, 0.1, 3, True, "rand"),
        (32, 3, 4, 4, 5, 5, 0.25, 1, False, "rand"),
    ]:
        for mode in ("eval", "train"):
            cases.append(run("wrapper", seed, mode, batch, tokens, d_in, d_out, inputs=inputs,
                             qkv_bias=bias, context_length=ctx, dropout=p, num_heads=heads))
    if ONLY in sys.argv:
        # Re-record one kind, keeping every other case of the committed file as it is: the same
        # torch version on another machine rounds differently, and recorded values stay put.
        kind = sys.argv[sys.argv.index(ONLY) + 1]
        with open(OUT) as f:
            kept = [c for c in json.load(f)["cases"] if c["kind"] != kind]
        cases = kept + [c for c in cases if c["kind"] == kind]
    data = {"generator": "scripts/torch_grad_truth.py", "torch_version": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cases": cases}
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)
    print(f"wrote {os.path.normpath(OUT)}: {len(cases)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
