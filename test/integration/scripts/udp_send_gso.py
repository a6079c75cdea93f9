#!/usr/bin/python3
"""Sends UDP datagrams listed in a file to ADDRESS:PORT as UDP GSO sends
(UDP_SEGMENT) of up to PER_SEND datagrams each, the way a busy exporter's
full datagrams may arrive: one run the kernel carries whole. Each line of the
file is "SOURCE_ADDRESS SOURCE_PORT HEX_PAYLOAD"; every line must have the
first line's source and, but for the last, its size.
Usage: udp_send_gso.py ADDRESS PORT DATAGRAMS_FILE PER_SEND"""
import socket
import sys

UDP_SEGMENT = 103

address, port, path, per_send = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
family = socket.AF_INET6 if ":" in address else socket.AF_INET
with open(path) as f:
    lines = [line.split() for line in f if line.strip()]
src, sport = lines[0][0], int(lines[0][1])
payloads = [bytes.fromhex(hex_payload) for _, _, hex_payload in lines]
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((src, sport))
s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, len(payloads[0]))
sent = 0
for first in range(0, len(payloads), per_send):
    run = payloads[first:first + per_send]
    s.sendto(b"".join(run), (address, port))
    sent += len(run)
print("sent", sent, flush=True)
