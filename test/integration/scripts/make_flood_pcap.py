#!/usr/bin/python3
"""Writes a capture of one kind of attack (or a fast download) for an
exporter to turn into flow records. All packets lie within 0.8 s, so that
every flow is shorter than the detector's bucket.
  syn TARGET      SYN packets from 4000 spoofed sources to TARGET:80
  ntp TARGET      NTP replies (UDP from port 123, 468 bytes) from 40 reflectors
  icmp TARGET     ICMP echo requests, 1000-byte, from 100 sources
  carpet PREFIX24 DNS replies (UDP from port 53) to every host of a /24, 20 each
  download TARGET one TCP download, 1500-byte packets at 6000 packets/s for 0.5 s
Usage: make_flood_pcap.py OUT.pcap KIND TARGET"""
import sys

from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, wrpcap

out, kind, target = sys.argv[1], sys.argv[2], sys.argv[3]
eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
t0 = 1_700_000_000.0
packets = []


def add(pkt, i, n, span=0.8):
    pkt.time = t0 + span * i / n
    packets.append(pkt)


if kind == "syn":
    n = 4000
    for i in range(n):
        src = f"203.0.{(i >> 8) & 255}.{i & 255}"
        add(eth / IP(src=src, dst=target) / TCP(sport=1024 + i, dport=80, flags="S"), i, n)
elif kind == "ntp":
    n = 4000
    for i in range(n):
        add(eth / IP(src=f"192.0.2.{1 + i % 40}", dst=target) /
            UDP(sport=123, dport=40000 + i % 1000) / Raw(b"\x17" * 440), i, n)
elif kind == "icmp":
    n = 3000
    for i in range(n):
        add(eth / IP(src=f"203.0.113.{1 + i % 100}", dst=target) / ICMP() / Raw(b"x" * 972), i, n)
elif kind == "carpet":
    base = target.rsplit(".", 1)[0]
    n = 256 * 20
    for i in range(n):
        add(eth / IP(src=f"192.0.2.{1 + i % 7}", dst=f"{base}.{i % 256}") /
            UDP(sport=53, dport=30000 + i % 5000) / Raw(b"d" * 512), i, n)
elif kind == "download":
    n = 3000
    for i in range(n):
        add(eth / IP(src="203.0.113.80", dst=target) /
            TCP(sport=443, dport=50000, flags="A", seq=i * 1460) / Raw(b"z" * 1460), i, n, 0.5)
else:
    sys.exit("unknown kind " + kind)
wrpcap(out, packets)
print(len(packets))
