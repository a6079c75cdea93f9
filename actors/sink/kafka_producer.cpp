#include "actors/sink/kafka_producer.hpp"

#include <charconv>
#include <cstring>

#include <librdkafka/rdkafka.h>

namespace tidewatch {

namespace {

/// Writes the key of r at out (46 bytes); returns its length.
size_t format_key(kafka_key key, const flow_record& r, char* out) {
  switch (key) {
  case kafka_key::none:
    return 0;
  case kafka_key::exporter:
    return r.exporter.format(out);
  case kafka_key::src:
    return r.src_addr.format(out);
  case kafka_key::dst:
    return r.dst_addr.format(out);
  }
  return 0;
}

/// Sums every `"name":N` in a librdkafka statistics JSON text.
uint64_t sum_json_counter(std::string_view json, std::string_view name) {
  uint64_t total = 0;
  for (auto at = json.find(name); at != std::string_view::npos; at = json.find(name, at + 1)) {
    auto p = json.data() + at + name.size();
    uint64_t value = 0;
    if (std::from_chars(p, json.data() + json.size(), value).ec == std::errc{})
      total += value;
  }
  return total;
}

/// The records in one message: its lines.
uint64_t records_in(std::string_view value) {
  uint64_t n = 1;
  for (auto at = value.find('\n'); at != std::string_view::npos; at = value.find('\n', at + 1))
    ++n;
  return n;
}

} // namespace

bool parse_kafka_key(std::string_view text, kafka_key& out) {
  static constexpr std::pair<std::string_view, kafka_key> names[] = {
      {"none", kafka_key::none},
      {"exporter", kafka_key::exporter},
      {"src", kafka_key::src},
      {"dst", kafka_key::dst}};
  for (auto& [name, key] : names)
    if (name == text) {
      out = key;
      return true;
    }
  return false;
}

std::vector<std::pair<std::string, std::string>> kafka_default_properties() {
  return {{"compression.type", "lz4"},
          {"linger.ms", "20"},
          {"batch.num.messages", "10000"},
          {"batch.size", "1000000"},
          {"statistics.interval.ms", "1000"}};
}

bool check_kafka_property(const std::string& name, const std::string& value, std::string* error) {
  char text[512];
  auto* conf = rd_kafka_conf_new();
  bool ok =
      rd_kafka_conf_set(conf, name.c_str(), value.c_str(), text, sizeof(text)) == RD_KAFKA_CONF_OK;
  rd_kafka_conf_destroy(conf);
  if (!ok && error)
    *error = text;
  return ok;
}

kafka_producer::~kafka_producer() {
  close();
}

bool kafka_producer::open(const kafka_producer_options& o, std::string* error) {
  opts_ = o;
  encoder_ = json_encoder{opts_.json};
  use_spool_ = !opts_.spool.directory.empty();
  if (use_spool_ && !spool_.open(opts_.spool, error))
    return false;
  spool_pending_ = use_spool_ && !spool_.empty();
  char text[512];
  auto* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), text, sizeof(text)) ==
        RD_KAFKA_CONF_OK)
      return true;
    if (error)
      *error = "property " + name + ": " + text;
    return false;
  };
  bool ok = set("bootstrap.servers", opts_.brokers);
  for (auto& [name, value] : kafka_default_properties())
    ok = ok && set(name, value);
  ok = ok && set("queue.buffering.max.messages", std::to_string(opts_.queue_max_messages)) &&
       set("queue.buffering.max.kbytes",
           std::to_string(std::max<uint64_t>(1, opts_.queue_max_bytes / 1024)));
  for (auto& [name, value] : opts_.properties)
    ok = ok && set(name, value);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return false;
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &kafka_producer::on_delivery);
  rd_kafka_conf_set_stats_cb(conf, &kafka_producer::on_stats);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, text, sizeof(text));
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    if (error)
      *error = text;
    return false;
  }
  topic_ = rd_kafka_topic_new(rk_, opts_.topic.c_str(), nullptr);
  if (!topic_) {
    if (error)
      *error = std::string("topic ") + opts_.topic + ": " + rd_kafka_err2str(rd_kafka_last_error());
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    return false;
  }
  return true;
}

kafka_producer::produce_result kafka_producer::produce(std::string_view key, std::string_view value,
                                                       uint64_t records, segment_tracker* tracker) {
  if (!topic_)
    return produce_result::queue_full;
  // The delivery report gets back either the spool segment's tracker or,
  // for a fresh message, its record count tagged by the low bit (a tracker
  // is aligned), so that counting never rescans a message.
  void* opaque =
      tracker ? static_cast<void*>(tracker) : reinterpret_cast<void*>(uintptr_t(records << 1 | 1));
  if (rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                       const_cast<char*>(value.data()), value.size(),
                       key.empty() ? nullptr : key.data(), key.size(), opaque) == 0) {
    produced_ += records;
    return produce_result::queued;
  }
  if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    ++queue_full_events_;
    return produce_result::queue_full;
  }
  return produce_result::rejected;
}

void kafka_producer::to_spool(std::string_view key, std::string_view value, uint64_t records) {
  if (use_spool_ && spool_.append(key, value)) {
    spool_pending_ = true;
    spooled_ += records;
  } else {
    dropped_full_ += records;
  }
}

void kafka_producer::send(std::string_view key, std::string_view value, uint64_t records) {
  if (spool_pending_) {
    to_spool(key, value, records);
    return;
  }
  switch (produce(key, value, records, nullptr)) {
  case produce_result::queued:
    break;
  case produce_result::queue_full:
    to_spool(key, value, records);
    break;
  case produce_result::rejected:
    dropped_rejected_ += records;
    break;
  }
}

void kafka_producer::send_records(std::string_view key, uint64_t records) {
  value_.pop_back(); // the newline that ends the last JSON line
  send(key, value_, records);
  value_.clear();
}

void kafka_producer::write(const flow_batch& batch) {
  char key[64];
  char message_key[64];
  std::string_view current_key;
  uint32_t in_message = 0;
  value_.clear();
  for (auto& r : batch.records) {
    std::string_view record_key(key, format_key(opts_.key, r, key));
    if (in_message > 0 && (in_message == opts_.records_per_message || record_key != current_key ||
                           value_.size() >= max_multi_record_bytes)) {
      send_records(current_key, in_message);
      in_message = 0;
    }
    if (in_message == 0) {
      std::memcpy(message_key, record_key.data(), record_key.size());
      current_key = {message_key, record_key.size()};
    }
    encoder_.encode_any(r, batch, value_);
    ++in_message;
  }
  if (in_message > 0)
    send_records(current_key, in_message);
}

void kafka_producer::write(const counter_batch& batch) {
  char key[64];
  for (auto& c : batch.counters) {
    // The agent stands for the exporter; a counter record has no src or dst.
    size_t key_length = opts_.key == kafka_key::exporter ? c.agent.format(key) : 0;
    value_.clear();
    encoder_.encode_counters(c, counter_seq_, value_);
    // One message per counter record (line).
    std::string_view lines(value_);
    while (!lines.empty()) {
      auto end = lines.find('\n');
      send(std::string_view(key, key_length), lines.substr(0, end), 1);
      lines.remove_prefix(end + 1);
    }
  }
}

void kafka_producer::poll() {
  if (!rk_)
    return;
  rd_kafka_poll(rk_, 0);
  drain_spool();
}

void kafka_producer::drain_spool() {
  while (spool_pending_ && topic_) {
    if (!loaded_valid_) {
      if (!spool_.load_oldest(loaded_)) {
        spool_pending_ = false;
        return;
      }
      loaded_valid_ = true;
      loaded_next_ = 0;
      trackers_[loaded_.id] = {loaded_.id};
    }
    auto& tracker = trackers_[loaded_.id];
    for (; loaded_next_ < loaded_.messages.size(); ++loaded_next_) {
      auto& m = loaded_.messages[loaded_next_];
      const uint64_t records = records_in(m.value);
      auto result = produce(m.key, m.value, records, &tracker);
      if (result == produce_result::queue_full)
        return;
      if (result == produce_result::rejected) {
        dropped_rejected_ += records;
        continue;
      }
      ++tracker.outstanding;
      unspooled_ += records;
    }
    tracker.all_produced = true;
    loaded_valid_ = false;
    release_if_done(loaded_.id);
  }
}

void kafka_producer::release_if_done(uint64_t id) {
  auto it = trackers_.find(id);
  if (it == trackers_.end() || !it->second.all_produced || it->second.outstanding > 0)
    return;
  spool_.release(id);
  trackers_.erase(it);
}

void kafka_producer::on_delivery(rd_kafka_s*, const rd_kafka_message_s* msg, void* opaque) {
  static_cast<kafka_producer*>(opaque)->delivered(*msg);
}

void kafka_producer::delivered(const rd_kafka_message_s& msg) {
  const auto tag = reinterpret_cast<uintptr_t>(msg._private);
  auto* tracker = (tag & 1) ? nullptr : static_cast<segment_tracker*>(msg._private);
  const std::string_view value(static_cast<const char*>(msg.payload), msg.len);
  const uint64_t records = tracker ? records_in(value) : uint64_t(tag >> 1);
  if (msg.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered_ += records;
  } else {
    // A purge at close is not a failure of the broker; either way the records
    // go back to the spool to be sent again.
    if (msg.err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && msg.err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
      failed_ += records;
    requeued_ += records;
    to_spool({static_cast<const char*>(msg.key), msg.key_len}, value, records);
  }
  if (tracker) {
    --tracker->outstanding;
    release_if_done(tracker->id);
  }
}

int kafka_producer::on_stats(rd_kafka_s*, char* json, size_t length, void* opaque) {
  auto* self = static_cast<kafka_producer*>(opaque);
  self->broker_retries_ = sum_json_counter({json, length}, "\"txretries\":");
  return 0; // librdkafka frees json
}

void kafka_producer::close() {
  if (!rk_)
    return;
  rd_kafka_flush(rk_, int(opts_.flush_timeout.count()));
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // The purged messages' reports put them back into the spool.
  for (int i = 0; i < 40 && rd_kafka_outq_len(rk_) > 0; ++i)
    rd_kafka_poll(rk_, 50);
  rd_kafka_topic_destroy(topic_);
  topic_ = nullptr;
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  spool_.flush(true);
}

uint64_t kafka_producer::queue_length() const {
  return rk_ ? uint64_t(rd_kafka_outq_len(rk_)) : 0;
}

void kafka_producer::collect(std::vector<counter_value>& out) const {
  out.push_back({"kafka_produced_total", produced_});
  out.push_back({"kafka_delivered_total", delivered_});
  out.push_back({"kafka_delivery_failed_total", failed_});
  out.push_back({"kafka_requeued_total", requeued_});
  out.push_back({"kafka_broker_retries_total", broker_retries_});
  out.push_back({"kafka_queue_full_total", queue_full_events_});
  out.push_back({"kafka_queue_messages", queue_length()});
  out.push_back({"kafka_spooled_total", spooled_});
  out.push_back({"kafka_unspooled_total", unspooled_});
  out.push_back({"kafka_spool_bytes", spool_.bytes()});
  out.push_back({"kafka_spool_segments", spool_.segment_count()});
  out.push_back({"kafka_spool_corrupt_segments_total", spool_.corrupt_segments()});
  out.push_back({"kafka_spool_corrupt_bytes_total", spool_.corrupt_bytes()});
  out.push_back({"kafka_spool_write_errors_total", spool_.write_errors()});
  out.push_back({"kafka_dropped_total{reason=\"queue_and_spool_full\"}", dropped_full_});
  out.push_back({"kafka_dropped_total{reason=\"rejected\"}", dropped_rejected_});
}

} // namespace tidewatch
