#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tidewatch {

// -- the configuration of one node, as read from YAML ----------------------------
// Every field has its default here; config/schema.cpp names each field once for
// reading, validating and printing, so the three cannot drift apart.

/// The node's inspector, which the `tidewatch` CLI and other nodes talk to.
struct inspector_config {
  /// host:port ("[::1]:7790" for IPv6); empty: no inspector. Listening on
  /// anything but loopback requires TLS (certificate, key and ca_file).
  std::string listen = "127.0.0.1:7790";
  std::string certificate; ///< PEM certificate (chain) of this node
  std::string key;         ///< PEM private key of `certificate`
  /// PEM CA certificates: clients must present a certificate signed by one.
  std::string ca_file;
};

/// The Prometheus endpoint: GET /metrics on `listen`.
struct metrics_config {
  std::string listen = "127.0.0.1:9790"; ///< host:port; empty: no endpoint
};

struct node_section {
  std::string name = "tidewatch";
  std::string state_dir = "/var/lib/tidewatch"; ///< template cache and other state
  uint32_t scheduler_threads = 0;               ///< 0: one per core
  std::chrono::milliseconds shutdown_timeout{10'000};
  inspector_config inspector;
  metrics_config metrics;
};

struct logging_config {
  std::string level = "info";
  bool syslog = false;
  std::string syslog_ident; ///< empty: the program name
  std::string syslog_facility = "daemon";
};

struct supervision_config {
  uint32_t max_restarts = 5; ///< within `window`; one more and the process exits non-zero
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{10'000};
};

struct listener_config {
  std::string address = "::"; ///< "::" listens on IPv4 and IPv6
  uint16_t port = 0;
};

struct decoder_config {
  /// Data whose template has not arrived yet waits this long, at most this
  /// many datagrams per exporter, before it is counted as lost.
  uint32_t pending_max_datagrams = 256;
  std::chrono::milliseconds pending_max_age{5'000};
  /// Templates are saved here (empty: <state_dir>/<pipeline>-templates.bin).
  std::string template_file;
  std::chrono::milliseconds template_save_interval{5'000};
};

struct sink_config {
  std::string type = "file"; ///< file | stdout | kafka
  std::string path;          ///< file: the current output file
  uint64_t rotate_bytes = 256ull << 20;
  std::chrono::milliseconds rotate_interval{3'600'000};
  // -- kafka --
  std::string topic{};                             ///< empty: the pipeline's name
  std::string brokers{};                           ///< bootstrap.servers
  std::string key = "none";                        ///< none | exporter | src | dst
  std::map<std::string, std::string> properties{}; ///< any librdkafka property, passed through
  uint64_t queue_max_messages = 100'000;           ///< librdkafka's in-memory queue
  uint64_t queue_max_bytes = 256ull << 20;
  std::string spool_dir{}; ///< empty: <state_dir>/<pipeline>-kafka-spool[-<index>]
  uint64_t spool_max_bytes = 1ull << 30;
  std::chrono::milliseconds flush_timeout{5'000}; ///< at shutdown; the rest is spooled
  /// Flow records per message, newline-separated (pmacct's
  /// kafka_multi_values); 1: one message per record.
  uint32_t records_per_message = 1;
  bool unscaled_counters = false; ///< also print packets/bytes before sampling extrapolation
  /// The keys of each per-flow line (json_field names such as ip_src,
  /// bytes), printed in the usual order; empty: every key.
  std::vector<std::string> fields{};
  /// The traffic scopes (inbound, outbound, internal, external, unknown) this
  /// sink takes; empty: all. The sflow pipeline's sinks default to internal.
  std::vector<std::string> scopes{};
  /// Aggregation before this sink (pmacct's `aggregate`): the primitives
  /// that make the key (src_host, dst_host, proto, ...); empty: one record
  /// per flow. Bytes, packets and flows are summed per key and interval.
  std::vector<std::string> aggregate{};
  std::chrono::milliseconds aggregate_interval{60'000};
  /// flows: the enriched flow records; counters: the sflow pipeline's
  /// interface counter samples, as sfacctd writes its counter file.
  std::string records = "flows";
};

struct sampling_rule_config {
  std::string exporter; ///< address or prefix
  uint32_t rate = 1;    ///< 1 in N packets
};

struct sampling_config {
  /// Sources tried in order, the first knowing a rate wins: override (the
  /// `overrides` list), export (what the export says), default (`defaults`,
  /// then `default_rate`).
  std::vector<std::string> precedence = {"override", "export", "default"};
  std::vector<sampling_rule_config> overrides;
  std::vector<sampling_rule_config> defaults;
  uint32_t default_rate = 0; ///< 0: none; records of unknown rate stay unscaled
};

struct enrichment_config {
  std::string prefix_file;           ///< our prefixes, `PREFIX [NAME]` per line; empty: none
  std::string country_database;      ///< MaxMind-format file with countries; empty: none
  std::string asn_database;          ///< MaxMind-format file with AS numbers and names
  std::string asn_fill = "missing";  ///< never | missing | always: AS numbers from asn_database
  std::string bgp_as = "prefer_bgp"; ///< prefer_bgp | prefer_export: AS numbers from BGP routes
  std::string region;                ///< a site label put on every record
  /// Recent addresses whose prefix and database facts are kept (32 bytes
  /// each); 0: every address is looked up. See README, enricher benchmark.
  uint64_t address_cache = uint64_t(1) << 20;
  sampling_config sampling;
};

/// One receiver of copies of the pipeline's datagrams (samplicator's
/// `-S address/port/N`).
struct replicator_config {
  std::string address; ///< IPv4 or IPv6
  uint16_t port = 0;
  uint32_t sample_one_in = 1; ///< 1: every datagram; N: every N-th (the 1st, N+1st, ...)
  std::vector<std::string> from_exporters; ///< addresses or prefixes; empty: all
  bool keep_source = false; ///< send from the exporter's address and port (needs CAP_NET_RAW)
};

/// Rates per second that make a host (or a hostgroup's total) a target;
/// 0 turns a threshold off. Per kind of traffic: all, TCP, TCP SYN (without
/// ACK), UDP, ICMP, IP fragments; each in packets, megabits and flows.
struct threshold_config {
  uint64_t pps = 0;
  uint64_t mbps = 0;
  uint64_t flows = 0;
  uint64_t tcp_pps = 0;
  uint64_t tcp_mbps = 0;
  uint64_t tcp_flows = 0;
  uint64_t syn_pps = 0;
  uint64_t syn_mbps = 0;
  uint64_t syn_flows = 0;
  uint64_t udp_pps = 0;
  uint64_t udp_mbps = 0;
  uint64_t udp_flows = 0;
  uint64_t icmp_pps = 0;
  uint64_t icmp_mbps = 0;
  uint64_t icmp_flows = 0;
  uint64_t fragment_pps = 0;
  uint64_t fragment_mbps = 0;
  uint64_t fragment_flows = 0;
};

/// A named set of prefixes with its own thresholds.
struct hostgroup_config {
  std::string name;
  std::vector<std::string> prefixes;
  threshold_config thresholds;       ///< per host inside; all 0: the global ones
  threshold_config group_thresholds; ///< on the group's total (carpet bombing); all 0: none
};

/// Where the detector writes one file per attack.
struct attack_details_config {
  bool enabled = true;
  std::string directory = "/var/log/tidewatch/attacks";
};

/// A script called like FastNetMon's notify script: `SCRIPT IP DIRECTION PPS
/// ACTION` (ban, attack_details, unban), the attack's details on stdin.
struct notify_script_config {
  std::string path; ///< empty: none
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds details_delay{5'000}; ///< after ban: attack_details
};

/// A mail per ban and unban through a sendmail-compatible command that reads
/// the message, headers included, on stdin.
struct email_config {
  bool enabled = false;
  std::string command = "/usr/sbin/sendmail -t";
  std::string from = "tidewatch@localhost";
  std::vector<std::string> to;
  std::chrono::milliseconds timeout{30'000};
};

/// Announce a host route for the attacked address to the BGP speaker's
/// blackhole neighbors at ban, withdraw it at unban.
struct blackhole_config {
  bool enabled = false;
  std::vector<std::string> communities = {"65535:666"};
};

/// The DoS detector of a pipeline.
struct detector_config {
  bool enabled = false;
  std::chrono::milliseconds bucket{1'000}; ///< the rate window
  uint32_t min_windows = 1;                ///< consecutive buckets over a threshold before a ban
  std::chrono::milliseconds end_after{10'000}; ///< below all thresholds this long: attack over
  std::chrono::milliseconds ban_time{60'000};  ///< a ban lasts at least this long
  std::chrono::milliseconds host_idle_timeout{60'000};
  uint64_t max_hosts = 1'048'576;
  bool outgoing = true; ///< also watch traffic our hosts send
  /// mbps thresholds count only with at least this many flows/s: a single
  /// large download never bans its host.
  uint64_t bandwidth_min_flows = 10;
  threshold_config thresholds;
  std::vector<hostgroup_config> hostgroups;
  std::vector<std::string> whitelist; ///< addresses or prefixes never banned
  uint32_t recent_attacks = 100;      ///< ended attacks `tidewatch attacks` still shows
  attack_details_config details;
  notify_script_config notify;
  email_config email;
  bool syslog = true; ///< a syslog line per ban and unban
  blackhole_config blackhole;
};

struct pipeline_config {
  bool enabled = true;
  std::vector<listener_config> listeners;
  uint32_t receive_threads = 1;
  uint64_t receive_buffer_bytes = 32ull << 20;
  uint32_t receive_batch = 64; ///< datagrams per recvmmsg call and per batch
  /// How long a listener waits to fill a batch that its first read left
  /// short (0: pass on what one read returns). Fewer, fuller batches at low
  /// rates; see udp_receiver::options::linger.
  std::chrono::milliseconds receive_linger{2};
  std::vector<std::string> allowed_exporters; ///< addresses or prefixes; empty: all
  decoder_config decoder;
  enrichment_config enrichment;
  /// No sinks: no decoding either (with replicators: a samplicator replacement).
  std::vector<sink_config> sinks;
  std::vector<replicator_config> replicators;
  detector_config detector;
};

/// A pipeline that runs only when the file enables it.
inline pipeline_config disabled_pipeline() {
  pipeline_config p;
  p.enabled = false;
  return p;
}

struct pipelines_config {
  pipeline_config netflow;
  /// sFlow v5 (default listener UDP 6343). Off unless enabled, so that a node
  /// runs only the pipelines it is given; the decoder section's template keys
  /// do not apply to sFlow.
  pipeline_config sflow = disabled_pipeline();
};

/// One BGP neighbor (a router that exports flows and sends its table).
struct bgp_neighbor_config {
  std::string address;                ///< the router's session address
  uint32_t remote_as = 0;             ///< the AS it must open with
  std::vector<std::string> exporters; ///< other addresses its flow exports come from
  bool announce_blackhole = false;    ///< send it the detector's blackhole routes
};

/// The node's BGP speaker: passive sessions from routers, one routing table
/// each, used to enrich the flows they export.
struct bgp_config {
  bool enabled = false;
  std::string address = "::"; ///< listen address
  uint16_t port = 179;
  uint32_t local_as = 0;
  std::string router_id; ///< IPv4 dotted quad
  std::chrono::milliseconds hold_time{90'000};
  std::chrono::milliseconds restart_time{120'000}; ///< graceful restart time we advertise
  std::string blackhole_next_hop = "192.0.2.1";    ///< next hop of announced IPv4 blackholes
  std::string blackhole_next_hop_v6 = "100::1";    ///< next hop of announced IPv6 blackholes
  std::vector<bgp_neighbor_config> neighbors;
};

/// One node of a cluster: the address of its inspector (which the other
/// nodes and the CLI connect to) and the roles it runs.
struct cluster_node_config {
  std::string name;
  std::string inspector;          ///< host:port; it replaces node.inspector.listen there
  std::string metrics;            ///< host:port of its /metrics; empty: node.metrics.listen
  std::vector<std::string> roles; ///< netflow, sflow, bgp: each on exactly one node
};

/// Several tidewatchd processes sharing one file, each selecting its part by
/// node name (node.name or `tidewatchd --node NAME`). Without nodes, one
/// process runs everything the file enables.
struct cluster_config {
  std::vector<cluster_node_config> nodes;
  std::chrono::milliseconds retry_initial{500}; ///< first delay before reconnecting to a node
  std::chrono::milliseconds retry_max{30'000};  ///< the delay doubles up to this
  /// How long enrichers keep (marked stale) the routes of a BGP speaker on a
  /// node that went away; the speaker's fresh copy replaces them when it is back.
  std::chrono::milliseconds bgp_stale_time{300'000};
};

struct tidewatch_config {
  node_section node;
  logging_config logging;
  supervision_config supervision;
  pipelines_config pipelines;
  bgp_config bgp;
  cluster_config cluster;
};

/// One problem found in a configuration file.
struct config_error {
  std::string file;
  int line = 0;         ///< 1-based; 0 when unknown
  std::string key_path; ///< e.g. pipelines.netflow.listeners[1].port
  std::string message;

  /// `file:line: key.path: message`
  std::string to_string() const;
};

/// The defaults an empty file yields.
tidewatch_config default_config();

/// Reads and validates YAML text; `file` names it in errors. All problems are
/// reported, not only the first. `out` holds the effective config when no
/// error was found. A non-empty `node_name` replaces node.name (`tidewatchd
/// --node`) before the cluster placement is checked.
std::vector<config_error> parse_config(const std::string& yaml_text, const std::string& file,
                                       tidewatch_config& out, const std::string& node_name = {});

/// Reads a file (a missing or unreadable file is one error).
std::vector<config_error> load_config_file(const std::string& path, tidewatch_config& out,
                                           const std::string& node_name = {});

/// This process's entry in cluster.nodes (by node.name); null without a cluster.
const cluster_node_config* this_cluster_node(const tidewatch_config& cfg);

/// The cluster node that runs `role` ("netflow", "sflow", "bgp"); null
/// without a cluster or when no node runs it.
const cluster_node_config* cluster_node_running(const tidewatch_config& cfg,
                                                const std::string& role);

/// Whether this process runs `role`: without a cluster, whatever the file
/// enables; in a cluster, only the roles placed on this node.
bool runs_role(const tidewatch_config& cfg, const std::string& role);

/// The effective configuration as YAML, defaults filled in; parsing the
/// result yields the same configuration.
std::string render_config(const tidewatch_config& cfg);

/// Parses a standard BGP community "AS:VALUE" (each 0-65535) into
/// (AS << 16) | VALUE; false on malformed text.
bool parse_community(const std::string& text, uint32_t& out);

/// Splits "host:port" ("[v6-address]:port" for IPv6; port 0 lets the kernel
/// choose); false when malformed.
bool parse_host_port(const std::string& text, std::string& host, uint16_t& port);

/// Whether `host` is a loopback address (127.0.0.0/8, ::1) or "localhost".
bool is_loopback_host(const std::string& host);

/// syslog(3) facility code for a name such as "daemon" or "local3".
int syslog_facility_code(const std::string& name);

} // namespace tidewatch
