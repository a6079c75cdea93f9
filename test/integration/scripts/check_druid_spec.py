#!/usr/bin/python3
"""Checks that a Druid Kafka ingestion spec and the sink's records agree: every
column the spec reads (timestamp, dimensions, metric inputs) is a key of the
record, and every key of the record is read by the spec. Prints what differs,
nothing when they agree.
Usage: check_druid_spec.py SPEC.json < one JSON record"""
import json
import sys

spec = json.load(open(sys.argv[1]))["spec"]["dataSchema"]
record = json.loads(sys.stdin.readline())
read = {spec["timestampSpec"]["column"]}
for d in spec["dimensionsSpec"]["dimensions"]:
    read.add(d if isinstance(d, str) else d["name"])
for m in spec["metricsSpec"]:
    if "fieldName" in m:
        read.add(m["fieldName"])
for name in sorted(read - set(record)):
    print("spec reads a field the records lack:", name)
for name in sorted(set(record) - read):
    print("records carry a field the spec ignores:", name)
