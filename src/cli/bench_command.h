// `minidynamo bench`: an asynchronous HTTP load generator for a running cluster.
//
// Keep-alive connections spread over the target nodes issue a workload (write-only, read-only,
// 50/50 or 95/5) over uniform or zipfian keys. Updates behave like real clients: they write with
// the context of the key's last read or write (reading first when none is known); --blind sends
// writes without context, which pile up siblings by design. A live line shows progress; the end
// report gives throughput, latency percentiles from a histogram, and errors by kind (--json too).
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_bench_command(CLI::App& app);

}  // namespace md::cli
