#!/usr/bin/env python3
"""Ground truth for the edges: what PyTorch prints for the chapter's modules when a row of
attention weights is dropped whole, when an input holds NaN, and when a score overflows float32.

Optional tool (cargo test never runs it). Writes tests/data/torch_edges.json, read by
tests/edges.rs. Each case stores the text `print(tensor)` shows (under torch.no_grad(), so no
grad_fn suffix): the crate promises PyTorch's text, and a value comparison cannot tell `0.` from
`-0.`. Every case is fixed (no random shape), so its text is stable.

Protocols (the Rust test replays each with TorchRng):
  dropout_*: torch.manual_seed(123); m = <class>(3, 2, 6, p, ...); m.train(); print(m(batch))
             with batch = the book's six embeddings stacked twice (shape (2, 6, 3)).
  nan_*:     torch.manual_seed(123); m = <class>(2, 2, T, 0.0, ...); x = 0.5 everywhere but
             x[0, T - 1, 0] = nan; m.eval(); print(m(x)) and the attention weights.
  overflow:  MultiHeadAttention(1, 2, 6, 0.0, num_heads=1) with every projection weight 0.5,
             out_proj = identity with bias 0, and one feature per token, two of them ±1e20:
             each product q_c·k_c overflows with one sign, so the scores are ±inf in any order.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402
from chapter_modules import CausalAttention, MultiHeadAttention, MultiHeadAttentionWrapper  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch_edges.json")

INPUTS = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
                       [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])
BATCH = torch.stack((INPUTS, INPUTS), dim=0)


def text(t):
    return str(t)


def dropout_case(name, make):
    torch.manual_seed(123)
    m = make()
    m.train()
    with torch.no_grad():
        out = m(BATCH)
    return {"name": name, "text": text(out)}


def nan_cases(tokens):
    cases = []
    x = torch.full((1, tokens, 2), 0.5)
    x[0, tokens - 1, 0] = float("nan")
    for kind, make in [("causal", lambda: CausalAttention(2, 2, tokens, 0.0)),
                       ("mha", lambda: MultiHeadAttention(2, 2, tokens, 0.0, num_heads=1)),
                       ("mha2", lambda: MultiHeadAttention(2, 2, tokens, 0.0, num_heads=2))]:
        torch.manual_seed(123)
        m = make()
        m.eval()
        with torch.no_grad():
            cases.append({"name": f"nan_{kind}_{tokens}_out", "text": text(m(x))})
            cases.append({"name": f"nan_{kind}_{tokens}_weights", "text": text(m.attn_weights(x)[0])})
    return cases


def overflow_case():
    m = MultiHeadAttention(1, 2, 6, 0.0, num_heads=1)
    with torch.no_grad():
        for layer in (m.W_query, m.W_key, m.W_value):
            layer.weight.fill_(0.5)
        m.out_proj.weight.copy_(torch.eye(2))
        m.out_proj.bias.zero_()
        x = torch.tensor([[1.0], [-1e20], [2.0], [1e20], [3.0], [0.5]]).unsqueeze(0)
        m.eval()
        return [{"name": "overflow_mha_out", "text": text(m(x))},
                {"name": "overflow_mha_weights", "text": text(m.attn_weights(x)[0])}]


def main():
    cases = [
        dropout_case("dropout_causal_p0.5", lambda: CausalAttention(3, 2, 6, 0.5)),
        dropout_case("dropout_causal_p1", lambda: CausalAttention(3, 2, 6, 1.0)),
        dropout_case("dropout_wrapper_p0.5", lambda: MultiHeadAttentionWrapper(3, 2, 6, 0.5, num_heads=2)),
        dropout_case("dropout_mha_p0.5", lambda: MultiHeadAttention(3, 2, 6, 0.5, num_heads=2)),
    ]
    cases += nan_cases(16) + nan_cases(17) + overflow_case()
    data = {"generator": "scripts/torch_edge_truth.py", "torch_version": torch.__version__,
            "cases": cases}
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
