#!/usr/bin/python3
"""Detection latency, tidewatchd and FastNetMon side by side: the time from
the first record of a flood to the ban (the notify script's call).

One tidewatchd and one FastNetMon (Debian's `fastnetmon`, its own config
files in a scratch directory, its default detection settings) watch
100.64.0.0/24 with the same packet threshold (FastNetMon's default
threshold_pps, 20000, unless --threshold-pps). tidewatchd receives flowgen's
NetFlow v9 and its replicator copies every datagram to FastNetMon, so both
see the same traffic (FastNetMon a few hundred microseconds later). Each
flood is a flowgen SYN attack (1 to 3 packets per record, 2 on average) on
a fresh target in 100.64.0.128/25 while normal traffic goes to the lower
half, at each multiple of the threshold (in packets flowgen sends);
the clock starts when flowgen starts (its first datagrams carry attack
records) and stops at the timestamp each notify script writes for `ban`.

flowgen's attack flows last 1 to 10 s and tidewatchd counts a flow longer
than its bucket with its average rate (so that one long flow reported at
once is not a flood), FastNetMon with all its packets at once: at "2x"
tidewatchd sees about 1.04 times its threshold, FastNetMon twice its own.
The table shows the time from the flood's start either way.

Usage: detection_latency_bench.py --build DIR [--multiples 2,20] [--runs 3]
                                  [--threshold-pps 20000] [--seconds 10]
Loopback only. The machine is shared and noisy: compare within one run.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from e2e_bench import free_udp_port

NETWORK = "100.64.0.0/24"
NORMAL_PREFIX = "100.64.0.0/25"  # the normal traffic's hosts; floods go to the upper half
NORMAL_RATE = 2000  # background flow records per second


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def notify_script(path, log):
    """A notify script that logs the time it was called and its arguments."""
    write(path, f'#!/bin/sh\necho "$(date +%s.%N) $@" >> {log}\ncat > /dev/null\n', 0o755)


def tidewatch_config(work, port, fnm_port, threshold_pps):
    return f"""node:
  name: latency-bench
  state_dir: {work}
  inspector: {{listen: ""}}
  metrics: {{listen: ""}}
logging:
  level: info
pipelines:
  netflow:
    listeners:
      - {{address: 127.0.0.1, port: {port}}}
    replicators:
      - {{address: 127.0.0.1, port: {fnm_port}}}
    sinks:
      - type: stdout
    enrichment:
      prefix_file: {work}/ours.txt
    detector:
      enabled: true
      end_after: 5s
      ban_time: 30s
      thresholds: {{pps: {threshold_pps}, mbps: 1000}}
      notify: {{path: {work}/notify-tidewatch.sh, details_delay: 0s}}
"""


def fastnetmon_config(work, port, threshold_pps):
    """FastNetMon's packaged config with only the plumbing changed: NetFlow on
    a loopback port, our network, our notify script, files in `work`, no API,
    metrics or usage report. Detection settings stay the package's defaults."""
    overrides = {
        "netflow": "on",
        "netflow_host": "127.0.0.1",
        "netflow_port": str(port),
        "networks_list_path": f"{work}/networks_list",
        "white_list_path": f"{work}/networks_whitelist",
        "notify_script_path": f"{work}/notify-fastnetmon.sh",
        "threshold_pps": str(threshold_pps),
        "enable_api": "off",
        "prometheus": "off",
        "disable_usage_report": "on",
        "monitor_local_ip_addresses": "off",
        "pid_path": f"{work}/fastnetmon.pid",
        "cli_stats_file_path": f"{work}/fastnetmon.dat",
        "cli_stats_ipv6_file_path": f"{work}/fastnetmon_ipv6.dat",
    }
    lines = []
    with open("/etc/fastnetmon.conf") as f:
        for line in f:
            key = line.split("=", 1)[0].strip()
            if not line.lstrip().startswith("#") and key in overrides:
                line = f"{key} = {overrides.pop(key)}\n"
            lines.append(line)
    lines.extend(f"{k} = {v}\n" for k, v in overrides.items())
    return "".join(lines)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def ban_time(log, target, since):
    """The wall-clock time of the first ban of `target` after `since` in a
    notify log, or None."""
    for line in read(log).splitlines():
        fields = line.split()
        if (len(fields) >= 5 and fields[1] == target and fields[-1] == "ban"
                and float(fields[0]) >= since):
            return float(fields[0])
    return None


def banned_hosts(log):
    """Every address a notify log shows banned."""
    return {line.split()[1] for line in read(log).splitlines() if line.endswith(" ban")}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build directory with tidewatchd and flowgen")
    ap.add_argument("--multiples", default="2,20", help="flood rates as multiples of the threshold")
    ap.add_argument("--runs", type=int, default=3, help="floods per multiple")
    ap.add_argument("--threshold-pps", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10, help="flood duration (and wait limit)")
    ap.add_argument("--fastnetmon", default=shutil.which("fastnetmon") or "/usr/sbin/fastnetmon")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tidewatchd = os.path.join(build, "tidewatchd")
    flowgen = os.path.join(build, "tools", "flowgen")
    if not os.path.exists(flowgen):
        flowgen = os.path.join(build, "flowgen")
    if not os.path.exists(args.fastnetmon):
        sys.exit("fastnetmon not found: apt-get install -y fastnetmon")

    work = tempfile.mkdtemp(prefix="tidewatch-latency-")
    tw_port, fnm_port = free_udp_port(), free_udp_port()
    write(f"{work}/ours.txt", f"{NETWORK} servers\n")
    write(f"{work}/networks_list", NETWORK + "\n")
    write(f"{work}/networks_whitelist", "")
    tw_log, fnm_log = f"{work}/calls-tidewatch", f"{work}/calls-fastnetmon"
    notify_script(f"{work}/notify-tidewatch.sh", tw_log)
    notify_script(f"{work}/notify-fastnetmon.sh", fnm_log)
    write(f"{work}/node.yaml", tidewatch_config(work, tw_port, fnm_port, args.threshold_pps))
    write(f"{work}/fastnetmon.conf", fastnetmon_config(work, fnm_port, args.threshold_pps))

    daemons = []
    try:
        fnm_err = open(f"{work}/fastnetmon.log", "w")
        fnm = subprocess.Popen([args.fastnetmon, "--configuration_file", f"{work}/fastnetmon.conf",
                                "--log_to_console", "--disable_pid_logic"],
                               stdout=fnm_err, stderr=subprocess.STDOUT, cwd=work)
        daemons.append(fnm)
        tw_err = open(f"{work}/tidewatchd.log", "w")
        tw = subprocess.Popen([tidewatchd, "--config", f"{work}/node.yaml"],
                              stdout=subprocess.DEVNULL, stderr=tw_err, cwd=work)
        daemons.append(tw)
        if not wait_for(lambda: "listening on udp" in read(f"{work}/tidewatchd.log"), 10):
            sys.exit("tidewatchd did not start:\n" + read(f"{work}/tidewatchd.log"))
        if not wait_for(lambda: "netflow plugin will listen on" in read(f"{work}/fastnetmon.log"),
                        10):
            sys.exit("FastNetMon did not start:\n" + read(f"{work}/fastnetmon.log"))
        time.sleep(1)  # both past start-up

        rows = []
        host = 200
        for multiple in [float(x) for x in args.multiples.split(",")]:
            pps = multiple * args.threshold_pps
            for run in range(args.runs):
                target = f"100.64.0.{host}"
                host += 1
                cmd = [flowgen, "--protocol", "v9", "--target", f"127.0.0.1:{tw_port}",
                       "--rate", str(NORMAL_RATE), "--duration", str(args.seconds),
                       "--hosts", "1000", "--src-prefix", "10.0.0.0/8",
                       "--dst-prefix", NORMAL_PREFIX, "--seed", str(run + 1), "--attack", target,
                       "--attack-type", "syn", "--attack-rate", str(int(pps / 2))]
                start = time.time()
                sender = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
                wait_for(lambda: ban_time(tw_log, target, start) and
                         ban_time(fnm_log, target, start), args.seconds + 3)
                sender.wait()
                tw_ban, fnm_ban = ban_time(tw_log, target, start), ban_time(fnm_log, target, start)
                rows.append((multiple, pps, target,
                             None if tw_ban is None else tw_ban - start,
                             None if fnm_ban is None else fnm_ban - start))
                print(f"  {multiple:g}x {target}: tidewatchd {rows[-1][3]}, "
                      f"FastNetMon {rows[-1][4]}", file=sys.stderr)
                time.sleep(1)

        def text(x):
            return "no ban" if x is None else f"{x:.2f} s"

        print(f"| flood (SYN, pps) | target | tidewatchd | FastNetMon {fnm_version(args)} |")
        print("|---|---|---|---|")
        for multiple, pps, target, tw_s, fnm_s in rows:
            print(f"| {multiple:g}x ({pps:.0f}) | {target} | {text(tw_s)} | {text(fnm_s)} |")
        print()
        targets = {r[2] for r in rows}
        print(f"Hosts banned that only received the normal traffic ({NORMAL_RATE} flow records/s "
              f"over {NORMAL_PREFIX}): tidewatchd {len(banned_hosts(tw_log) - targets)}, "
              f"FastNetMon {len(banned_hosts(fnm_log) - targets)}")
        print()
        print("| flood | tidewatchd median (min-max) | FastNetMon median (min-max) |")
        print("|---|---|---|")
        for multiple in sorted({r[0] for r in rows}):
            cells = []
            for col in (3, 4):
                xs = [r[col] for r in rows if r[0] == multiple and r[col] is not None]
                misses = sum(1 for r in rows if r[0] == multiple and r[col] is None)
                cell = (f"{statistics.median(xs):.2f} s ({min(xs):.2f}-{max(xs):.2f})"
                        if xs else "no ban")
                cells.append(cell + (f", {misses} without ban" if xs and misses else ""))
            print(f"| {multiple:g}x | {cells[0]} | {cells[1]} |")
    finally:
        for p in daemons:
            p.send_signal(signal.SIGTERM)
        for p in daemons:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("TIDEWATCH_KEEP_TMP"):
            print("kept", work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def fnm_version(args):
    out = subprocess.run([args.fastnetmon, "--version"], capture_output=True, text=True)
    m = re.search(r"\d+\.\d+\.\d+", out.stdout + out.stderr)
    return m.group(0) if m else ""


if __name__ == "__main__":
    main()
