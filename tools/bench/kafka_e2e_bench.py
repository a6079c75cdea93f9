#!/usr/bin/python3
"""End-to-end benchmark with Kafka output: flowgen -> collector -> Kafka, for
tidewatchd (kafka sink, lz4) and, in the same run, pmacct's nfacctd (kafka
plugin, JSON, lz4, every primitive), on the same load.

The broker is kmock (librdkafka's mock cluster in its own process), a fresh
one per run, with a 4096-partition topic: the mock keeps at most 5 MiB per
partition, so many partitions keep a run's whole output readable. After each
run kcat reads the topic back; what arrived is the sum of `packets` (so that
nfacctd's aggregation does not hide records). Kernel drops on the collector's
socket, CPU (collector's process tree) and peak RSS are reported as in
e2e_bench.py, and per collector the highest rate with < 0.1 % loss and no
kernel drops, and the ratio.

Usage: kafka_e2e_bench.py --build DIR [--protocol ipfix] [--seconds 4]
                          [--rates 50000,100000,...] [--collectors tidewatchd,tidewatchd-fields,tidewatchd-multi,tidewatchd-fields-multi,nfacctd,nfacctd-multi]
Loopback only. The machine is shared and noisy: compare ratios within one run.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_bench import (NFACCTD_OUTPUT_KEYS, PMACCT_PRIMITIVES, free_udp_port,  # noqa: E402
                       proc_cpu_seconds, proc_peak_rss_mb, udp_drops, wait_bound)

PARTITIONS = 4096


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class broker:
    def __init__(self, build, workdir):
        self.port = free_tcp_port()
        bootstrap = os.path.join(workdir, "bootstrap")
        self.proc = subprocess.Popen([os.path.join(build, "tools", "kmock"), "-t",
                                      f"netflow:{PARTITIONS}", "-p", str(self.port), "-f",
                                      bootstrap], stdout=subprocess.DEVNULL)
        while not os.path.exists(bootstrap):
            time.sleep(0.01)

    def summary(self):
        """(records, sum of packets) in topic netflow: a line per record, also
        for messages of several records."""
        kcat = subprocess.Popen(["kcat", "-C", "-b", f"127.0.0.1:{self.port}", "-t", "netflow",
                                 "-o", "beginning", "-e", "-q", "-f", "%s\n"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        records = packets = 0
        pattern = re.compile(rb'"packets": ?(\d+)')
        for line in kcat.stdout:
            m = pattern.search(line)
            if m:
                records += 1
                packets += int(m.group(1))
        kcat.wait()
        return records, packets

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


class tidewatchd:
    name = "tidewatchd"
    settle_seconds = 0.5
    # Extra keys of the Kafka sink: none, one message per flow with every key.
    sink_extra = ""

    def __init__(self, build, workdir, port, kafka_port):
        cfg = os.path.join(workdir, "node.yaml")
        with open(cfg, "w") as f:
            f.write(f"node:\n  state_dir: {workdir}\n  shutdown_timeout: 60s\nlogging:\n"
                    f"  level: info\npipelines:\n  netflow:\n    listeners:\n"
                    f"      - {{address: 127.0.0.1, port: {port}}}\n"
                    f"    receive_buffer_bytes: 64MiB\n"
                    f"    sinks:\n      - type: kafka\n        brokers: 127.0.0.1:{kafka_port}\n"
                    f"        queue_max_messages: 1000000\n        queue_max_bytes: 1GiB\n"
                    f"        flush_timeout: 50s\n"
                    # Keyless records stick to one partition for this long; the
                    # mock keeps at most 5 MiB per partition, which the default
                    # 10 ms of a fast run can exceed (acknowledged, then evicted).
                    f"        properties: {{sticky.partitioning.linger.ms: 2}}\n"
                    f"{self.sink_extra}")
        self.log = os.path.join(workdir, "tidewatchd.err")
        self.proc = subprocess.Popen([os.path.join(build, "tidewatchd"), "--config", cfg],
                                     stderr=open(self.log, "w"))

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=90)

    def accounting(self):
        """What tidewatchd says it decoded, delivered and dropped, so that a
        loss can be placed: in tidewatchd or downstream (the broker)."""
        with open(self.log) as f:
            text = f.read()
        out = {}
        m = re.search(r"decoded (\d+) records", text)
        if m:
            out["decoded"] = int(m.group(1))
        m = re.search(r"(\d+) records in, (\d+) delivered, (\d+) failed deliveries, (\d+) "
                      r"spooled, (\d+) dropped", text)
        if m:
            out.update(zip(["sink_in", "delivered", "failed", "spooled", "dropped"],
                           map(int, m.groups())))
        return out


class tidewatchd_fields(tidewatchd):
    """One message per flow with the keys nfacctd sends here (`fields`)."""
    name = "tidewatchd-fields"
    sink_extra = "        fields: [" + ", ".join(NFACCTD_OUTPUT_KEYS) + "]\n"


class tidewatchd_multi(tidewatchd):
    """Every key, 100 records per message (`records_per_message`, pmacct's
    kafka_multi_values)."""
    name = "tidewatchd-multi"
    sink_extra = "        records_per_message: 100\n"


class tidewatchd_fields_multi(tidewatchd):
    """nfacctd's keys (`fields`), 100 records per message: what a user who
    wants nfacctd's output and Kafka efficiency sets."""
    name = "tidewatchd-fields-multi"
    sink_extra = tidewatchd_fields.sink_extra + tidewatchd_multi.sink_extra


class nfacctd:
    name = "nfacctd"
    settle_seconds = 2.0
    extra = ""

    def __init__(self, build, workdir, port, kafka_port):
        cfg = os.path.join(workdir, "nfacctd.conf")
        rdkafka = os.path.join(workdir, "rdkafka.csv")
        with open(rdkafka, "w") as f:
            f.write("global, compression.codec, lz4\nglobal, linger.ms, 20\n")
        with open(cfg, "w") as f:
            f.write(f"daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n"
                    f"nfacctd_pipe_size: 67108864\nplugins: kafka\nkafka_output: json\n"
                    f"kafka_broker_host: 127.0.0.1\nkafka_broker_port: {kafka_port}\n"
                    f"kafka_topic: netflow\nkafka_refresh_time: 1\n"
                    f"kafka_cache_entries: 262147\nkafka_config_file: {rdkafka}\n"
                    f"aggregate: {PMACCT_PRIMITIVES}\n" + self.extra)
        self.proc = subprocess.Popen(["nfacctd", "-f", cfg], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(workdir, "nfacctd.err"), "w"))

    def finish(self):
        time.sleep(5)  # several refresh intervals: everything received is sent
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class nfacctd_multi(nfacctd):
    """nfacctd with several records per message, as tidewatchd-fields-multi:
    kafka_multi_values is the message buffer in bytes (with 100 it refuses
    to start: "not large enough to store JSON elements"); 64 KiB holds
    about 100 of its ~600-byte records."""
    name = "nfacctd-multi"
    extra = "kafka_multi_values: 65536\n"


def run_once(kind, build, protocol, rate, seconds):
    with tempfile.TemporaryDirectory(prefix=f"kbench-{kind.name}-", dir="/dev/shm") as workdir:
        kafka = broker(build, workdir)
        port = free_udp_port()
        collector = kind(build, workdir, port, kafka.port)
        try:
            if not wait_bound(port):
                raise RuntimeError(f"{kind.name} did not bind port {port}")
            time.sleep(kind.settle_seconds)
            cpu0 = proc_cpu_seconds(collector.proc.pid)
            t0 = time.time()
            gen = subprocess.run([os.path.join(build, "tools", "flowgen"), "--target",
                                  f"127.0.0.1:{port}", "--protocol", protocol, "--rate",
                                  str(rate), "--duration", str(seconds), "--hosts", "50000",
                                  "--json"], capture_output=True, text=True, check=True)
            sent = json.loads(gen.stdout)
            time.sleep(0.5)
            drops = udp_drops(port)
            cpu = proc_cpu_seconds(collector.proc.pid) - cpu0
            wall = time.time() - t0
            rss = proc_peak_rss_mb(collector.proc.pid)
            collector.finish()
            accounting = collector.accounting() if hasattr(collector, "accounting") else {}
            records, packets = kafka.summary()
        finally:
            if collector.proc.poll() is None:
                collector.proc.kill()
            kafka.stop()
        loss = 1 - packets / sent["packets"] if sent["packets"] else 1.0
        return {"collector": kind.name, "rate": rate, "sent_records": sent["records"],
                "achieved_rate": sent["records_per_s"], "records": records, "loss": loss,
                "kernel_drops": drops, "cpu": cpu / wall, "rss_mb": rss,
                "accounting": accounting}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--protocol", default="ipfix")
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rates", default="25000,50000,100000,200000,300000,400000,600000,800000")
    ap.add_argument("--collectors", default="tidewatchd,nfacctd")
    args = ap.parse_args()
    kinds = {"tidewatchd": tidewatchd, "tidewatchd-fields": tidewatchd_fields,
             "tidewatchd-fields-multi": tidewatchd_fields_multi,
             "tidewatchd-multi": tidewatchd_multi, "nfacctd": nfacctd,
             "nfacctd-multi": nfacctd_multi}
    best = {}
    print(f"{'collector':<24} {'asked/s':>9} {'sent/s':>9} {'sent':>9} {'records':>9} "
          f"{'loss %':>7} {'k.drops':>8} {'CPU %':>6} {'RSS MB':>7}")
    for name in args.collectors.split(","):
        for rate in [int(r) for r in args.rates.split(",")]:
            r = run_once(kinds[name], args.build, args.protocol, rate, args.seconds)
            print(f"{r['collector']:<24} {rate:>9} {r['achieved_rate']:>9.0f} "
                  f"{r['sent_records']:>9} {r['records']:>9} {100 * r['loss']:>7.3f} "
                  f"{r['kernel_drops']:>8} {100 * r['cpu']:>6.0f} {r['rss_mb']:>7.1f}", flush=True)
            if r["accounting"]:
                print("            tidewatchd's own accounting: " +
                      ", ".join(f"{k} {v}" for k, v in r["accounting"].items()), flush=True)
            if r["loss"] < 0.001 and r["kernel_drops"] == 0:
                best[name] = max(best.get(name, 0), r["achieved_rate"])
            elif r["loss"] > 0.05:
                break  # far past its limit; higher rates only take longer
    print()
    for name, rate in best.items():
        print(f"highest loss-free rate, {name}: {rate:,.0f} records/s")
    for ours in ("tidewatchd", "tidewatchd-fields", "tidewatchd-multi", "tidewatchd-fields-multi"):
        for theirs in ("nfacctd", "nfacctd-multi"):
            if ours in best and best.get(theirs, 0) > 0:
                print(f"ratio {ours} / {theirs}: {best[ours] / best[theirs]:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
