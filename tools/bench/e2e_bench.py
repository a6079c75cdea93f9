#!/usr/bin/python3
"""End-to-end benchmark: flowgen -> collector -> JSON file, for tidewatchd and,
in the same run, pmacct's nfacctd (sfacctd for --protocol sflow; print
plugin, JSON, every primitive).

For each collector it sends the same flowgen load at increasing rates and
measures what arrives in the output (sum of `packets`, so that nfacctd's
aggregation does not hide records), the kernel's drops on the collector's
socket (/proc/net/udp), the collector's CPU time and peak RSS. For sFlow a
record is a flow sample of one packet, so what is expected is the number of
records (samples) flowgen sent. It prints one
table row per run and, per collector, the highest rate with < 0.1 % loss and
zero kernel drops at it and at every lower rate, and the ratio between the two.

Usage: e2e_bench.py --build DIR [--protocol ipfix|v9|v5|sflow] [--seconds 4]
                    [--rates 100000,200000,...]
                    [--collectors tidewatchd,tidewatchd-fields,tidewatchd-agg,nfacctd|sfacctd]

tidewatchd writes one record per flow with every field it has (about 1.2 KB
of JSON per record); tidewatchd-fields writes one record per flow with the
keys nfacctd prints here (a sink's `fields`: about 570 bytes per record);
tidewatchd-agg is set up as nfacctd is here (the same `aggregate`
primitives over 1 s, so the same keys).
                    [--output-root huge-tmpfs|PATH]
Loopback only. The machine is shared and noisy: compare ratios within one run.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

PMACCT_PRIMITIVES = ("src_host,dst_host,src_port,dst_port,proto,tos,tcpflags,src_as,dst_as,"
                     "peer_src_ip,peer_dst_ip,in_iface,out_iface,src_mask,dst_mask,"
                     "sampling_rate,export_proto_version,timestamp_start,timestamp_end")

# The keys nfacctd prints for those primitives (pmacct's primitive -> key).
PMACCT_KEYS = {"src_host": "ip_src", "dst_host": "ip_dst", "src_port": "port_src",
               "dst_port": "port_dst", "proto": "ip_proto", "tos": "tos", "tcpflags": "tcp_flags",
               "src_as": "as_src", "dst_as": "as_dst", "peer_src_ip": "peer_ip_src",
               "peer_dst_ip": "peer_ip_dst", "in_iface": "iface_in", "out_iface": "iface_out",
               "src_mask": "mask_src", "dst_mask": "mask_dst", "sampling_rate": "sampling_rate",
               "export_proto_version": "export_proto_version",
               "timestamp_start": "timestamp_start", "timestamp_end": "timestamp_end"}
NFACCTD_OUTPUT_KEYS = (["event_type"] + [PMACCT_KEYS[p] for p in PMACCT_PRIMITIVES.split(",")] +
                       ["stamp_inserted", "stamp_updated", "flows", "packets", "bytes"])


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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


def proc_cpu_seconds(pid):
    """CPU time of the process tree, including reaped children."""
    total = 0
    ticks = os.sysconf("SC_CLK_TCK")
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / ticks
        except OSError:
            pass
    return total


def proc_peak_rss_mb(pid):
    """Peak RSS summed over the process tree."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def udp_drops(port):
    """Kernel drops summed over every socket bound to 127.0.0.1:port."""
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                if int(cols[1].split(":")[1], 16) == port:
                    drops += int(cols[-1])
    return drops


def wait_bound(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            udp_drops(port)
            with open("/proc/net/udp") as f:
                if f":{port:04X} " in f.read():
                    return True
            with open("/proc/net/udp6") as f:
                if f":{port:04X} " in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def sum_packets(paths):
    records = packets = 0
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    records += 1
                    packets += int(r.get("packets", 0))
    return records, packets


class tidewatchd:
    name = "tidewatchd"
    settle_seconds = 0.3

    # Extra keys of the file sink: none, one record per flow with every field.
    sink_extra = ""

    def __init__(self, build, workdir, port, protocol):
        self.out = os.path.join(workdir, "flows.json")
        cfg = os.path.join(workdir, "node.yaml")
        pipeline = "netflow:\n    enabled: false\n  sflow:\n    enabled: true" \
            if protocol == "sflow" else "netflow:"
        with open(cfg, "w") as f:
            f.write(f"node:\n  state_dir: {workdir}\nlogging:\n  level: warn\n"
                    f"pipelines:\n  {pipeline}\n    listeners:\n"
                    f"      - {{address: 127.0.0.1, port: {port}}}\n"
                    f"    receive_buffer_bytes: 64MiB\n"
                    f"    sinks:\n      - {{type: file, path: {self.out}, rotate_bytes: 64GiB,"
                    f" scopes: [inbound, outbound, internal, external, unknown]{self.sink_extra}}}\n")
        self.proc = subprocess.Popen([os.path.join(build, "tidewatchd"), "--config", cfg],
                                     stderr=open(os.path.join(workdir, "tidewatchd.err"), "w"))

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        return [self.out]


class tidewatchd_fields(tidewatchd):
    """tidewatchd writing one line per flow with the keys nfacctd prints
    here (the sink's `fields`)."""
    name = "tidewatchd-fields"
    sink_extra = ", fields: [" + ", ".join(NFACCTD_OUTPUT_KEYS) + "]"


class tidewatchd_aggregating(tidewatchd):
    """tidewatchd set up as nfacctd is here: the file sink aggregates by the
    same primitives over 1 s and so prints the same keys."""
    name = "tidewatchd-agg"
    sink_extra = (", aggregate: [" + PMACCT_PRIMITIVES.replace(",", ", ") + "],"
                  " aggregate_interval: 1s")

    def finish(self):
        time.sleep(1.5)  # the last interval is printed
        return super().finish()


class nfacctd:
    name = "nfacctd"
    # Its print plugin starts after the socket is bound; give it time.
    settle_seconds = 2.0

    def __init__(self, build, workdir, port, protocol):
        self.dir = workdir
        d = self.name
        cfg = os.path.join(workdir, f"{d}.conf")
        with open(cfg, "w") as f:
            f.write(f"daemonize: false\n{d}_ip: 127.0.0.1\n{d}_port: {port}\n"
                    f"{d}_pipe_size: 67108864\nplugins: print\nprint_output: json\n"
                    f"print_output_file: {workdir}/nf-%s.json\nprint_refresh_time: 1\n"
                    f"print_cache_entries: 262147\nprint_output_file_append: true\naggregate: {PMACCT_PRIMITIVES}\n")
        self.proc = subprocess.Popen([d, "-f", cfg],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(workdir, f"{d}.err"), "w"))

    def finish(self):
        time.sleep(5)  # several refresh intervals: everything received is printed
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return [os.path.join(self.dir, f) for f in os.listdir(self.dir) if f.startswith("nf-")]


class sfacctd(nfacctd):
    """The same print plugin setup in pmacct's sFlow collector."""
    name = "sfacctd"


def run_once(kind, build, protocol, rate, seconds, output_root):
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind.name}-", dir=output_root) as workdir:
        port = free_udp_port()
        collector = kind(build, workdir, port, protocol)
        if not wait_bound(port):
            collector.proc.kill()
            raise RuntimeError(f"{kind.name} did not bind port {port}")
        time.sleep(kind.settle_seconds)
        cpu0 = proc_cpu_seconds(collector.proc.pid)
        t0 = time.time()
        gen = subprocess.run([os.path.join(build, "tools", "flowgen"), "--target", f"127.0.0.1:{port}",
                              "--protocol", protocol, "--rate", str(rate), "--duration",
                              str(seconds), "--hosts", "50000", "--json"],
                             capture_output=True, text=True, check=True)
        sent = json.loads(gen.stdout)
        time.sleep(0.5)
        drops = udp_drops(port)
        cpu = proc_cpu_seconds(collector.proc.pid) - cpu0
        wall = time.time() - t0
        rss = proc_peak_rss_mb(collector.proc.pid)
        outputs = collector.finish()
        records, packets = sum_packets(outputs)
        sent_packets = sent["records"] if protocol == "sflow" else sent["packets"]
        loss = 1 - packets / sent_packets if sent_packets else 1.0
        return {"collector": kind.name, "rate": rate, "sent_records": sent["records"],
                "achieved_rate": sent["records_per_s"], "out_records": records,
                "loss": loss, "kernel_drops": drops, "cpu": cpu / wall, "rss_mb": rss}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--protocol", default="ipfix")
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rates", default="100000,200000,400000,800000,1200000,1600000,2000000,2400000")
    ap.add_argument("--collectors", default=None)
    # JSON output runs at about 1 GB per million records/s; this VM's ext4
    # takes about 1.1 GB/s with a whole core, so the disk would be what is
    # measured. tmpfs keeps the comparison on the collectors themselves, and
    # a tmpfs with huge pages (huge=within_size) keeps it off the kernel's
    # page allocation: on the development VM a 4 KiB-page tmpfs (/dev/shm)
    # costs 0.65 s of CPU per GB written, a huge-page one 0.25 s. It is the
    # setup the README recommends for a spool directory that a shipper reads.
    ap.add_argument("--output-root", default="huge-tmpfs",
                    help="a directory, or huge-tmpfs: mount a private tmpfs with "
                         "huge=within_size (root only; else /dev/shm)")
    args = ap.parse_args()
    huge_mount = None
    if args.output_root == "huge-tmpfs":
        huge_mount = tempfile.mkdtemp(prefix="e2e-huge-")
        mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16G,huge=within_size", "tmpfs", huge_mount],
            stderr=subprocess.DEVNULL).returncode == 0
        if mounted:
            args.output_root = huge_mount
        else:
            os.rmdir(huge_mount)
            huge_mount = None
            args.output_root = "/dev/shm"
        print(f"output: {args.output_root} ({'tmpfs, huge=within_size' if mounted else 'no huge-page tmpfs: not root'})")
    else:
        print(f"output: {args.output_root}")
    try:
        return measure(args)
    finally:
        if huge_mount is not None:
            subprocess.run(["umount", huge_mount])
            os.rmdir(huge_mount)


def measure(args):
    kinds = {"tidewatchd": tidewatchd, "tidewatchd-fields": tidewatchd_fields,
             "tidewatchd-agg": tidewatchd_aggregating,
             "nfacctd": nfacctd, "sfacctd": sfacctd}
    if args.collectors is None:
        args.collectors = "tidewatchd," + ("sfacctd" if args.protocol == "sflow" else "nfacctd")
    best = {}
    lossy = set()
    print(f"{'collector':<17} {'asked/s':>9} {'sent/s':>9} {'sent':>9} {'out recs':>9} "
          f"{'loss %':>7} {'k.drops':>8} {'CPU %':>6} {'RSS MB':>7}")
    for name in args.collectors.split(","):
        for rate in [int(r) for r in args.rates.split(",")]:
            r = run_once(kinds[name], args.build, args.protocol, rate, args.seconds,
                         args.output_root)
            print(f"{r['collector']:<17} {rate:>9} {r['achieved_rate']:>9.0f} "
                  f"{r['sent_records']:>9} {r['out_records']:>9} {100 * r['loss']:>7.3f} "
                  f"{r['kernel_drops']:>8} {100 * r['cpu']:>6.0f} {r['rss_mb']:>7.1f}", flush=True)
            # A rate counts only when every lower rate of this collector was
            # loss-free too: a lucky run above a lossy one is not capacity.
            if r["loss"] < 0.001 and r["kernel_drops"] == 0:
                if name not in lossy:
                    best[name] = max(best.get(name, 0), r["achieved_rate"])
            else:
                lossy.add(name)
                if r["loss"] > 0.05:
                    break  # far past its limit; higher rates only take longer
    print()
    for name, rate in best.items():
        print(f"highest rate loss-free with every rate below it, {name}: {rate:,.0f} records/s")
    for other in ("nfacctd", "sfacctd"):
        for ours in ("tidewatchd", "tidewatchd-fields", "tidewatchd-agg"):
            if ours in best and best.get(other, 0) > 0:
                print(f"ratio {ours} / {other}: {best[ours] / best[other]:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
