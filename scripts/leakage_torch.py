#!/usr/bin/env python3
"""The leakage experiment ("why the mask matters", src/leakage/) rerun in PyTorch.

The same tiny model, the same initial weights, the same data, trained twice (with and without
the causal mask) by autograd and torch.optim.Adam instead of the crate's hand-written backward
pass and Adam. Prints the training loss and the global gradient norm at every step of both runs,
the steps the crate records in `RunTrace`. Optional tool (cargo test never runs it).

    python scripts/leakage_torch.py                  # the table, every step
    python scripts/leakage_torch.py --every 50       # every 50th step (and the last)
    python scripts/leakage_torch.py --json tests/data/torch_leakage.json
    ATEN_CPU_CAPABILITY=default python scripts/leakage_torch.py \
        --json tests/data/torch_leakage_default_kernel.json   # PyTorch's portable kernels

Everything random comes from one generator, seeded with torch.manual_seed(123) at the start of
each run and used in the crate's order:
  1. the initial weights, each matrix drawn in float32 by Tensor.uniform_ (row by row) and then
     kept in float64: tok_emb, pos_emb in [-sqrt(3), sqrt(3)); w_query, w_key, w_value, w_out,
     b_out in [-1/sqrt(d), 1/sqrt(d)). The weights multiply from the right (x @ w_query), as in
     the book's SelfAttention_v1, so each is created in the (in, out) shape the crate uses;
  2. the 512 held-out sequences, then one fresh batch of 32 sequences per step.
A sequence of 17 words costs 33 raw 64-bit draws (random64(), read with Tensor.random_ over the
full int64 range): the first word is floor(6u), each next word takes one draw to decide whether it
follows the sentence (u < 0.8) and one for a uniform word, where u is the draw's top 53 bits over
2^53. (torch.rand in float64 keeps the low 53 bits instead, so it would give other words.)

The model computes in float64, like the crate's. The JSON holds the config, the torch version, the
initial weights as float32 bit patterns, the first batch, torch.rand(4) after a run's last draw
(where the generator stands; the same for both runs), per step the loss and gradient norm of each
run, and each trained model's held-out and inference losses. tests/leakage_torch.rs reads it.
Under ATEN_CPU_CAPABILITY=default, PyTorch's portable uniform kernel rounds x*r + f twice instead
of once, so 181 of the 1222 initial weights differ in their last bits: the crate's
UniformKernel::Unfused draws those.
"""
import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402

VOCAB = 6  # "Your journey starts with one step"
CONFIG = {  # LeakageConfig::default()
    "seed": 123,
    "p_follow": 0.8,
    "context_length": 16,
    "emb_dim": 16,
    "batch_size": 32,
    "heldout_size": 512,
    "steps": 300,
    "learning_rate": 0.03,
}
ADAM = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}  # the crate's Adam


# --- the data: a Markov chain over the six words ------------------------------------------------

def uniform01(n):
    """n uniform floats in [0, 1): the top 53 bits of n raw random64() draws, over 2^53."""
    raw = torch.empty(n, dtype=torch.int64).random_(-2**63, None)  # every 64-bit pattern
    top53 = (raw >> 11) & ((1 << 53) - 1)  # arithmetic shift, so mask off the sign's copies
    return top53.double() * 2.0**-53  # exact


def sample_sequences(n, length, p_follow):
    """(n, length) word indices: the first uniform, each next one the successor with probability
    p_follow, otherwise a uniform word (both draws are made either way)."""
    u = uniform01(n * (2 * length - 1)).view(n, 2 * length - 1)  # each sequence's draws, in order
    words = torch.empty(n, length, dtype=torch.int64)
    words[:, 0] = (u[:, 0] * VOCAB).long()
    for k in range(1, length):
        follow = u[:, 2 * k - 1] < p_follow
        random_word = (u[:, 2 * k] * VOCAB).long()
        words[:, k] = torch.where(follow, (words[:, k - 1] + 1) % VOCAB, random_word)
    return words


# --- the model ----------------------------------------------------------------------------------

class TinyModel(torch.nn.Module):
    """Embeddings, one attention head with a shortcut around it, and an output layer."""

    def __init__(self, vocab, context_length, d):
        super().__init__()
        emb_bound, bound = math.sqrt(3.0), 1.0 / math.sqrt(d)

        def drawn(rows, cols, b):  # float32 draws, as PyTorch makes them, kept in float64
            w = torch.empty(rows, cols, dtype=torch.float32).uniform_(-b, b)
            return torch.nn.Parameter(w.double())

        self.d = d
        self.tok_emb = drawn(vocab, d, emb_bound)  # an nn.Embedding's table, (vocab, d)
        self.pos_emb = drawn(context_length, d, emb_bound)
        self.w_query = drawn(d, d, bound)
        self.w_key = drawn(d, d, bound)
        self.w_value = drawn(d, d, bound)
        self.w_out = drawn(d, vocab, bound)
        self.b_out = drawn(1, vocab, bound)

    def forward(self, tokens, causal):  # tokens (B, T) -> logits (B, T, vocab)
        t = tokens.shape[1]
        x = self.tok_emb[tokens] + self.pos_emb[:t]  # (B, T, d)
        queries, keys, values = x @ self.w_query, x @ self.w_key, x @ self.w_value
        attn_scores = queries @ keys.transpose(1, 2) / math.sqrt(self.d)  # (B, T, T)
        if causal:
            future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
            attn_scores = attn_scores.masked_fill(future, -torch.inf)
        attn_weights = torch.softmax(attn_scores, dim=-1)
        context_vecs = attn_weights @ values  # (B, T, d)
        hidden = x + context_vecs  # the shortcut
        return hidden @ self.w_out + self.b_out


def loss_of(model, seqs, causal):
    """Mean cross-entropy of each next word: read words 0..T-1, score words 1..T."""
    logits = model(seqs[:, :-1], causal)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), seqs[:, 1:].flatten())


def hex_f32(t):
    """float32 values as bit patterns, row by row ("3f800000" is 1.0), as tests/data stores them."""
    bits = t.detach().float().flatten().view(torch.int32).tolist()
    return [format(b & 0xFFFFFFFF, "08x") for b in bits]


def run(causal, c):
    """One training run; returns what it recorded."""
    torch.manual_seed(c["seed"])
    words = c["context_length"] + 1
    model = TinyModel(VOCAB, c["context_length"], c["emb_dim"])
    initial = {name: hex_f32(p) for name, p in model.named_parameters()}
    heldout = sample_sequences(c["heldout_size"], words, c["p_follow"])
    opt = torch.optim.Adam(model.parameters(), lr=c["learning_rate"], **ADAM)
    losses, grad_norms, first_batch = [], [], None
    for _ in range(c["steps"]):
        batch = sample_sequences(c["batch_size"], words, c["p_follow"])
        first_batch = batch.tolist() if first_batch is None else first_batch
        opt.zero_grad()
        loss = loss_of(model, batch, causal)
        loss.backward()
        grad_norm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters()))
        losses.append(loss.item())
        grad_norms.append(grad_norm.item())
        opt.step()
    next_rand = hex_f32(torch.rand(4))  # where the generator stands after the run's draws
    with torch.no_grad():
        heldout_loss = loss_of(model, heldout, causal).item()
        inference_loss = loss_of(model, heldout, True).item()
    return {"initial": initial, "first_batch": first_batch, "next_rand": next_rand,
            "loss": losses, "grad_norm": grad_norms,
            "heldout_loss": heldout_loss, "inference_loss": inference_loss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="print every Nth step (default 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the record as JSON")
    args = parser.parse_args()
    masked, unmasked = run(True, CONFIG), run(False, CONFIG)
    assert masked["initial"] == unmasked["initial"], "both runs start from the same weights"

    print(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), float64")
    print(f"torch.optim.Adam(lr={CONFIG['learning_rate']}, betas={ADAM['betas']}, "
          f"eps={ADAM['eps']})")
    print(f"{'step':>4}  {'masked loss':>19} {'grad norm':>19}  "
          f"{'unmasked loss':>19} {'grad norm':>19}")
    last = CONFIG["steps"] - 1
    for s in range(CONFIG["steps"]):
        if s % args.every == 0 or s == last:
            print(f"{s:>4}  {masked['loss'][s]:>19.16f} {masked['grad_norm'][s]:>19.16f}  "
                  f"{unmasked['loss'][s]:>19.16f} {unmasked['grad_norm'][s]:>19.16f}")
    for name, r in [("masked", masked), ("unmasked", unmasked)]:
        print(f"{name}: held-out loss {r['heldout_loss']:.4f}, "
              f"inference loss {r['inference_loss']:.4f}")

    if args.json:
        data = {
            "generator": "scripts/leakage_torch.py",
            "torch_version": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "dtype": "float64",
            "config": CONFIG,
            "adam": {"betas": list(ADAM["betas"]), "eps": ADAM["eps"],
                     "weight_decay": ADAM["weight_decay"]},
            "initial_weights": masked["initial"],
            "first_batch": masked["first_batch"],
            "next_rand": masked["next_rand"],
            "masked_loss": masked["loss"],
            "masked_grad_norm": masked["grad_norm"],
            "unmasked_loss": unmasked["loss"],
            "unmasked_grad_norm": unmasked["grad_norm"],
            "final": {name: {"heldout_loss": r["heldout_loss"],
                             "inference_loss": r["inference_loss"]}
                      for name, r in [("masked", masked), ("unmasked", unmasked)]},
        }
        with open(args.json, "w") as f:
            diffable_json.dump(data, f)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
