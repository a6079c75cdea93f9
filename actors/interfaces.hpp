#pragma once

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/datagram.hpp"
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
/// decoder's credit once every sink finished the batch.
using enricher_actor = caf::typed_actor<                //
    caf::reacts_to<flow_batch>,                         // records from the decoder
    caf::reacts_to<ack_atom>,                           // a sink finished a batch
    caf::reacts_to<drain_atom, caf::actor>,             //
    caf::reacts_to<tick_atom>,                          // watch files for changes
    caf::reacts_to<reload_atom>,                        // re-read files now (SIGHUP)
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// The REPLICATOR actor interface: raw export datagrams in, copies sent on
/// to other receivers (what samplicator does), each batch acknowledged to
/// the listener that sent it.
using replicator_actor = caf::typed_actor<              //
    caf::reacts_to<datagram_batch>,                     // data from a listener
    caf::reacts_to<drain_atom, caf::actor>,             //
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

/// The FLOW SINK actor interface: flow batches in, written somewhere.
using flow_sink_actor = caf::typed_actor<               //
    caf::reacts_to<flow_batch>,                         // records to write
    caf::reacts_to<drain_atom, caf::actor>,             // flush and report
    caf::reacts_to<tick_atom>,                          // periodic flush
    caf::replies_to<stats_atom>::with<stats_snapshot>>; //

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
