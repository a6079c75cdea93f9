#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/sink/json_encoder.hpp"
#include "actors/sink/spool.hpp"
#include "messages/flow.hpp"
#include "messages/stats.hpp"

struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;

namespace tidewatch {

/// Which address keys a Kafka message (and so picks its partition).
enum class kafka_key : uint8_t { none, exporter, src, dst };

/// Parses "none", "exporter", "src" or "dst"; false otherwise.
bool parse_kafka_key(std::string_view text, kafka_key& out);

struct kafka_producer_options {
  std::string brokers; ///< bootstrap.servers
  std::string topic;
  kafka_key key = kafka_key::none;
  /// librdkafka properties, set after (so overriding) the throughput defaults
  /// and the bounds below.
  std::map<std::string, std::string> properties;
  /// librdkafka's in-memory queue: what waits for (or is in flight to) the
  /// broker. Past either bound records go to the spool.
  uint64_t queue_max_messages = 100'000;
  uint64_t queue_max_bytes = 256ull << 20;
  /// Empty directory: no spool, records past the queue bound are dropped.
  tidewatch::spool::options spool;
  std::chrono::milliseconds flush_timeout{5'000};
  json_encoder::options json;
  /// Flow records per message (pmacct's kafka_multi_values): up to this many
  /// JSON lines, newline-separated, in one message, all of one key (a
  /// message is cut where the key changes) and at most
  /// max_multi_record_bytes. Fewer, larger messages cost the producer and
  /// the broker much less per record.
  uint32_t records_per_message = 1;
};

/// A message of several records is cut before it grows past this, well
/// under librdkafka's default message.max.bytes (1,000,000).
inline constexpr size_t max_multi_record_bytes = 512 * 1024;

/// The throughput defaults a Kafka sink starts from, before the configured
/// properties: large batches, a short linger, lz4.
std::vector<std::pair<std::string, std::string>> kafka_default_properties();

/// Checks one librdkafka property name and value as librdkafka would; false
/// with librdkafka's text in error.
bool check_kafka_property(const std::string& name, const std::string& value, std::string* error);

/// Sends flow records to one Kafka topic as JSON (one message per record,
/// json_encoder's object without the newline, or several newline-separated
/// records per message), keyed as configured.
///
/// Records go into librdkafka's bounded in-memory queue. When it is full they
/// are appended to the spool instead, and while the spool holds anything,
/// new records are appended behind it too, so that they leave in the order
/// they came; poll() moves spooled records into the queue as it drains. A
/// delivery that fails (message timeout, broker error, or a purge at close)
/// is counted and its record goes back to the spool. Records are dropped,
/// and counted, only when the queue and the spool are both full.
///
/// All calls come from one thread; delivery reports are served inside poll()
/// and close(). Not thread-safe.
class kafka_producer {
public:
  kafka_producer() = default;
  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;
  /// close()s when still open.
  ~kafka_producer();

  /// Creates the librdkafka producer and opens the spool (whose segments,
  /// left by an earlier run, are sent before any new record). False with a
  /// text in error on a bad property or an unusable spool directory.
  bool open(const kafka_producer_options& o, std::string* error);

  /// Encodes and enqueues (or spools, or drops) each record of the batch
  /// (flow records, or aggregated ones). Never blocks.
  void write(const flow_batch& batch);
  /// The same for the counter records of the sflow pipeline's counter
  /// samples (sfacctd's counter-file JSON, one message per record); the key
  /// `exporter` is the agent's address, src and dst key nothing.
  void write(const counter_batch& batch);

  /// Serves delivery reports and moves spooled records into the queue while
  /// it has room. Call often (after each batch and on a short timer).
  void poll();

  /// Waits up to flush_timeout for the queue to be delivered, then takes back
  /// what is still queued or in flight into the spool and syncs the spool to
  /// disk. Records still arriving afterwards go to the spool.
  void close();

  /// Counters for stats: delivered, failed, requeued, spooled, dropped
  /// (all in records, whatever the records per message), retries, queue
  /// and spool levels.
  void collect(std::vector<counter_value>& out) const;

  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }
  uint64_t dropped() const { return dropped_full_ + dropped_rejected_; }
  uint64_t spooled() const { return spooled_; }
  /// Messages waiting in librdkafka's queue or in flight.
  uint64_t queue_length() const;
  const spool& spooled_records() const { return spool_; }

private:
  /// Delivery reports of one spool segment still outstanding; the segment is
  /// deleted once all its messages were produced and reported.
  struct segment_tracker {
    uint64_t id = 0;
    uint64_t outstanding = 0;
    bool all_produced = false;
  };

  enum class produce_result { queued, queue_full, rejected };

  static void on_delivery(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);
  static int on_stats(rd_kafka_s* rk, char* json, size_t length, void* opaque);
  void delivered(const rd_kafka_message_s& msg);
  /// Hands one message of `records` records to librdkafka; `tracker` is the
  /// spool segment it comes from, if any.
  produce_result produce(std::string_view key, std::string_view value, uint64_t records,
                         segment_tracker* tracker);
  void to_spool(std::string_view key, std::string_view value, uint64_t records);
  /// Enqueues one message, behind the spool while it holds any.
  void send(std::string_view key, std::string_view value, uint64_t records);
  /// Sends value_ (`records` JSON lines) as one message without the last
  /// newline, and empties it.
  void send_records(std::string_view key, uint64_t records);
  void drain_spool();
  void release_if_done(uint64_t id);

  kafka_producer_options opts_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_topic_s* topic_ = nullptr;
  json_encoder encoder_;
  std::string value_;        ///< one encoded record, reused
  uint64_t counter_seq_ = 0; ///< `seq` of the counter records, per sink as sfacctd numbers them
  spool spool_;
  bool use_spool_ = false;
  /// True while the spool holds records not yet handed to the queue: new
  /// records then queue behind them in the spool.
  bool spool_pending_ = false;
  spool::segment loaded_; ///< the spool segment being moved into the queue
  size_t loaded_next_ = 0;
  bool loaded_valid_ = false;
  std::map<uint64_t, segment_tracker> trackers_;

  uint64_t produced_ = 0;
  uint64_t spooled_ = 0;
  uint64_t delivered_ = 0;
  uint64_t failed_ = 0;
  uint64_t requeued_ = 0;
  uint64_t unspooled_ = 0;
  uint64_t dropped_full_ = 0;
  uint64_t dropped_rejected_ = 0;
  uint64_t broker_retries_ = 0;
  uint64_t queue_full_events_ = 0;
};

} // namespace tidewatch
