#!/usr/bin/env python3
"""Fixtures for `cargo run -- diagnose`: what a reader's notebook prints when it runs the
chapter's cells in a way that differs from the book, produced by PyTorch itself.

Optional tool (cargo test never runs it). Needs torch, numpy and the book's own package for the
author's classes (`pip install --no-deps llms-from-scratch`). Writes
tests/data/diagnose_fixtures.json, read by tests/diagnose.rs and tests/diagnose_pastes.rs:

* "cases": each the exact text the notebook shows (whole cells: labels, `.shape` lines,
  prompts; `grad_fn`, `dtype` suffixes; other print options; `.tolist()`; NumPy), the steps that
  produced it, and what the crate must answer for each value of the paste, in order ("values":
  status, and for a named value its section, cell and cause tags; status "unnamed" means
  ambiguous or not recognised, never recognised; "ambiguous" lists the setup of its "causes"
  among those it gives). Single-value cases keep the older top-level
  "section", "cell", "causes" and "hint" (`diagnose --section`).
* "grad_fns": for each registry entry, the `grad_fn` names PyTorch printed for it here (the
  book's setup and the variants listed in `grad_fn_variants`).
* "fresh_process_initial_seeds": the seed two new Python processes start from.

One kind of text is not PyTorch's own output and says so in its "steps": `device='cuda:0'` is
inserted by text substitution (no GPU on the machine that wrote this file).

Run under PyTorch 2.6 or older on x86-64 Linux (where dropout masks come from MKL's Bernoulli
kernel; 2.7 and later draw every mask with the serial kernel), the script writes
tests/data/diagnose_fixtures_mkl.json instead: the dropout cells as those versions print them.

The no-seed cases run in fresh processes, so each run of this script writes other numbers
for them.
"""
import contextlib
import io
import os
import subprocess
import sys

import numpy as np
import torch
from llms_from_scratch.ch03 import (CausalAttention, MultiHeadAttention, MultiHeadAttentionWrapper,
                                    SelfAttention_v1, SelfAttention_v2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "diagnose_fixtures.json")

INPUTS = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
                       [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])
BATCH = torch.stack((INPUTS, INPUTS), dim=0)


def shown(*prints):
    """What a cell shows: each item is a tuple of print() arguments."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for args in prints:
            print(*args)
    return out.getvalue()


def value(section, cell, causes):
    return {"status": "recognised", "section": section, "cell": cell, "causes": causes}


UNNAMED = {"status": "unnamed"}


def ambiguous(causes):
    """Ambiguous, with the setup of these causes among those listed."""
    return {"status": "ambiguous", "causes": causes}


def case(name, steps, text, values, hint=None):
    """`values`: the expected answer for each value of `text`, in order."""
    c = {"name": name, "steps": steps, "text": text, "values": values, "hint": hint}
    if len(values) == 1 and values[0]["status"] == "recognised":
        c.update(section=values[0]["section"], cell=values[0]["cell"], causes=values[0]["causes"])
    return c


def fresh(code):
    """stdout of `code` run in a new Python process (no torch.manual_seed)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def qkv_rand():
    """3.4.1's three torch.rand(3, 2) weights after torch.manual_seed(123)."""
    torch.manual_seed(123)
    return [torch.nn.Parameter(torch.rand(3, 2), requires_grad=False) for _ in range(3)]


def grad_fn(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def causal_weights():
    torch.manual_seed(789)
    sa_v2 = SelfAttention_v2(3, 2)
    scores = sa_v2.W_query(INPUTS) @ sa_v2.W_key(INPUTS).T
    mask = torch.triu(torch.ones(6, 6), diagonal=1)
    return scores, torch.softmax(scores.masked_fill(mask.bool(), -torch.inf) / 2 ** 0.5, dim=-1)


def print_cases():
    cases = []
    # 1. Whole cells: the tensor, then its shape line, as 3.5.3's and 3.6.2's cells print them.
    torch.manual_seed(123)
    context_vecs = CausalAttention(3, 2, 6, 0.0)(BATCH)
    cases.append(case("cell_causal_book", "torch.manual_seed(123); ca = CausalAttention(3, 2, 6, "
                      "0.0); print(context_vecs); print('context_vecs.shape:', context_vecs.shape)",
                      shown((context_vecs,), ("context_vecs.shape:", context_vecs.shape)),
                      [value("3.5.3", "[121]", ["book"]), value("3.5.3", "[121]", ["book"])]))
    torch.manual_seed(123)
    MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    context_vecs = MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)(BATCH)
    cases.append(case("cell_mha_run_twice", "torch.manual_seed(123); the cell `mha = "
                      "MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` run twice; its two prints",
                      shown((context_vecs,), ("context_vecs.shape:", context_vecs.shape)),
                      [value("3.6.2", "[131]", ["generator-offset:24"]),
                       value("3.6.2", "[131]", ["book"])]))
    # 2. The Korean notebook's labels, with the Jupyter prompt.
    scores_2 = INPUTS @ INPUTS[1]
    weights = scores_2 / scores_2.sum()
    cases.append(case("korean_labels_sum_normalized", "3.3.1 cell [33] as the Korean notebook "
                      "prints it, with an Out prompt before it",
                      "In [5]: attn_weights_2_tmp = attn_scores_2 / attn_scores_2.sum()\n"
                      + shown(("어텐션 가중치:", weights), ("합:", weights.sum())),
                      [value("3.3.1", "[33]", ["book"]), value("3.3.1", "[33]", ["book"])]))
    a = torch.tensor([[[[0.2745, 0.6584, 0.2775, 0.8573], [0.8993, 0.0390, 0.9268, 0.7388],
                        [0.7179, 0.7058, 0.9156, 0.4340]],
                       [[0.0772, 0.3565, 0.1479, 0.5331], [0.4066, 0.2318, 0.4545, 0.9737],
                        [0.4606, 0.5159, 0.4220, 0.5786]]]])
    first, second = a[0, 0], a[0, 1]
    cases.append(case("korean_labels_heads", "3.6.2 cell [140] as the Korean notebook prints it",
                      shown(("첫 번째 헤드:\n", first @ first.T), ("\n두 번째 헤드:\n", second @ second.T)),
                      [value("3.6.2", "[140]", ["book"]), value("3.6.2", "[140]", ["book"])]))
    # 3. Other print options.
    torch.manual_seed(123)
    mha = MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
    torch.set_printoptions(precision=6)
    text = shown((mha(BATCH),))
    torch.set_printoptions(profile="default")
    cases.append(case("precision_6_mha", "torch.set_printoptions(precision=6); the book's "
                      "MultiHeadAttention", text, [value("3.6.2", "[131]", ["book"])]))
    torch.manual_seed(123)
    CausalAttention(3, 2, 6, 0.0)
    ca = CausalAttention(3, 2, 6, 0.0)
    torch.set_printoptions(sci_mode=True)
    text = shown((ca(BATCH),))
    torch.set_printoptions(profile="default")
    torch.set_printoptions(sci_mode=None)
    cases.append(case("sci_mode_causal_run_twice", "torch.set_printoptions(sci_mode=True); "
                      "CausalAttention built twice after torch.manual_seed(123)", text,
                      [value("3.5.3", "[121]", ["generator-offset:18"])]))
    # 4. .tolist(), .item() and NumPy.
    w_query, _, _ = qkv_rand()
    cases.append(case("tolist_query_2", "the book's query_2, printed as query_2.tolist()",
                      shown(((INPUTS[1] @ w_query).tolist(),)), [value("3.4.1", "[70]", ["book"])]))
    torch.manual_seed(123)
    for _ in range(2):  # the weights cell run twice: 18 draws before the second set
        w_query, w_key, _ = [torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)
                             for _ in range(3)]
    score = (INPUTS[1] @ w_query).dot((INPUTS @ w_key)[1])
    cases.append(case("item_score_22_run_twice", "the weights cell run twice after "
                      "torch.manual_seed(123), then print(attn_score_22.item())",
                      shown((score.item(),)), [ambiguous(["generator-offset:18"])]))
    cases.append(case("score_22_run_twice_4_decimals", "the same, printed as a tensor: 4 "
                      "decimals of one number", shown((score,)), [ambiguous(["generator-offset:18"])]))
    torch.manual_seed(789)
    sa_v2 = SelfAttention_v2(3, 2)
    cases.append(case("numpy_repr_sa_v2", "repr(sa_v2(inputs).detach().numpy()), as Jupyter "
                      "shows a cell's last value", repr(sa_v2(INPUTS).detach().numpy()) + "\n",
                      [value("3.4.2", "[89]", ["book"])]))
    _, weights = causal_weights()
    cases.append(case("numpy_print_causal_weights", "print(attn_weights.detach().numpy()) for "
                      "3.5.1's causal weights (NumPy's own print: spaces, no commas)",
                      shown((weights.detach().numpy(),)), [value("3.5.1", "[105]", ["book"])]))
    # 5. A GPU's suffix (inserted: no GPU here).
    torch.manual_seed(123)
    text = str(MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)(BATCH))
    text = text.replace(", grad_fn=", ", device='cuda:0', grad_fn=") + "\n"
    cases.append(case("cuda_suffix_mha", "the book's MultiHeadAttention, with device='cuda:0' "
                      "inserted by text substitution (not run on a GPU)", text,
                      [value("3.6.2", "[131]", ["book"])]))
    # 6. grad_fn as evidence: the one-head wrapper prints CausalAttention's numbers.
    torch.manual_seed(123)
    one_head = MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=1)(BATCH)
    cases.append(case("wrapper_one_head", "torch.manual_seed(123); MultiHeadAttentionWrapper(3, 2, "
                      "6, 0.0, num_heads=1); print(context_vecs): CausalAttention's numbers, "
                      "grad_fn=<CatBackward0>", shown((one_head,)),
                      [value("3.6.1", "[127]", ["num-heads:1"])]))
    cases.append(case("cell_wrapper_one_head", "the same cell's two prints: the tensor, then "
                      "its shape line, which three cells of the book print alike",
                      shown((one_head,), ("context_vecs.shape:", one_head.shape)),
                      [value("3.6.1", "[127]", ["num-heads:1"]),
                       value("3.6.1", "[127]", ["num-heads:1"])]))
    torch.manual_seed(123)
    wide = MultiHeadAttention(3, 4, 6, 0.0, num_heads=2)(BATCH)
    cases.append(case("cell_mha_d_out_4", "torch.manual_seed(123); MultiHeadAttention(3, 4, 6, "
                      "0.0, num_heads=2); the cell's two prints (3.6.1's wrapper prints the same "
                      "shape line in the book)",
                      shown((wide,), ("context_vecs.shape:", wide.shape)),
                      [value("3.6.2", "[131]", ["d-out:4"]), value("3.6.2", "[131]", ["d-out:4"])]))
    cases.append(case("wrapper_one_head_detached", "the same, printed after .detach(): no "
                      "grad_fn, so nothing tells it from CausalAttention",
                      shown((one_head.detach(),)), [value("3.5.3", "[121]", ["book"])]))
    torch.manual_seed(123)
    w_query = torch.nn.Parameter(torch.rand(3, 2))  # requires_grad=True (the default)
    cases.append(case("query_2_requires_grad", "3.4.1 with nn.Parameter(torch.rand(3, 2)) left at "
                      "requires_grad=True: grad_fn=<SqueezeBackward4>",
                      shown((INPUTS[1] @ w_query,)), [value("3.4.1", "[70]", ["book"])]))
    # 7. Two causes at once.
    torch.manual_seed(123)
    CausalAttention(3, 2, 6, 0.0, qkv_bias=True)
    ca = CausalAttention(3, 2, 6, 0.0, qkv_bias=True)
    cases.append(case("causal_bias_run_twice", "torch.manual_seed(123); CausalAttention(3, 2, 6, "
                      "0.0, qkv_bias=True) built twice", shown((ca(BATCH),)),
                      [value("3.5.3", "[121]", ["generator-offset:24", "qkv-bias"])]))
    # qkv_bias=True in 3.5.1: cells [105] and [110] print the same numbers, told apart by grad_fn.
    torch.manual_seed(789)
    sa_b = SelfAttention_v2(3, 2, qkv_bias=True)
    scores_b = sa_b.W_query(INPUTS) @ sa_b.W_key(INPUTS).T
    masked_b = torch.softmax(scores_b / 2 ** 0.5, dim=-1) * torch.tril(torch.ones(6, 6))
    norm_b = masked_b / masked_b.sum(dim=-1, keepdim=True)
    causal_b = torch.softmax(scores_b.masked_fill(torch.triu(torch.ones(6, 6), 1).bool(), -torch.inf)
                             / 2 ** 0.5, dim=1)
    cases.append(case("cells_105_110_bias", "SelfAttention_v2(3, 2, qkv_bias=True) after "
                      "torch.manual_seed(789); cells [105] and [110] printed one after the other "
                      "(the same numbers, grad_fn DivBackward0 and SoftmaxBackward0)",
                      shown((norm_b,), (causal_b,)),
                      [value("3.5.1", "[105]", ["qkv-bias"]), value("3.5.1", "[110]", ["qkv-bias"])]))
    # 8. Two cells pasted together, code included.
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    ones = dropout(torch.ones(6, 6))
    torch.manual_seed(123)
    dropped = dropout(weights)
    text = ("torch.manual_seed(123)\ndropout = torch.nn.Dropout(0.5)\nexample = torch.ones(6, 6)\n"
            "print(dropout(example))\n" + shown((ones,)) + "\ntorch.manual_seed(123)\n"
            "print(dropout(attn_weights))\n" + shown((dropped,)))
    cases.append(case("two_dropout_cells", "3.5.2's two cells, code and output, pasted together",
                      text, [value("3.5.2", "[115]", ["book"]), value("3.5.2", "[116]", ["book"])]))
    # 9. No seed at all: fresh processes.
    score_code = ("import torch\nx = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], "
                  "[0.57, 0.85, 0.64], [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])\n"
                  "wq, wk = torch.rand(3, 2), torch.rand(3, 2)\nprint((x[1] @ wq).dot((x @ wk)[1]))\n")
    for i in range(3):
        cases.append(case(f"no_seed_score_22_{i}", "3.4.1's weights drawn without "
                          "torch.manual_seed in a new process; print(attn_score_22)",
                          fresh(score_code), [UNNAMED]))
    mha_code = ("import torch\nfrom llms_from_scratch.ch03 import MultiHeadAttention\n"
                "x = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64], "
                "[0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]])\n"
                "print(MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)(torch.stack((x, x))))\n")
    cases.append(case("no_seed_mha", "MultiHeadAttention built without torch.manual_seed in a new "
                      "process", fresh(mha_code), [UNNAMED]))
    return cases


def older_cases():
    """The single-tensor cases of the first version of this file (scripts/chapter_modules.py's
    classes, the same as the author's)."""
    from chapter_modules import (CausalAttention as CA, MultiHeadAttention as MHA,
                                 MultiHeadAttentionWrapper as Wrapper, SelfAttentionV1, SelfAttentionV2)
    cases = []
    torch.manual_seed(123)
    mha = MHA(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("mha_book", "torch.manual_seed(123); mha = MultiHeadAttention(3, 2, 6, 0.0, "
                      "num_heads=2); print(mha(batch))", str(mha(BATCH)),
                      [value("3.6.2", "[131]", ["book"])]))
    torch.manual_seed(123)
    MHA(3, 2, 6, 0.0, num_heads=2)
    mha = MHA(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("mha_cell_run_twice", "torch.manual_seed(123); then the cell `mha = "
                      "MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` run twice; print(mha(batch))",
                      str(mha(BATCH)), [value("3.6.2", "[131]", ["generator-offset:24"])]))
    torch.manual_seed(123)
    for _ in range(2):
        w_query = torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)
        torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)
        torch.nn.Parameter(torch.rand(3, 2), requires_grad=False)
    cases.append(case("query_2_weights_cell_run_twice", "torch.manual_seed(123); the three "
                      "torch.rand(3, 2) weights drawn twice; print(x_2 @ W_query)",
                      str(INPUTS[1] @ w_query), [value("3.4.1", "[70]", ["generator-offset:18"])]))
    torch.manual_seed(123)
    Wrapper(3, 2, 6, 0.0, num_heads=2)
    wrapper = Wrapper(3, 2, 6, 0.0, num_heads=2)
    cases.append(case("wrapper_cell_run_twice", "torch.manual_seed(123); the wrapper built "
                      "twice; print(mha(batch))", str(wrapper(BATCH)),
                      [value("3.6.1", "[127]", ["generator-offset:36"])]))
    torch.manual_seed(123)
    SelfAttentionV1(3, 2)
    sa_v2 = SelfAttentionV2(3, 2)
    steps = ("torch.manual_seed(123); SelfAttention_v1(3, 2); sa_v2 = SelfAttention_v2(3, 2) "
             "without torch.manual_seed(789); print(sa_v2(inputs))")
    cases.append(case("sa_v2_seed_missing", steps, str(sa_v2(INPUTS)),
                      [value("3.4.2", "[89]", ["seed-missing", "generator-offset:18"])], hint="3.4"))
    cases.append(case("sa_v2_seed_missing_unhinted", steps, str(sa_v2(INPUTS)),
                      [value("exercise 3.1", "[8]", ["generator-offset:18"])]))
    torch.manual_seed(789)
    ca = CA(3, 2, 6, 0.0)
    cases.append(case("causal_wrong_seed", "torch.manual_seed(789); ca = CausalAttention(3, 2, 6, "
                      "0.0); print(ca(batch))", str(ca(BATCH)),
                      [value("3.5.3", "[121]", ["seed-missing"])]))
    _, weights = causal_weights()
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    dropout(torch.ones(6, 6))
    cases.append(case("dropout_weights_without_reseed", "torch.manual_seed(123); "
                      "dropout(torch.ones(6, 6)); then print(dropout(attn_weights)) without "
                      "torch.manual_seed(123)", str(dropout(weights)),
                      [value("3.5.2", "[116]", ["generator-offset:72"])]))
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    dropout.eval()
    cases.append(case("dropout_eval_mode", "torch.manual_seed(123); dropout = "
                      "torch.nn.Dropout(0.5); dropout.eval(); print(dropout(torch.ones(6, 6)))",
                      str(dropout(torch.ones(6, 6))), [value("3.5.2", "[115]", ["dropout-off"])]))
    torch.manual_seed(123)
    ca = CA(3, 2, 6, 0.0, qkv_bias=True)
    cases.append(case("causal_qkv_bias", "torch.manual_seed(123); ca = CausalAttention(3, 2, 6, "
                      "0.0, qkv_bias=True); print(ca(batch))", str(ca(BATCH)),
                      [value("3.5.3", "[121]", ["qkv-bias"])]))
    torch.manual_seed(123)
    mha = MHA(3, 2, 6, 0.5, num_heads=2)
    cases.append(case("mha_dropout_left_on", "torch.manual_seed(123); mha = MultiHeadAttention(3, "
                      "2, 6, 0.5, num_heads=2); print(mha(batch)) in training mode",
                      str(mha(BATCH)), [value("3.6.2", "[131]", ["dropout-in-eval"])]))
    torch.manual_seed(123)
    ca = CA(3, 3, 6, 0.0)
    cases.append(case("causal_d_out_3", "torch.manual_seed(123); ca = CausalAttention(3, 3, 6, "
                      "0.0); print(ca(batch))", str(ca(BATCH)), [value("3.5.3", "[121]", ["d-out:3"])]))
    torch.manual_seed(123)
    mha = MHA(3, 2, 6, 0.0, num_heads=1)
    cases.append(case("mha_one_head", "torch.manual_seed(123); mha = MultiHeadAttention(3, 2, 6, "
                      "0.0, num_heads=1); print(mha(batch))", str(mha(BATCH)),
                      [value("3.6.2", "[131]", ["num-heads:1"])]))
    torch.manual_seed(123)
    wrapper = Wrapper(3, 1, 6, 0.0, num_heads=2)
    out_proj = torch.nn.Linear(2, 2)
    cases.append(case("korean_exercise_3_2", "torch.manual_seed(123); the wrapper with d_out=1, "
                      "num_heads=2, then out_proj = nn.Linear(2, 2); print(out_proj(wrapper(batch)))",
                      str(out_proj(wrapper(BATCH))),
                      [value("exercise 3.2 (Korean edition)", "[9]", ["korean-ex3.2"])]))
    return cases


def grad_fns():
    """Registry entry name -> the grad_fn names PyTorch printed for it here."""
    seen = {}

    def add(name, t):
        g = grad_fn(t)
        if g is not None:
            seen.setdefault(name, set()).add(g)

    torch.manual_seed(123)
    wq, wk, wv = [torch.nn.Parameter(torch.rand(3, 2)) for _ in range(3)]  # requires_grad=True
    q2, keys, values = INPUTS[1] @ wq, INPUTS @ wk, INPUTS @ wv
    add("s3_4_1_query_2", q2)
    add("s3_4_1_attn_score_22", q2.dot(keys[1]))
    add("s3_4_1_attn_scores_2", q2 @ keys.T)
    w2 = torch.softmax(q2 @ keys.T / 2 ** 0.5, dim=-1)
    add("s3_4_1_attn_weights_2", w2)
    add("s3_4_1_context_vec_2", w2 @ values)
    torch.manual_seed(123)
    add("s3_4_2_sa_v1_output", SelfAttention_v1(3, 2)(INPUTS))
    torch.manual_seed(789)
    sa_v2 = SelfAttention_v2(3, 2)
    add("s3_4_2_sa_v2_output", sa_v2(INPUTS))
    scores, causal = causal_weights()
    unmasked = torch.softmax(scores / 2 ** 0.5, dim=-1)
    add("s3_5_1_attn_weights", unmasked)
    masked_simple = unmasked * torch.tril(torch.ones(6, 6))
    add("s3_5_1_masked_simple", masked_simple)
    add("s3_5_1_masked_simple_norm", masked_simple / masked_simple.sum(dim=-1, keepdim=True))
    add("s3_5_1_masked_neg_inf", scores.masked_fill(torch.triu(torch.ones(6, 6), 1).bool(), -torch.inf))
    add("s3_5_1_causal_attn_weights", causal)
    torch.manual_seed(123)
    add("s3_5_2_dropout_attn_weights", torch.nn.Dropout(0.5)(causal))
    for d_out in (1, 2, 3, 4):
        for qkv_bias in (False, True):
            for p in (0.0, 0.5):
                torch.manual_seed(123)
                add("s3_5_3_causal_context_vecs", CausalAttention(3, d_out, 6, p, qkv_bias)(BATCH))
                for heads in (1, 2, 3, 4):
                    torch.manual_seed(123)
                    add("s3_6_1_wrapper_context_vecs",
                        MultiHeadAttentionWrapper(3, d_out, 6, p, heads, qkv_bias)(BATCH))
                    if d_out % heads == 0:
                        torch.manual_seed(123)
                        add("s3_6_2_mha_context_vecs",
                            MultiHeadAttention(3, d_out, 6, p, heads, qkv_bias)(BATCH))
    torch.manual_seed(123)
    v2 = SelfAttention_v2(3, 2)
    v1 = SelfAttention_v1(3, 2)
    v1.W_query.data, v1.W_key.data, v1.W_value.data = (v2.W_query.weight.T, v2.W_key.weight.T,
                                                       v2.W_value.weight.T)
    add("exercise_3_1_sa_v1", v1(INPUTS))
    add("exercise_3_1_sa_v2", v2(INPUTS))
    torch.manual_seed(123)
    wrapper = MultiHeadAttentionWrapper(3, 1, 6, 0.0, num_heads=2)
    add("exercise_3_2_context_vecs", wrapper(BATCH))
    out_proj = torch.nn.Linear(2, 2)
    add("exercise_3_2_korean_edition_context_vecs", out_proj(wrapper(BATCH)))
    eval_dropout = torch.nn.Dropout(0.5).eval()
    eval_names = sorted({grad_fn(eval_dropout(causal))})
    return {k: sorted(v) for k, v in sorted(seen.items())}, {"s3_5_2_dropout_attn_weights": eval_names}


def mkl_cases():
    """PyTorch 2.6 and older on x86-64 Linux: dropout masks drawn by MKL's Bernoulli kernel."""
    cases = []
    _, weights = causal_weights()
    torch.manual_seed(123)
    dropout = torch.nn.Dropout(0.5)
    ones = dropout(torch.ones(6, 6))
    torch.manual_seed(123)
    dropped = dropout(weights)
    cases.append(case("mkl_dropout_cells", "3.5.2's two cells under PyTorch " + torch.__version__,
                      shown((ones,), (dropped,)),
                      [value("3.5.2", "[115]", ["bernoulli-mkl"]),
                       value("3.5.2", "[116]", ["bernoulli-mkl"])]))
    torch.manual_seed(123)
    dropout(torch.ones(6, 6))
    after = dropout(weights)
    cases.append(case("mkl_dropout_weights_without_reseed", "cell [116] without its "
                      "torch.manual_seed(123), after cell [115], under PyTorch " + torch.__version__,
                      shown((after,)),
                      [value("3.5.2", "[116]", ["generator-offset:1", "bernoulli-mkl"])]))
    torch.manual_seed(123)
    ca = CausalAttention(3, 2, 6, 0.5)
    cases.append(case("mkl_causal_dropout_left_on", "CausalAttention(3, 2, 6, 0.5) in training mode "
                      "under PyTorch " + torch.__version__, shown((ca(BATCH),)),
                      [value("3.5.3", "[121]", ["dropout-in-eval", "bernoulli-mkl"])]))
    return cases


def main():
    if tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) < (2, 7):
        path = OUT.replace("diagnose_fixtures.json", "diagnose_fixtures_mkl.json")
        data = {"generator": "scripts/diagnose_fixtures.py", "torch_version": torch.__version__,
                "mkl": torch.backends.mkl.is_available(), "cases": mkl_cases()}
        with open(path, "w") as f:
            diffable_json.dump(data, f)
        print(f"wrote {path}: {len(data['cases'])} cases")
        return
    cases = older_cases() + print_cases()
    names, eval_names = grad_fns()
    fresh_seeds = [int(fresh("import torch; print(torch.initial_seed())")) for _ in range(2)]
    data = {"generator": "scripts/diagnose_fixtures.py", "torch_version": torch.__version__,
            "numpy_version": np.__version__, "fresh_process_initial_seeds": [str(s) for s in fresh_seeds],
            "grad_fns": names, "grad_fns_dropout_eval": eval_names, "cases": cases}
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
