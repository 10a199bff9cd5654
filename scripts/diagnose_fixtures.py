#!/usr/bin/env python3
"""Fixtures for `cargo run -- diagnose`: what a reader's notebook prints when it runs the
chapter's cells in a way that differs from the book, produced by PyTorch itself.

Optional tool (cargo test never runs it). Writes tests/data/diagnose_fixtures.json, read by
tests/diagnose.rs. Each case stores the exact text `print(...)` shows (grad_fn suffix included,
as a reader copies it), the steps that produced it, and the diagnosis the crate must give: the
section and cell of the printed result, and the cause tags. The MKL dropout masks cannot come
from here (PyTorch 2.7 and later draw every mask with the serial kernel); the tests take them
from the output published in rasbt/LLMs-from-scratch issue #57.
"""
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402
from chapter_modules import (  # noqa: E402
    CausalAttention, MultiHeadAttention, MultiHeadAttentionWrapper, SelfAttentionV1, SelfAttentionV2)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "diagnose_fixtures.json")

INPUTS = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
                       [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])
BATCH = torch.stack((INPUTS, INPUTS), dim=0)


def case(name, steps, text, section, cell, causes, hint=None):
    """`hint`: the section to look in (`diagnose --section`), for a text two cells explain."""
    return {"name": name, "steps": steps, "text": text, "section": section, "cell": cell,
            "causes": causes, "hint": hint}


def query_2(seed_runs):
    """3.4.1: the weights drawn `seed_runs` times after one torch.manual_seed(123)."""
    torch.manual_seed(123)
    for _ in range(seed_runs):
        w_query = torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)
        torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)  # W_key
        torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)  # W_value
    return str(INPUTS[1] @ w_query)


def causal_weights():
    torch.manual_seed(789)
    sa_v2 = SelfAttentionV2(3, 2)
    scores = sa_v2.W_query(INPUTS) @ sa_v2.W_key(INPUTS).T
    mask = torch.triu(torch.ones(6, 6), diagonal=1)
    return torch.softmax(scores.masked_fill(mask.bool(), -torch.inf) / 2 ** 0.5, dim=-1)


def main():
    cases = []
    # The book's own result, as a reader prints it (grad_fn included).
    torch.manual_seed(123)
    mha = MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("mha_book", "torch.manual_seed(123); mha = MultiHeadAttention(3, 2, 6, 0.0, "
                      "num_heads=2); print(mha(batch))", str(mha(BATCH)), "3.6.2", "[131]", ["book"]))
    # A cell run twice: the seed in a cell of its own, the construction cell run twice.
    torch.manual_seed(123)
    MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    mha = MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("mha_cell_run_twice", "torch.manual_seed(123); then the cell `mha = "
                      "MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` run twice; print(mha(batch))",
                      str(mha(BATCH)), "3.6.2", "[131]", ["generator-offset:24"]))
    cases.append(case("query_2_weights_cell_run_twice", "torch.manual_seed(123); the three "
                      "torch.rand(3, 2) weights drawn twice; print(x_2 @ W_query)",
                      query_2(2), "3.4.1", "[70]", ["generator-offset:18"]))
    torch.manual_seed(123)
    # The wrapper built twice after one seed: 36 draws skipped.
    MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)
    wrapper = MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("wrapper_cell_run_twice", "torch.manual_seed(123); the wrapper built "
                      "twice; print(mha(batch))", str(wrapper(BATCH)), "3.6.1", "[127]",
                      ["generator-offset:36"]))
    # 3.4.2: SelfAttention_v2 without its torch.manual_seed(789), right after cell [86]'s
    # torch.manual_seed(123) and SelfAttention_v1 (18 draws).
    torch.manual_seed(123)
    SelfAttentionV1(3, 2)
    sa_v2 = SelfAttentionV2(3, 2)
    cases.append(case("sa_v2_seed_missing", "torch.manual_seed(123); SelfAttention_v1(3, 2); "
                      "sa_v2 = SelfAttention_v2(3, 2) without torch.manual_seed(789); "
                      "print(sa_v2(inputs))", str(sa_v2(INPUTS)), "3.4.2", "[89]",
                      ["seed-missing", "generator-offset:18"], hint="3.4"))
    # Without the hint the same text is exercise 3.1 (seed 123) after 18 draws: one cause.
    cases.append(case("sa_v2_seed_missing_unhinted", cases[-1]["steps"], cases[-1]["text"],
                      "exercise 3.1", "[8]", ["generator-offset:18"]))
    # 3.5.3 built after the other seed of the chapter.
    torch.manual_seed(789)
    ca = CausalAttention(3, 2, 6, 0.0)
    cases.append(case("causal_wrong_seed", "torch.manual_seed(789); ca = CausalAttention(3, 2, 6, "
                      "0.0); print(ca(batch))", str(ca(BATCH)), "3.5.3", "[121]", ["seed-missing"]))
    # 3.5.2 cell [116] without its torch.manual_seed(123): the mask follows cell [115]'s draws.
    weights = causal_weights()
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    dropout(torch.ones(6, 6))
    cases.append(case("dropout_weights_without_reseed", "torch.manual_seed(123); "
                      "dropout(torch.ones(6, 6)); then print(dropout(attn_weights)) without "
                      "torch.manual_seed(123)", str(dropout(weights)), "3.5.2", "[116]",
                      ["generator-offset:72"]))
    # 3.5.2 in evaluation mode: nothing dropped.
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    dropout.eval()
    cases.append(case("dropout_eval_mode", "torch.manual_seed(123); dropout = "
                      "torch.nn.Dropout(0.5); dropout.eval(); print(dropout(torch.ones(6, 6)))",
                      str(dropout(torch.ones(6, 6))), "3.5.2", "[115]", ["dropout-off"]))
    # qkv_bias=True.
    torch.manual_seed(123)
    ca = CausalAttention(3, 2, 6, 0.0, qkv_bias=True)
    cases.append(case("causal_qkv_bias", "torch.manual_seed(123); ca = CausalAttention(3, 2, 6, "
                      "0.0, qkv_bias=True); print(ca(batch))", str(ca(BATCH)), "3.5.3", "[121]",
                      ["qkv-bias"]))
    # Dropout left on: built with 0.5, in training mode (the default) when printed.
    torch.manual_seed(123)
    mha = MultiHeadAttention(3, 2, 6, 0.5, num_heads=2)
    cases.append(case("mha_dropout_left_on", "torch.manual_seed(123); mha = MultiHeadAttention(3, "
                      "2, 6, 0.5, num_heads=2); print(mha(batch)) in training mode",
                      str(mha(BATCH)), "3.6.2", "[131]", ["dropout-in-eval"]))
    # Other sizes.
    torch.manual_seed(123)
    ca = CausalAttention(3, 3, 6, 0.0)
    cases.append(case("causal_d_out_3", "torch.manual_seed(123); ca = CausalAttention(3, 3, 6, "
                      "0.0); print(ca(batch))", str(ca(BATCH)), "3.5.3", "[121]", ["d-out:3"]))
    torch.manual_seed(123)
    mha = MultiHeadAttention(3, 2, 6, 0.0, num_heads=1)
    cases.append(case("mha_one_head", "torch.manual_seed(123); mha = MultiHeadAttention(3, 2, 6, "
                      "0.0, num_heads=1); print(mha(batch))", str(mha(BATCH)), "3.6.2", "[131]",
                      ["num-heads:1"]))
    # Exercise 3.2 as the Korean edition's solution computes it.
    torch.manual_seed(123)
    wrapper = MultiHeadAttentionWrapper(3, 1, 6, 0.0, num_heads=2)
    out_proj = torch.nn.Linear(2, 2)
    cases.append(case("korean_exercise_3_2", "torch.manual_seed(123); the wrapper with d_out=1, "
                      "num_heads=2, then out_proj = nn.Linear(2, 2); print(out_proj(wrapper(batch)))",
                      str(out_proj(wrapper(BATCH))), "exercise 3.2 (Korean edition)", "[9]",
                      ["korean-ex3.2"]))
    # Without torch.manual_seed, each new Python process starts from another seed.
    fresh = [int(subprocess.run([sys.executable, "-c", "import torch; print(torch.initial_seed())"],
                                capture_output=True, text=True, check=True).stdout)
             for _ in range(2)]
    data = {"generator": "scripts/diagnose_fixtures.py", "torch_version": torch.__version__,
            "fresh_process_initial_seeds": [str(s) for s in fresh], "cases": cases}
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
