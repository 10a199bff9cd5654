"""Writes ground-truth JSON so that a diff of it can be read: one case per line.

`dump(data, f)` writes the same JSON value as `json.dump` would, laid out with each object key of
the top two levels on a line of its own and each element of a `cases` list on one line (a case is
at most a few kilobytes). `python3 scripts/diffable_json.py FILE...` rewrites files in place and
checks that the value read back is unchanged. No dependencies beyond the standard library.
"""

import json
import sys


def _compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _layout(value, indent):
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if key == "cases" and isinstance(item, list):
                body = (",\n").join(pad + "  " + _compact(case) for case in item)
                text = "[\n" + body + "\n" + pad + " ]" if item else "[]"
            elif isinstance(item, dict) and indent == 0:
                text = _layout(item, indent + 1)
            else:
                text = _compact(item)
            lines.append(pad + " " + json.dumps(key) + ": " + text)
        return "{\n" + ",\n".join(lines) + "\n" + pad + "}"
    return _compact(value)


def dump(data, f):
    f.write(_layout(data, 0))
    f.write("\n")


def main(paths):
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        with open(path, "w") as f:
            dump(data, f)
        with open(path) as f:
            assert json.load(f) == data, path
        print(f"{path}: rewritten, value unchanged")


if __name__ == "__main__":
    main(sys.argv[1:])
