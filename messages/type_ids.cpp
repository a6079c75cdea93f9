#include "messages/type_ids.hpp"

#include <caf/actor_system_config.hpp>

#include "actors/interfaces.hpp"
#include "messages/bgp.hpp"
#include "messages/blackhole.hpp"
#include "messages/counters.hpp"
#include "messages/datagram.hpp"
#include "messages/detector.hpp"
#include "messages/flow.hpp"
#include "messages/inspector.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

// Out of line: each add_message_type instantiates CAF's serialization and
// stringification of its type, which took about two minutes of compile time
// per including file under the sanitizers.
void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<ip_address>("tidewatch::ip_address");
  cfg.add_message_type<flow_record>("tidewatch::flow_record");
  cfg.add_message_type<label_table>("tidewatch::label_table");
  cfg.add_message_type<flow_batch>("tidewatch::flow_batch");
  cfg.add_message_type<datagram_info>("tidewatch::datagram_info");
  cfg.add_message_type<datagram_batch>("tidewatch::datagram_batch");
  cfg.add_message_type<sflow_interface_counters>("tidewatch::sflow_interface_counters");
  cfg.add_message_type<counter_batch>("tidewatch::counter_batch");
  cfg.add_message_type<counter_value>("tidewatch::counter_value");
  cfg.add_message_type<stats_snapshot>("tidewatch::stats_snapshot");
  cfg.add_message_type<std::vector<stats_snapshot>>("std::vector<tidewatch::stats_snapshot>");
  cfg.add_message_type<blackhole_route>("tidewatch::blackhole_route");
  cfg.add_message_type<bgp_large_community>("tidewatch::bgp_large_community");
  cfg.add_message_type<bgp_path_attributes>("tidewatch::bgp_path_attributes");
  cfg.add_message_type<bgp_route>("tidewatch::bgp_route");
  cfg.add_message_type<bgp_route_batch>("tidewatch::bgp_route_batch");
  cfg.add_message_type<bgp_neighbor_status>("tidewatch::bgp_neighbor_status");
  cfg.add_message_type<bgp_replica_actor>("tidewatch::bgp_replica_actor");
  cfg.add_message_type<std::vector<bgp_neighbor_status>>(
      "std::vector<tidewatch::bgp_neighbor_status>");
  cfg.add_message_type<bgp_route_report>("tidewatch::bgp_route_report");
  cfg.add_message_type<ranked_item>("tidewatch::ranked_item");
  cfg.add_message_type<attack_report>("tidewatch::attack_report");
  cfg.add_message_type<attack_list>("tidewatch::attack_list");
  cfg.add_message_type<host_rates>("tidewatch::host_rates");
  cfg.add_message_type<top_hosts>("tidewatch::top_hosts");
  cfg.add_message_type<child_status>("tidewatch::child_status");
  cfg.add_message_type<std::vector<child_status>>("std::vector<tidewatch::child_status>");
  cfg.add_message_type<role_status>("tidewatch::role_status");
  cfg.add_message_type<std::vector<role_status>>("std::vector<tidewatch::role_status>");
  cfg.add_message_type<node_status>("tidewatch::node_status");
  cfg.add_message_type<template_info>("tidewatch::template_info");
  cfg.add_message_type<std::vector<template_info>>("std::vector<tidewatch::template_info>");
}

} // namespace tidewatch
