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
Outputs are stored as float32 bit patterns (hex), row-major. The classes below are written from
the chapter's descriptions (same layers, same creation order, same forward computation).
"""
import json
import os

import torch
import torch.nn as nn


class SelfAttentionV1(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.W_query = nn.Parameter(torch.rand(d_in, d_out))
        self.W_key = nn.Parameter(torch.rand(d_in, d_out))
        self.W_value = nn.Parameter(torch.rand(d_in, d_out))

    def forward(self, x):
        q, k, v = x @ self.W_query, x @ self.W_key, x @ self.W_value
        w = torch.softmax(q @ k.transpose(-2, -1) / k.shape[-1] ** 0.5, dim=-1)
        return w @ v


class SelfAttentionV2(nn.Module):
    def __init__(self, d_in, d_out, qkv_bias=False):
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)

    def forward(self, x):
        q, k, v = self.W_query(x), self.W_key(x), self.W_value(x)
        w = torch.softmax(q @ k.transpose(-2, -1) / k.shape[-1] ** 0.5, dim=-1)
        return w @ v


class CausalAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, qkv_bias=False):
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.W_query(x), self.W_key(x), self.W_value(x)
        s = q @ k.transpose(1, 2)
        s.masked_fill_(self.mask.bool()[:t, :t], -torch.inf)
        w = self.dropout(torch.softmax(s / k.shape[-1] ** 0.5, dim=-1))
        return w @ v


class MultiHeadAttentionWrapper(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        self.heads = nn.ModuleList(
            [CausalAttention(d_in, d_out, context_length, dropout, qkv_bias) for _ in range(num_heads)]
        )

    def forward(self, x):
        return torch.cat([h(x) for h in self.heads], dim=-1)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        assert d_out % num_heads == 0
        self.d_out, self.num_heads, self.head_dim = d_out, num_heads, d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        split = lambda m: m.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.W_query(x)), split(self.W_key(x)), split(self.W_value(x))
        s = q @ k.transpose(2, 3)
        s.masked_fill_(self.mask.bool()[:t, :t], -torch.inf)
        w = self.dropout(torch.softmax(s / k.shape[-1] ** 0.5, dim=-1))
        z = (w @ v).transpose(1, 2).contiguous().view(b, t, self.d_out)
        return self.out_proj(z)


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
