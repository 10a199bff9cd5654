#!/usr/bin/env python3
"""Ground truth for sections 3.4-3.6: the chapter's modules, run by PyTorch for many seeds and shapes.

Optional tool (cargo test never runs it). Writes tests/data/torch_attention.json.

Protocol for every case (the Rust tests replay it with TorchRng):
  torch.manual_seed(seed)
  module = <class>(...)                    # draws its parameters
  x = torch.rand(batch, tokens, d_in)      # the input, drawn next from the same generator
  eval_out = module.eval()(x)              # no draws
  train_out = module.train()(x)            # dropout masks drawn here (nothing when dropout == 0)
  next = torch.rand(4)                     # where the generator stands afterwards
Outputs are stored as float32 bit patterns (hex), row-major. The classes are in
scripts/chapter_modules.py.
"""
import json
import os

import torch


from chapter_modules import (  # scripts/chapter_modules.py, beside this file
    CausalAttention,
    MultiHeadAttention,
    MultiHeadAttentionWrapper,
    SelfAttentionV1,
    SelfAttentionV2,
)


def bits(t):
    t = t.detach().to(torch.float32).contiguous().reshape(-1)
    return [format(int(v) & 0xFFFFFFFF, "08x") for v in t.view(torch.int32).tolist()]


def run(kind, seed, batch, tokens, d_in, d_out, **kw):
    torch.manual_seed(seed)
    cls = {
        "v1": lambda: SelfAttentionV1(d_in, d_out),
        "v2": lambda: SelfAttentionV2(d_in, d_out, kw.get("qkv_bias", False)),
        "causal": lambda: CausalAttention(d_in, d_out, kw["context_length"], kw["dropout"], kw.get("qkv_bias", False)),
        "wrapper": lambda: MultiHeadAttentionWrapper(
            d_in, d_out, kw["context_length"], kw["dropout"], kw["num_heads"], kw.get("qkv_bias", False)
        ),
        "mha": lambda: MultiHeadAttention(
            d_in, d_out, kw["context_length"], kw["dropout"], kw["num_heads"], kw.get("qkv_bias", False)
        ),
    }[kind]
    m = cls()
    x = torch.rand(batch, tokens, d_in)
    with torch.no_grad():
        eval_out = m.eval()(x)
        train_out = m.train()(x)
    nxt = torch.rand(4)
    case = {"kind": kind, "seed": seed, "batch": batch, "tokens": tokens, "d_in": d_in, "d_out": d_out}
    case.update({k: v for k, v in kw.items()})
    case["out_shape"] = list(eval_out.shape)
    case["eval"] = bits(eval_out)
    case["train"] = bits(train_out)
    case["next_rand"] = bits(nxt)
    return case


cases = []
for seed, (d_in, d_out, tokens) in zip([1, 2, 3, 42], [(3, 2, 6), (5, 4, 7), (8, 8, 3), (16, 6, 11)]):
    cases.append(run("v1", seed, 1, tokens, d_in, d_out))
    for bias in (False, True):
        cases.append(run("v2", seed + 100, 1, tokens, d_in, d_out, qkv_bias=bias))
for seed, (d_in, d_out, tokens, ctx, p, bias) in enumerate(
    [(3, 2, 6, 6, 0.0, False), (3, 2, 6, 6, 0.5, False), (5, 4, 7, 9, 0.1, True), (8, 3, 4, 10, 0.3, False),
     (6, 6, 12, 12, 0.2, True)],
    start=7,
):
    cases.append(run("causal", seed, 2, tokens, d_in, d_out, context_length=ctx, dropout=p, qkv_bias=bias))
for seed, (d_in, d_out, tokens, ctx, p, heads, bias) in enumerate(
    [(3, 2, 6, 6, 0.0, 2, False), (3, 2, 6, 6, 0.5, 2, False), (5, 6, 7, 8, 0.1, 3, True),
     (8, 8, 9, 9, 0.25, 4, False), (4, 12, 5, 16, 0.0, 1, True)],
    start=20,
):
    cases.append(run("wrapper", seed, 2, tokens, d_in, d_out, context_length=ctx, dropout=p, num_heads=heads, qkv_bias=bias))
    cases.append(run("mha", seed, 2, tokens, d_in, d_out, context_length=ctx, dropout=p, num_heads=heads, qkv_bias=bias))

out = {
    "torch_version": torch.__version__,
    "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "torch_attention.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")
