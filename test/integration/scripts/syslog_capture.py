#!/usr/bin/python3
"""Runs a command with a private /dev/log and prints every syslog message it
sends, one per line, as received (`<PRI>... ident[pid]: text`). Needs root:
it enters a new mount namespace, mounts a tmpfs over /dev there (with
/dev/null and /dev/urandom bound back in) and listens on /dev/log itself, so
the machine's own logging is untouched.
Usage: syslog_capture.py SCRATCH_DIR SECONDS COMMAND...
(the command gets SIGTERM after SECONDS; SCRATCH_DIR holds the stand-ins)"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def check(rc, what):
    if rc != 0:
        raise OSError(ctypes.get_errno(), what)


scratch, seconds, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
check(libc.unshare(CLONE_NEWNS), "unshare")
check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
keep = {"null": None, "urandom": None, "zero": None}
stash = os.path.join(scratch, "dev")
os.makedirs(stash, exist_ok=True)
for name in keep:
    open(f"{stash}/{name}", "w").close()
    check(libc.mount(f"/dev/{name}".encode(), f"{stash}/{name}".encode(), None, MS_BIND, None),
          f"stash /dev/{name}")
check(libc.mount(b"tmpfs", b"/dev", b"tmpfs", 0, None), "tmpfs on /dev")
for name in keep:
    open(f"/dev/{name}", "w").close()
    check(libc.mount(f"{stash}/{name}".encode(), f"/dev/{name}".encode(), None, MS_BIND, None),
          f"restore /dev/{name}")
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")
log.settimeout(0.1)
child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + seconds
messages = []
while True:
    if time.time() > deadline and child.poll() is None:
        child.send_signal(signal.SIGTERM)
        deadline = time.time() + 30
    try:
        messages.append(log.recv(65536).decode(errors="replace"))
    except socket.timeout:
        if child.poll() is not None:
            break
for m in messages:
    print(m.rstrip("\n"))
sys.exit(child.returncode)
