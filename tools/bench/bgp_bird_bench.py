#!/usr/bin/python3
"""BGP full-table benchmark: one bird2 router sends the same table (static
routes, by default 1 M IPv4 + 200 k IPv6) over two sessions at once, one to
tidewatchd's speaker and one to pmacct's nfacctd BGP daemon, on loopback.

Measured per collector: the time from bird's first UPDATE on the session
(its export count starts moving; bird first spends a while reading the
static routes) to the whole table held
(tidewatchd: `tidewatch bgp neighbors --json` shows every prefix; nfacctd has
no such query, so: bird reports every route exported on that session and
nfacctd's CPU time has stopped growing for two seconds), the RSS growth of
the process tree per route, and the RSS ratio nfacctd / tidewatchd.

Usage: bgp_bird_bench.py --build DIR [--v4 1000000] [--v6 200000]
                         [--paths 1000] [--timeout 600]
Loopback only (127.0.0.1 and 127.0.0.3). The machine is shared: compare
within one run.
"""
import argparse
import ipaddress
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def process_tree(pid):
    """pid and its descendants (nfacctd forks its plugins)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except OSError:
                pass
    tree, pending = [], [pid]
    while pending:
        p = pending.pop()
        tree.append(p)
        pending.extend(children.get(p, []))
    return tree


def rss_bytes(pid):
    """Current RSS summed over the process tree."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:13]) / ticks
        except OSError:
            pass
    return total


def write_routes(workdir, v4, v6, paths):
    """Static route include files: IPv4 60 % /24 and the rest /16 to /23
    over 1.0.0.0-223.255.255.255, IPv6 /48 (70 %) and /32 in 2001::/16;
    each route gets one of `paths` AS paths (bird's static routes carry no
    path, the prepend makes one)."""
    rng = random.Random(42)
    seen = set()
    with open(os.path.join(workdir, "routes4.conf"), "w") as f:
        while len(seen) < v4:
            length = 24 if rng.random() < 0.6 else rng.randint(16, 23)
            a = (0x01000000 + rng.randrange(0xdf000000)) & ((0xffffffff << (32 - length)) & 0xffffffff)
            if (a, length) in seen:
                continue
            seen.add((a, length))
            f.write(f"route {ipaddress.IPv4Address(a)}/{length} blackhole "
                    f"{{ bgp_path.prepend({64512 + rng.randrange(paths)}); }};\n")
    seen = set()
    with open(os.path.join(workdir, "routes6.conf"), "w") as f:
        while len(seen) < v6:
            r = rng.getrandbits(32)
            length = 48 if rng.random() < 0.7 else 32
            net = (0x2001 << 112) | (r << 80) if length == 48 else (0x2001 << 112) | ((r >> 16) << 96)
            if (net, length) in seen:
                continue
            seen.add((net, length))
            f.write(f"route {ipaddress.IPv6Address(net)}/{length} blackhole "
                    f"{{ bgp_path.prepend({64512 + rng.randrange(paths)}); }};\n")


def bird_config(workdir, sessions):
    text = (f"router id 127.0.0.3;\nprotocol device {{}}\n"
            f"protocol static s4 {{ ipv4;\ninclude \"{workdir}/routes4.conf\";\n}}\n"
            f"protocol static s6 {{ ipv6;\ninclude \"{workdir}/routes6.conf\";\n}}\n")
    for name, port in sessions:
        text += (f"protocol bgp {name} {{\n  local 127.0.0.3 as 65003;\n"
                 f"  neighbor 127.0.0.1 port {port} as 65000;\n  multihop;\n"
                 f"  ipv4 {{ import none; export all; next hop address 192.0.2.3; }};\n"
                 f"  ipv6 {{ import none; export all; next hop address 2001:db8::3; }};\n}}\n")
    path = os.path.join(workdir, "bird.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def bird_exported(workdir, protocol):
    """Routes bird has exported on a BGP session (IPv4 + IPv6 channels)."""
    out = subprocess.run(["birdc", "-s", f"{workdir}/bird.ctl", "show", "protocols", "all",
                          protocol], capture_output=True, text=True).stdout
    return sum(int(m) for m in re.findall(r"Routes:\s+\d+ imported, (\d+) exported", out))


class tidewatchd:
    name = "tidewatchd"

    def __init__(self, build, workdir, bgp_port):
        self.build = build
        cfg = os.path.join(workdir, "node.yaml")
        with open(cfg, "w") as f:
            f.write(f"node:\n  name: bench\n  state_dir: {workdir}\n"
                    f"  inspector: {{listen: \"127.0.0.1:0\"}}\n  metrics: {{listen: \"127.0.0.1:0\"}}\n"
                    f"logging:\n  level: info\n"
                    f"bgp:\n  enabled: true\n  address: 127.0.0.1\n  port: {bgp_port}\n"
                    f"  local_as: 65000\n  router_id: 127.0.0.1\n"
                    f"  neighbors:\n    - {{address: 127.0.0.3, remote_as: 65003}}\n"
                    f"pipelines:\n  netflow:\n    listeners:\n"
                    f"      - {{address: 127.0.0.1, port: {free_port(socket.SOCK_DGRAM)}}}\n"
                    f"    sinks:\n      - {{type: file, path: {workdir}/flows.json}}\n")
        self.err = os.path.join(workdir, "tidewatchd.err")
        self.proc = subprocess.Popen([os.path.join(build, "tidewatchd"), "--config", cfg],
                                     stderr=open(self.err, "w"))
        self.inspector = None
        deadline = time.time() + 20
        while time.time() < deadline and self.inspector is None:
            m = re.search(r"inspector listening on 127\.0\.0\.1:(\d+)", open(self.err).read())
            if m and "bgp: listening on" in open(self.err).read():
                self.inspector = m.group(1)
            time.sleep(0.05)
        if self.inspector is None:
            raise RuntimeError("tidewatchd did not start: " + open(self.err).read())

    def routes(self):
        out = subprocess.run([os.path.join(self.build, "tidewatch"), "bgp", "neighbors",
                              "--json", "--node", f"127.0.0.1:{self.inspector}"],
                             capture_output=True, text=True).stdout
        try:
            return sum(n.get("prefixes", 0) for n in json.loads(out))
        except ValueError:
            return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class nfacctd:
    name = "nfacctd"

    def __init__(self, workdir, bgp_port):
        cfg = os.path.join(workdir, "nfacctd.conf")
        with open(cfg, "w") as f:
            f.write(f"daemonize: false\nnfacctd_ip: 127.0.0.1\n"
                    f"nfacctd_port: {free_port(socket.SOCK_DGRAM)}\n"
                    f"plugins: print\nprint_output_file: {workdir}/nf.txt\n"
                    f"print_refresh_time: 3600\naggregate: src_host,dst_host\n"
                    f"bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\nbgp_daemon_port: {bgp_port}\n"
                    f"bgp_daemon_as: 65000\nbgp_daemon_id: 127.0.0.1\n"
                    f"bgp_daemon_max_peers: 4\nnfacctd_as: bgp\nnfacctd_net: bgp\n")
        self.proc = subprocess.Popen(["nfacctd", "-f", cfg], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(workdir, "nfacctd.err"), "w"))
        time.sleep(2)  # it binds its sockets after reading the config

    def stop(self):
        # Its core process may crash on SIGINT (pmacct 1.7.7: "double free"
        # after a BGP peer left), orphaning the print plugin: stop the tree.
        tree = process_tree(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for pid in tree[1:]:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", required=True)
    p.add_argument("--v4", type=int, default=1_000_000)
    p.add_argument("--v6", type=int, default=200_000)
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="bgp-bird-bench-")
    t = time.time()
    write_routes(workdir, args.v4, args.v6, args.paths)
    print(f"# routes written in {time.time() - t:.1f} s to {workdir}", flush=True)
    tw_port, pm_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    tw = tidewatchd(args.build, workdir, tw_port)
    pm = nfacctd(workdir, pm_port)
    base = {tw.name: rss_bytes(tw.proc.pid), pm.name: rss_bytes(pm.proc.pid)}
    conf = bird_config(workdir, [("tw", tw_port), ("pm", pm_port)])
    started = time.time()
    subprocess.run(["bird", "-c", conf, "-s", f"{workdir}/bird.ctl", "-P", f"{workdir}/bird.pid"],
                   check=True)
    done = {}
    last_cpu, idle_since = cpu_seconds(pm.proc.pid), None
    last_exported = {"tw": -1, "pm": -1}
    first_update = {}  # when bird's export count first moved, per session
    try:
        while len(done) < 2 and time.time() - started < args.timeout:
            time.sleep(0.5)
            now = time.time() - started
            # bird may hold back a few routes (it counts what it exported):
            # a table is complete when that count stopped growing.
            exported = {s: bird_exported(workdir, s) for s in ("tw", "pm")}
            stable = {s: exported[s] > 0 and exported[s] == last_exported[s] for s in exported}
            last_exported = exported
            for session, name in (("tw", tw.name), ("pm", pm.name)):
                if exported[session] > 0 and name not in first_update:
                    first_update[name] = now
            if tw.name not in done and stable["tw"] and tw.routes() == exported["tw"]:
                done[tw.name] = now
            if pm.name not in done:
                cpu = cpu_seconds(pm.proc.pid)
                if cpu != last_cpu or not stable["pm"]:
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since >= 2:
                    done[pm.name] = idle_since
                last_cpu = cpu
        rss = {tw.name: rss_bytes(tw.proc.pid), pm.name: rss_bytes(pm.proc.pid)}
        exported = {tw.name: bird_exported(workdir, "tw"), pm.name: bird_exported(workdir, "pm")}
        held = tw.routes()
    finally:
        with open(f"{workdir}/bird.pid") as f:
            os.kill(int(f.read()), signal.SIGTERM)
        tw.stop()
        pm.stop()
    print(f"\n{args.v4} IPv4 + {args.v6} IPv6 routes, {args.paths} distinct AS paths, "
          f"one bird2 sending to both at once\n")
    print("| collector | routes exported by bird | bird start to first UPDATE | "
          "first UPDATE to whole table | RSS growth | bytes/route |")
    print("|---|---|---|---|---|---|")
    for name in (tw.name, pm.name):
        grown = rss[name] - base[name]
        first = first_update.get(name)
        converged = (f"{done[name] - first:.1f} s" if name in done and first is not None else
                     f"not within {args.timeout:.0f} s")
        print(f"| {name} | {exported[name]} | {first if first is None else round(first, 1)} s | "
              f"{converged} | {grown / 2**20:.0f} MiB | "
              f"{grown / max(1, exported[name]):.0f} |")
    print(f"\ntidewatchd holds {held} routes; RSS ratio nfacctd / tidewatchd: "
          f"{(rss[pm.name] - base[pm.name]) / max(1, rss[tw.name] - base[tw.name]):.2f}")


if __name__ == "__main__":
    main()
