#!/usr/bin/python3
"""Checks that a sink with `fields` wrote the records of a full sink of the
same run with only those keys, in the full line's order.

Usage: compare_projection.py FULL.json SELECTED.json KEY,KEY,...
Exit 0 and "lines N" when line i of SELECTED is line i of FULL cut down to
KEYS (as text: the values' formats are the full line's); else exit 1 with
the first difference.
"""
import json
import sys


def main():
    full_path, selected_path, keys = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    with open(full_path) as f:
        full = [line for line in f if line.strip()]
    with open(selected_path) as f:
        selected = [line for line in f if line.strip()]
    if len(full) != len(selected):
        print(f"{len(full)} full lines but {len(selected)} selected ones")
        return 1
    for i, (a, b) in enumerate(zip(full, selected)):
        record = json.loads(a)
        expected = {k: record[k] for k in record if k in keys}
        if len(expected) != len(keys):
            print(f"line {i + 1}: the full line lacks some of {keys}")
            return 1
        # Same text as json.dumps gives with pmacct's separators.
        if b.rstrip("\n") != json.dumps(expected):
            print(f"line {i + 1}: {b.rstrip()} != {json.dumps(expected)}")
            return 1
    print(f"lines {len(full)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
