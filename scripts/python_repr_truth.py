"""Records Python's float repr for tests/data/python_repr.json (read by tests/print.rs).

Optional tool (cargo test never runs it; no dependency beyond the standard library). Python's
repr is the shortest string that reads back as the same double, and among strings of that
length the one closest to the double (ties to even). The cases: hand-picked values (exact ties
such as 578.57501220703125, powers of ten at the fixed/scientific switch), then random doubles
of every magnitude and random float32 values widened to double (their short exact expansions
make ties common), from a fixed seed.
"""

import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffable_json  # noqa: E402  (scripts/diffable_json.py, beside this file)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "python_repr.json")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def case(x):
    return {"bits": struct.pack(">d", x).hex(), "repr": repr(x)}


def main():
    rng = random.Random(20261203)
    picked = [578.57501220703125, 0.5, 1.0, 1e-4, 9.9999e-5, 1e15, 1e16, 9999999999999998.0,
              123456.0, 0.1 + 0.2, 1e-5, 1.5e16, -0.0001, 5e-324, 1.7976931348623157e308,
              f32(0.1), f32(1.0000001), f32(578.575)]
    doubles = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    doubles = [x for x in doubles if x == x and abs(x) != float("inf")]
    scaled = [rng.uniform(-1, 1) * 10.0 ** rng.randint(-8, 20) for _ in range(3000)]
    singles = [f32(rng.uniform(-1, 1) * 10.0 ** rng.randint(-6, 8)) for _ in range(4000)]
    cases = [case(x) for x in picked + doubles + scaled + singles]
    data = {"generator": "scripts/python_repr_truth.py", "python": sys.version.split()[0],
            "cases": cases}
    with open(OUT, "w") as f:
        diffable_json.dump(data, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
