// `minidynamo check`: a Jepsen-style consistency check of a live cluster.
//
// Concurrent clients run a workload for --duration seconds: blind writes of unique values,
// read-modify-writes that merge the siblings they read and write back with the read's context, and
// deletes with a read's context; a nemesis (check_nemesis.h) meanwhile kills and pauses nodes check
// started itself, or runs a hook that partitions the network. Every operation is recorded with its
// outcome (ok, failed, indeterminate). Once the faults are healed, every key is read through every
// node (R=1) until all answers agree or --converge-timeout passes, and the history is judged
// (check/history_checker.h): no acknowledged write lost, no sibling dropped, no acknowledged delete
// or overwrite undone, nothing read that was not written, replicas converged. The report gives the
// operations, latencies, faults and each violation with its key and history. Exit code 0: no
// violation; 1: violations, or no operation was acknowledged; 2: a usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_check_command(CLI::App& app);

}  // namespace md::cli
