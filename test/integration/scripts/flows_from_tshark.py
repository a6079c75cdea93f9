#!/usr/bin/python3
"""Prints one line per flow record that tshark decodes from a NetFlow/IPFIX
capture: `src dst sport dport proto packets bytes tcpflags`, sorted, so it can
be compared with tidewatch's output. With `sflow`, one line per sFlow flow
sample: the sampled raw header's addresses, ports, protocol and TCP flags, 1
packet and the frame length as bytes (ICMP has ports 0, as sfacctd prints).
Usage: flows_from_tshark.py CAPTURE PORT [sflow]"""
import json
import subprocess
import sys

capture, port = sys.argv[1], sys.argv[2]
sflow = len(sys.argv) > 3 and sys.argv[3] == "sflow"
raw = subprocess.run(["tshark", "-r", capture, "-d",
                      f"udp.port=={port},{'sflow' if sflow else 'cflow'}", "-T", "json",
                      "--no-duplicate-keys"], check=True, capture_output=True, text=True).stdout
lines = []


def first(d, *names):
    for n in names:
        if n in d:
            return d[n]
    return None


def walk(node, *keys):
    """Every dict under node holding one of keys (default: a cflow counter)."""
    keys = keys or ("cflow.octets", "cflow.packets")
    if isinstance(node, dict):
        if any(k in node for k in keys):
            yield node
        for v in node.values():
            yield from walk(v, *keys)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, *keys)


def as_list(x):
    return x if isinstance(x, list) else [x]


def sflow_line(rec):
    tree = rec.get("sflow_245.header_tree", {})
    ip = tree.get("ip") or tree.get("ipv6") or {}
    src = ip.get("ip.src") or ip.get("ipv6.src")
    dst = ip.get("ip.dst") or ip.get("ipv6.dst")
    proto = ip.get("ip.proto") or ip.get("ipv6.nxt")
    sport = dport = "0"
    flags = 0
    if "tcp" in tree:
        sport, dport = tree["tcp"]["tcp.srcport"], tree["tcp"]["tcp.dstport"]
        flags = int(tree["tcp"]["tcp.flags"], 16) & 0xff
    elif "udp" in tree:
        sport, dport = tree["udp"]["udp.srcport"], tree["udp"]["udp.dstport"]
    return " ".join(str(x) for x in [src, dst, sport, dport, proto, 1,
                                     rec["sflow_245.header.frame_length"], flags])


for packet in json.loads(raw) if sflow else []:
    layer = packet["_source"]["layers"].get("sflow")
    if layer:
        lines.extend(sflow_line(rec) for rec in walk(layer, "sflow_245.header.frame_length"))

for packet in [] if sflow else json.loads(raw):
    cflow = packet["_source"]["layers"].get("cflow")
    if not cflow:
        continue
    for rec in walk(cflow):
        src = first(rec, "cflow.srcaddr", "cflow.srcaddrv6")
        dst = first(rec, "cflow.dstaddr", "cflow.dstaddrv6")
        fields = [as_list(src), as_list(dst), as_list(rec.get("cflow.srcport", "0")),
                  as_list(rec.get("cflow.dstport", "0")), as_list(rec.get("cflow.protocol", "0")),
                  as_list(rec.get("cflow.packets", "0")), as_list(rec.get("cflow.octets", "0")),
                  as_list(rec.get("cflow.tcpflags", "0x00"))]
        # RFC 5103 biflows: tshark lists [forward, reverse] for the counters.
        directions = max(len(f) for f in fields)
        for d in range(directions):
            v = [f[d] if d < len(f) else f[0] for f in fields]
            if d == 1:  # the reverse direction swaps the endpoints
                v[0], v[1], v[2], v[3] = fields[1][0], fields[0][0], fields[3][0], fields[2][0]
            # A biflow direction that saw nothing is no flow (softflowd -b
            # sends many with an empty forward side).
            if directions == 2 and int(v[5]) == 0 and int(v[6]) == 0:
                continue
            v[7] = str(int(v[7], 16) if str(v[7]).startswith("0x") else int(v[7]))
            lines.append(" ".join(str(x) for x in v))
print("\n".join(sorted(lines)))
