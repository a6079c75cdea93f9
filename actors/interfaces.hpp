#pragma once

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/bgp.hpp"
#include "messages/blackhole.hpp"
#include "messages/counters.hpp"
#include "messages/datagram.hpp"
#include "messages/detector.hpp"
#include "messages/flow.hpp"
#include "messages/inspector.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

// Every stage of a pipeline answers `stats` with its counters and takes part
// in draining: `(drain, coordinator)` arrives behind the last data message
// from each upstream; once all upstreams have drained, the stage finishes its
// work, flushes, and passes the drain on (the last stage tells the coordinator
// `(drained, stage_name)`).

/// The LISTENER actor interface: receives UDP datagrams on its own thread and
/// sends them on in batches; takes back credit for each batch it sent.
using listener_actor = caf::typed_actor<                //
    caf::reacts_to<ack_atom>,                           // one batch done
    caf::reacts_to<drain_atom, caf::actor>,             // stop receiving
    caf::replies_to<stats_atom>::with<stats_snapshot>>; // counters

/// The DECODER actor interface: raw export datagrams in, flow batches out.
using decoder_actor = caf::typed_actor<                                 //
    caf::reacts_to<datagram_batch>,                                     // data from a listener
    caf::reacts_to<ack_atom>,                                           // a sink finished a batch
    caf::reacts_to<drain_atom, caf::actor>,                             //
    caf::reacts_to<tick_atom>,                                          // expiry, template saving
    caf::reacts_to<crash_atom>,                                         // test hook
    caf::replies_to<stats_atom>::with<stats_snapshot>,                  //
    caf::replies_to<templates_atom>::with<std::vector<template_info>>>; // v9/IPFIX templates

/// What every producer of flow batches accepts: credit back for one batch.
/// Sinks ack whoever sent them a batch through this interface.
using flow_producer_actor = caf::typed_actor<caf::reacts_to<ack_atom>>;

/// The ENRICHER actor interface: takes flow batches like a sink (from the
/// decoder), enriches them and hands them to the sinks, returning the
/// decoder's credit once every sink finished the batch. Keeps a replica of
/// the BGP speaker's routes, fed by its route batches.
using enricher_actor = caf::typed_actor<                //
    caf::reacts_to<flow_batch>,                         // records from the decoder
    caf::reacts_to<ack_atom>,                           // a sink finished a batch
    caf::reacts_to<drain_atom, caf::actor>,             //
    caf::reacts_to<tick_atom>,                          // watch files for changes
    caf::reacts_to<reload_atom>,                        // re-read files now (SIGHUP)
    caf::reacts_to<bgp_route_batch>,                    // replica RIB: from the BGP speaker
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// The REPLICATOR actor interface: raw export datagrams in, copies sent on
/// to other receivers (what samplicator does), each batch acknowledged to
/// the listener that sent it.
using replicator_actor = caf::typed_actor<              //
    caf::reacts_to<datagram_batch>,                     // data from a listener
    caf::reacts_to<tick_atom>,                          // log new send errors
    caf::reacts_to<reload_atom>,                        // take the receivers SIGHUP re-read
    caf::reacts_to<drain_atom, caf::actor>,             //
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// The FLOW SINK actor interface: flow batches in, written somewhere.
using flow_sink_actor = caf::typed_actor<               //
    caf::reacts_to<flow_batch>,                         // records to write
    caf::reacts_to<drain_atom, caf::actor>,             // flush and report
    caf::reacts_to<tick_atom>,                          // periodic flush
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// A COUNTER SINK: the sflow pipeline's interface counter records, written
/// somewhere (no credit: counter samples are few, one per interface and
/// polling interval).
using counter_sink_actor = caf::typed_actor<            //
    caf::reacts_to<counter_batch>,                      // from the decoder
    caf::reacts_to<drain_atom, caf::actor>,             // flush and report
    caf::reacts_to<tick_atom>,                          // periodic flush
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// A RECORD SINK (file, stdout, Kafka) writes flow records or counter records.
using record_sink_actor = flow_sink_actor::extend<caf::reacts_to<counter_batch>>;

/// A BGP RIB REPLICA (kept by enrichers): takes the speaker's route changes.
using bgp_replica_actor = caf::typed_actor<caf::reacts_to<bgp_route_batch>>;

/// The BGP SPEAKER actor interface: supervises one session actor per
/// neighbor, keeps every neighbor's routes, publishes route changes to
/// subscribed replicas (a full copy first), announces the detector's
/// blackhole routes and answers inspection queries.
using bgp_speaker_actor = caf::typed_actor<
    caf::reacts_to<bgp_route_batch>,                              // from a session
    caf::reacts_to<bgp_neighbor_status>,                          // from a session
    caf::reacts_to<session_end_atom, ip_address, bool, uint32_t>, // neighbor, graceful, restart ms
    caf::reacts_to<accept_atom, int, ip_address>,                 // from the acceptor: fd, peer
    caf::reacts_to<sweep_atom, ip_address, uint64_t>,             // restart time over
    caf::reacts_to<blackhole_route>,                              // from the detector
    caf::reacts_to<subscribe_atom, bgp_replica_actor>,            // a replica wants routes
    caf::replies_to<stats_atom>::with<std::vector<stats_snapshot>>,          // per neighbor
    caf::replies_to<status_atom>::with<role_status>,                         // for the inspector
    caf::replies_to<neighbors_atom>::with<std::vector<bgp_neighbor_status>>, // inspection
    caf::replies_to<lookup_atom, ip_address, std::string>::with<bgp_route_report>>; // "" any

/// A BGP ROUTE SOURCE, what enrichers and detectors need of a speaker: the
/// node's own BGP speaker, or a bgp_link_actor standing in for the speaker
/// of another node.
using bgp_route_source_actor = caf::typed_actor<       //
    caf::reacts_to<subscribe_atom, bgp_replica_actor>, // a replica wants routes
    caf::reacts_to<blackhole_route>>;                  // from the detector

/// The BGP LINK actor interface: a node's stand-in for the BGP speaker of
/// another cluster node. Keeps a copy of the remote speaker's routes for its
/// local replicas, reconnects with exponential backoff when that node goes
/// away (keeping the routes, marked stale, for a grace time) and forwards
/// the detector's blackholes (re-sent after a reconnect).
using bgp_link_actor = bgp_route_source_actor::extend<              //
    caf::reacts_to<bgp_route_batch>,                                // from the remote speaker
    caf::reacts_to<caf::connect_atom>,                              // retry timer: connect now
    caf::reacts_to<sweep_atom, uint64_t>,                           // grace time over (generation)
    caf::replies_to<stats_atom>::with<std::vector<stats_snapshot>>, // link counters
    caf::replies_to<status_atom>::with<role_status>>;               // for the inspector

/// The DETECTOR actor interface: a flow sink (it acks each batch) that finds
/// DoS attacks on our hosts, acts on them, and answers inspection queries.
using detector_actor = caf::typed_actor<               //
    caf::reacts_to<flow_batch>,                        // enriched records
    caf::reacts_to<drain_atom, caf::actor>,            //
    caf::reacts_to<tick_atom>,                         // rates, attack ends, child processes
    caf::reacts_to<reload_atom>,                       // take the settings SIGHUP re-read
    caf::replies_to<stats_atom>::with<stats_snapshot>, //
    caf::replies_to<attacks_atom>::with<attack_list>,  // active and recent attacks
    // The top hosts by metric (pps, bps, flows) in a direction (in, out), at most count.
    caf::replies_to<top_atom, std::string, std::string, uint32_t>::with<top_hosts>>;

/// The INSPECTOR actor interface: each node's directory for remote clients
/// (the `tidewatch` CLI, other nodes). The node registers each role's actor
/// (a pipeline's supervisor as "netflow", later "detector:netflow", "bgp");
/// a client locates a role and sends typed requests to that actor directly.
using inspector_actor = caf::typed_actor<                           //
    caf::reacts_to<register_atom, std::string, caf::actor>,         // role -> actor (replaces)
    caf::replies_to<locate_atom, std::string>::with<caf::actor>,    // error unknown_role
    caf::replies_to<status_atom>::with<node_status>,                // node, uptime, roles
    caf::replies_to<stats_atom>::with<std::vector<stats_snapshot>>, // every role's stages
    caf::replies_to<ping_atom>::with<ping_atom>>;                   // liveness probe

} // namespace tidewatch
