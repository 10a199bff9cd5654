#!/usr/bin/env python3
"""PyTorch's side of examples/bench_rng.rs: the same calls, timed the same way.

    /opt/torchvenv/bin/python scripts/bench_torch_rng.py

Median of 31 calls after one warm-up; draws per second = 32-bit draws used / median time.
"""
import time

import torch
import torch.nn as nn

REPEATS = 31


def median_time(f):
    f()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[REPEATS // 2]


def report(name, draws, seconds):
    print(f"{name:<36} {seconds * 1e3:>8.3} ms   {draws / seconds / 1e6:>7.1f} M draws/s")


def main():
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} threads")
    torch.manual_seed(123)
    n = 1_800_000
    report("torch.rand(1_800_000)", n, median_time(lambda: torch.rand(n)))
    report("torch.rand(1200, 1500)", n, median_time(lambda: torch.rand(1200, 1500)))
    report("empty(1_800_000).uniform_(-0.5, 0.5)", n,
           median_time(lambda: torch.empty(n).uniform_(-0.5, 0.5)))
    report("nn.Linear(768, 2304)", 768 * 2304 + 2304, median_time(lambda: nn.Linear(768, 2304)))


if __name__ == "__main__":
    main()
