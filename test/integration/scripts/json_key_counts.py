#!/usr/bin/python3
"""Summarises JSON-lines records by the values of some keys.
Usage: json_key_counts.py FILE KEY[,KEY...] [--runs]
Prints `value|value... count` per distinct combination, sorted; with --runs,
prints instead the combinations in file order with consecutive repeats
merged (`old` then `new` means every record before the switch had old)."""
import json
import sys

path, keys = sys.argv[1], sys.argv[2].split(",")
runs = "--runs" in sys.argv[3:]
counts = {}
sequence = []
with open(path) as f:
    for line in f:
        if not line.strip():
            continue
        r = json.loads(line)
        value = "|".join(str(r.get(k, "<absent>")) for k in keys)
        counts[value] = counts.get(value, 0) + 1
        if not sequence or sequence[-1] != value:
            sequence.append(value)
if runs:
    print("\n".join(sequence))
else:
    print("\n".join(f"{v} {n}" for v, n in sorted(counts.items())))
