#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace tidewatch {

/// One supervised child as its supervisor sees it. `handle` is the running
/// actor (invalid while it restarts), so that a remote client can send it
/// requests directly (e.g. the decoder's `templates`).
struct child_status {
  std::string name;
  caf::actor handle;
  uint64_t actor_id = 0; ///< handle's ID; 0 while the child restarts
  uint64_t restarts = 0;

  friend bool operator==(const child_status& x, const child_status& y) {
    return x.name == y.name && x.handle == y.handle && x.actor_id == y.actor_id &&
           x.restarts == y.restarts;
  }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, child_status& x) {
  return f(caf::meta::type_name("tidewatch::child_status"), x.name, x.handle, x.actor_id,
           x.restarts);
}

/// A registered role (a pipeline's supervisor, later the detector or the BGP
/// speaker) and the children it reports, in start order.
struct role_status {
  std::string role;
  uint64_t actor_id = 0;
  std::vector<child_status> children;

  friend bool operator==(const role_status&, const role_status&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, role_status& x) {
  return f(caf::meta::type_name("tidewatch::role_status"), x.role, x.actor_id, x.children);
}

/// What `tidewatch status` shows: the node, its version and uptime, and every
/// role registered with its inspector.
struct node_status {
  std::string node;
  std::string version;
  int64_t started_us = 0; ///< Unix time the node started
  int64_t now_us = 0;     ///< Unix time of this answer
  std::vector<role_status> roles;

  friend bool operator==(const node_status&, const node_status&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("tidewatch::node_status"), x.node, x.version, x.started_us,
           x.now_us, x.roles);
}

/// One NetFlow v9 / IPFIX template a decoder holds, for `tidewatch templates`.
struct template_info {
  std::string exporter;
  uint32_t observation_domain = 0;
  uint16_t version = 0; ///< 9 or 10
  uint16_t id = 0;
  bool options = false;
  uint16_t scope_count = 0;
  uint32_t record_length = 0; ///< bytes; the minimum when `variable`
  bool variable = false;
  /// Field specifiers as exported: (enterprise << 32 | type << 16 | length).
  std::vector<uint64_t> fields;

  friend bool operator==(const template_info&, const template_info&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, template_info& x) {
  return f(caf::meta::type_name("tidewatch::template_info"), x.exporter, x.observation_domain,
           x.version, x.id, x.options, x.scope_count, x.record_length, x.variable, x.fields);
}

} // namespace tidewatch
