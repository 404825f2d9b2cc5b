// `minidynamo bench`: an asynchronous HTTP load generator for a running cluster.
//
// Keep-alive connections spread over the target nodes issue a workload (write-only, read-only,
// 50/50 or 95/5) over uniform or zipfian keys. Updates behave like real clients: they write with
// the context of the key's last read or write (reading first when none is known); --blind sends
// writes without context, which pile up siblings by design. A live line shows progress; the end
// report gives the throughput and latency percentiles of the operations that succeeded, and the
// failed ones by kind beside them (--json too). Read workloads first write every key once (the
// preload, at most --preload-timeout). Nothing runs unbounded: a connection that fails is retried
// with backoff and counted, each request has --timeout-ms. Exit code 1 when the preload did not
// finish, nothing succeeded, or more than --max-error-rate percent failed.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_bench_command(CLI::App& app);

}  // namespace md::cli
