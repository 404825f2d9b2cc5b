#include "cli/sim_command.h"

#include <chrono>
#include <fstream>
#include <iostream>

#include "sim/simulation.h"

namespace md::cli {
namespace {

struct SimArgs {
  sim::SimOptions options;
  uint64_t seeds = 1;
  std::string faults = "all";
  std::string sync = "always";
  std::string regressions;
};

// Seeds listed one per line; '#' starts a comment.
std::vector<uint64_t> read_seed_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CLI::ValidationError("--regressions", "cannot read " + path);
  std::vector<uint64_t> seeds;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    if (line.find_first_not_of(" \t") != std::string::npos) seeds.push_back(std::stoull(line));
  }
  return seeds;
}

int run(SimArgs& args) {
  auto faults = sim::parse_faults(args.faults);
  if (!faults.is_ok()) throw CLI::ValidationError("--faults", faults.status().message());
  args.options.faults = *faults;
  args.options.sync = args.sync == "none" ? sim::DiskSync::none : sim::DiskSync::always;
  std::vector<uint64_t> seeds;
  for (uint64_t s = 0; s < args.seeds; ++s) seeds.push_back(args.options.seed + s);
  if (!args.regressions.empty()) {
    for (uint64_t s : read_seed_file(args.regressions)) seeds.push_back(s);
  }
  auto started = std::chrono::steady_clock::now();
  size_t passed = 0, failed = 0;
  for (uint64_t seed : seeds) {
    sim::SimOptions o = args.options;
    o.seed = seed;
    auto result = sim::run_simulation(o);
    if (o.trace) std::cout << result.trace;
    if (seeds.size() == 1 || !result.ok()) {
      std::cout << "seed " << seed << ": " << result.nodes << " nodes, " << result.operations << " operations, "
                << result.acknowledged_writes << " acknowledged writes, " << result.unavailable << " 503s, "
                << result.conflicts_seen << " reads with siblings, " << result.faults_injected << " faults ("
                << result.handoff_crashes << " crashes during handoff, " << result.aae_crashes
                << " during anti-entropy, " << result.long_partitions << " long partitions, " << result.joins
                << " joins, " << result.leaves << " leaves, " << result.removes << " removes, " << result.replaces
                << " replaces), " << result.suspicions
                << " suspicions, " << result.hints_delivered << " hints delivered, " << result.tombstones_reaped
                << " tombstones reaped, " << result.disk_faults << " disk faults (" << result.disk_failures
                << " failed storage operations), " << result.virtual_ms << " ms virtual, trace " << std::hex << result.trace_hash << std::dec << "\n";
    }
    if (result.ok()) {
      ++passed;
      continue;
    }
    ++failed;
    for (const auto& v : result.violations) std::cout << "  violation: " << v << "\n";
    std::cout << "  replay: " << sim::replay_command(o) << "\n";
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "sim: " << seeds.size() << " seeds in " << seconds << " s\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand("sim", "Run the deterministic simulator: a cluster under faults, checked");
  cmd->add_option("--seed", args->options.seed, "The (first) seed")->capture_default_str();
  cmd->add_option("--seeds", args->seeds, "How many consecutive seeds to run")->capture_default_str();
  cmd->add_option("--regressions", args->regressions,
                  "Also run the seeds listed in this file, one per line, '#' comments (tests/sim/regression_seeds.txt)");
  cmd->add_option("--nodes", args->options.nodes, "Cluster size, 3 to 64 (default: the seed picks 3 to 5)")
      ->check(CLI::Range(3, 64));
  cmd->add_option("--steps", args->options.steps, "Client operations during the fault phase")->capture_default_str();
  cmd->add_option("--faults", args->faults, "all, none, or a list of " + sim::faults_to_string(*sim::parse_faults("all")))
      ->capture_default_str();
  cmd->add_option("--sync", args->sync, "Virtual disks: always (acked = synced) or none (lost on crash until flushed)")
      ->check(CLI::IsMember({"always", "none"}))
      ->capture_default_str();
  cmd->add_flag("--trace", args->options.trace, "Print every event of the run");
  cmd->add_flag("--buggy-merge", args->options.buggy_merge, "Mutation test: replica merges drop a sibling");
  cmd->add_flag("--buggy-handoff", args->options.buggy_handoff,
                "Mutation test: hints are acknowledged but never kept, so never delivered (anti-entropy repairs what "
                "they missed, so runs pass; tests/sim catches it with anti-entropy off)");
  cmd->add_flag("--buggy-actor-epochs", args->options.buggy_actor_epochs,
                "Mutation test: a node keeps its actor id after a crash, and makes the dots of writes it had sent out again");
  cmd->add_flag("--buggy-reaping", args->options.buggy_reaping,
                "Mutation test: a node removes a tombstone as soon as it stores it, asking no other member");
  cmd->add_flag("--buggy-dot-floor", args->options.buggy_dot_floor,
                "Mutation test: coordinators ignore the dot floor, so a key written again after reaping reuses dots");
  cmd->add_flag("--buggy-ids", args->options.buggy_ids,
                "Mutation test: every node makes its dots under one shared id, as nodes that all defaulted to "
                "node_5001 on their own hosts did");
  cmd->add_flag("--buggy-early-ack", args->options.buggy_early_ack,
                "Mutation test: the group committer acknowledges a batch of synced writes before its fsync completes");
  cmd->add_flag("--buggy-colocated-hints", args->options.buggy_colocated_hints,
                "Mutation test: a hint the coordinator keeps beside its own replica counts toward W");
  cmd->callback([args] {
    int code = run(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace md::cli
