#!/usr/bin/python3
"""Receives UDP datagrams on ADDRESS:PORT until SIGTERM and prints one line
per datagram: "SOURCE_ADDRESS SOURCE_PORT HEX_PAYLOAD". Prints "ready" once
bound. Usage: udp_capture.py ADDRESS PORT"""
import signal
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in address else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((address, port))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("ready", flush=True)
while True:
    data, source = s.recvfrom(65536)
    print(source[0], source[1], data.hex(), flush=True)
