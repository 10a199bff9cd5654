#!/usr/bin/env python3
"""Ground truth for TorchRng, Linear and Dropout: PyTorch's CPU random numbers, bit for bit.

Optional tool (cargo test never runs it). Writes tests/data/torch_rng.json, read by
tests/torch_truth.rs. Usage, from the crate root:

    /opt/torchvenv/bin/python scripts/torch_truth.py

Every case starts from torch.manual_seed(seed), does one thing, and then records torch.rand(4)
("next"): where the generator stands afterwards, which pins down how many draws the thing used.
Float tensors are stored as float32 bit patterns in hex, row-major. Tensors with more than
FULL_LIMIT elements are stored as a checksum (FNV-1a 64 over the 32-bit words, see fnv1a below)
plus their first and last EDGE elements, to keep the file small.

The cases run twice: once with the CPU kernel PyTorch picks on this machine (AVX2/AVX512:
fused multiply-add in uniform_), once in a subprocess with ATEN_CPU_CAPABILITY=default (the
portable kernel: separate multiply and add). The second run repeats only what the kernel can
change (uniform_, Linear) plus some rand and dropout cases as controls. Both are stored under
"fused" and "unfused", with the capability each reported.

Raw 32-bit draws come from torch.get_rng_state() (the MT19937 state words, tempered here), and
their low 24 bits are checked against torch.rand before they are stored. Torch >= 2.7 always
takes the Serial dropout path, so this script cannot record MklLegacy masks.
"""
import json
import os
import struct
import subprocess
import sys

import diffable_json  # scripts/diffable_json.py, beside this file

import torch
import torch.nn as nn
import torch.nn.functional as F

FULL_LIMIT = 1024
EDGE = 16
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch_rng.json")

SEEDS = [0, 1, 5, 42, 123, 789, 2**31 - 1, 2**32 - 1, 2**32, 2**40 + 5, 2**64 - 1]


def bits(t):
    """float32 tensor -> list of u32 bit patterns, row-major."""
    t = t.detach().contiguous().reshape(-1)
    assert t.dtype == torch.float32
    return [w & 0xFFFFFFFF for w in t.view(torch.int32).tolist()]


def fnv1a(words):
    """FNV-1a, 64-bit, one step per 32-bit word (not per byte)."""
    h = 0xCBF29CE484222325
    for w in words:
        h ^= w
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def tensor_record(t):
    words = bits(t)
    rec = {"shape": list(t.shape), "numel": len(words)}
    if len(words) <= FULL_LIMIT:
        rec["bits"] = [f"{w:08x}" for w in words]
    else:
        rec["fnv1a"] = f"{fnv1a(words):016x}"
        rec["head"] = [f"{w:08x}" for w in words[:EDGE]]
        rec["tail"] = [f"{w:08x}" for w in words[-EDGE:]]
    return rec


def next4():
    return [f"{w:08x}" for w in bits(torch.rand(4))]


def temper(y):
    """MT19937's output transform, to turn state words read from get_rng_state into draws."""
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y & 0xFFFFFFFF


def state_words():
    """(left, next, the 624 state words) from torch.get_rng_state()."""
    raw = bytes(torch.get_rng_state().tolist())
    _seed, left, _seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
    words = struct.unpack_from("<624Q", raw, 24)
    return left, nxt, [w & 0xFFFFFFFF for w in words]


def raw_draws(seed, twists):
    """The first 624 * twists full 32-bit draws after manual_seed(seed), read from the state.

    After a draw that triggers a twist, the state array holds the (untempered) words of the next
    624 draws. The low 24 bits of each are cross-checked against torch.rand itself.
    """
    torch.manual_seed(seed)
    out = []
    for _ in range(twists):
        first = bits(torch.rand(1))[0]  # triggers the twist
        left, nxt, words = state_words()
        assert (left, nxt) == (624, 1), (left, nxt)
        block = [temper(w) for w in words]
        assert first == struct.unpack("<I", struct.pack("<f", (block[0] & 0xFFFFFF) / 2**24))[0]
        rest = bits(torch.rand(623))
        for w, r in zip(block[1:], rest):
            assert r == struct.unpack("<I", struct.pack("<f", (w & 0xFFFFFF) / 2**24))[0]
        out.extend(block)
    return out


def cases(unfused_only=False):
    """All cases; for the DEFAULT-kernel run (unfused_only) only those that can differ between
    kernels (uniform_, Linear) plus a few controls that must not differ."""
    out = []

    # Raw 32-bit draws across two twists, and torch.rand across a twist.
    for seed in ([] if unfused_only else SEEDS):
        draws = raw_draws(seed, 2)
        out.append({"kind": "raw", "seed": str(seed), "draws": [f"{w:08x}" for w in draws]})
    for seed in SEEDS:
        torch.manual_seed(seed)
        t = torch.rand(700)
        out.append({"kind": "rand", "seed": str(seed), "out": tensor_record(t), "next": next4()})

    # torch.rand of many shapes, including more than 100000 elements.
    for seed in ([123] if unfused_only else [123, 789, 2**33 + 9]):
        for shape in [(1,), (3, 2), (6, 6), (17,), (2, 3, 4), (1000,), (317, 331)]:
            torch.manual_seed(seed)
            t = torch.rand(*shape)
            out.append({"kind": "rand", "seed": str(seed), "out": tensor_record(t), "next": next4()})

    # uniform_(from, to): the FMA-sensitive path.
    ranges = [(-1.0, 1.0), (0.0, 1.0), (-0.5, 0.5), (2.0, 3.0), (-3.7, 1e-3), (1e-8, 2e-8),
              (-1e6, 1e6), (0.1, 0.7), (-0.57735026918962573, 0.57735026918962573), (-5.0, -4.9)]
    for seed in [123, 7]:
        for lo, hi in ranges:
            torch.manual_seed(seed)
            t = torch.empty(20, 30).uniform_(lo, hi)
            out.append({"kind": "uniform", "seed": str(seed), "from": lo, "to": hi,
                        "out": tensor_record(t), "next": next4()})
    torch.manual_seed(11)
    t = torch.empty(100003).uniform_(-0.25, 0.75)
    out.append({"kind": "uniform", "seed": "11", "from": -0.25, "to": 0.75,
                "out": tensor_record(t), "next": next4()})

    # nn.Linear default init.
    shapes = [(3, 2), (2, 2), (1, 1), (5, 7), (64, 16), (768, 64), (1000, 3), (4, 4096), (7, 1)]
    for seed in [123, 789, 0, 2**33 + 1]:
        for (d_in, d_out) in shapes:
            for bias in (True, False):
                torch.manual_seed(seed)
                lin = nn.Linear(d_in, d_out, bias=bias)
                rec = {"kind": "linear", "seed": str(seed), "in": d_in, "out": d_out, "bias": bias,
                       "weight": tensor_record(lin.weight), "next": next4()}
                if bias:
                    rec["bias_values"] = tensor_record(lin.bias)
                out.append(rec)

    # Dropout in training mode on x = torch.rand(shape), drawn first from the same generator.
    for seed in ([123] if unfused_only else [123, 789, 3]):
        for p in [0.0, 0.1, 0.5, 0.9, 0.33, 0.999, 1.0]:
            for shape in [(6, 6), (3, 17), (1, 801), (2, 6, 6), (3, 4, 5), (40, 50)]:
                torch.manual_seed(seed)
                x = torch.rand(*shape)
                y = F.dropout(x, p, training=True)
                out.append({"kind": "dropout", "seed": str(seed), "p": p, "shape": list(shape),
                            "out": tensor_record(y), "next": next4()})
    torch.manual_seed(123)
    y = F.dropout(torch.ones(6, 6), 0.5, training=True)
    out.append({"kind": "dropout_ones", "seed": "123", "p": 0.5, "shape": [6, 6],
                "out": tensor_record(y), "next": next4()})
    torch.manual_seed(5)
    x = torch.rand(1, 200003)
    y = F.dropout(x, 0.2, training=True)
    out.append({"kind": "dropout", "seed": "5", "p": 0.2, "shape": [1, 200003],
                "out": tensor_record(y), "next": next4()})

    # A chain: one generator through rand, Linear, dropout and uniform_, like a script would.
    torch.manual_seed(2024)
    chain = {"kind": "chain", "seed": "2024"}
    chain["rand"] = tensor_record(torch.rand(3, 4))
    lin = nn.Linear(4, 3)
    chain["weight"] = tensor_record(lin.weight)
    chain["bias_values"] = tensor_record(lin.bias)
    chain["dropout"] = tensor_record(F.dropout(torch.ones(5, 5), 0.3, training=True))
    chain["uniform"] = tensor_record(torch.empty(2, 5).uniform_(-2.0, 3.0))
    chain["next"] = next4()
    out.append(chain)
    return out


def run_here(unfused_only):
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "cases": cases(unfused_only)}


def main():
    if "--child" in sys.argv:
        json.dump(run_here(True), sys.stdout)
        return
    fused = run_here(False)
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    child = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                           capture_output=True, text=True)
    unfused = json.loads(child.stdout)
    assert fused["cpu_capability"] in ("AVX2", "AVX512"), fused["cpu_capability"]
    assert unfused["cpu_capability"] == "DEFAULT", unfused["cpu_capability"]
    data = {
        "generator": "scripts/torch_truth.py",
        "torch_version": torch.__version__,
        "note": "f32 bit patterns in hex, row-major; next = torch.rand(4) after the case",
        "fused": fused,
        "unfused": unfused,
    }
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)  # one case per line, so a diff of it can be read
    n = len(fused["cases"]) + len(unfused["cases"])
    print(f"wrote {OUT}: {n} cases, {os.path.getsize(OUT)} bytes, torch {torch.__version__}, "
          f"{fused['cpu_capability']} + {unfused['cpu_capability']}")


if __name__ == "__main__":
    main()
