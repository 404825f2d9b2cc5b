// What `minidynamo check` judges a live cluster by: a recorded history of client operations and
// the replicas' final answers in, the violations of Dynamo's promises out. Pure: no I/O, no clocks.
//
// The workload makes every written value unique and self-describing: {"id": "<version>",
// "merged": [<versions the writer's read saw>]}. So each sibling a read returns names the
// operation that wrote it, and an operation that wrote with a read's context names the versions
// that context covers: exactly the ones it replaces. From that the checker knows, per key, which
// versions must still be there at the end and which must be gone:
//   - a version whose write was acknowledged stays until an operation that saw it (an update or
//     a delete with that read's context) may have taken effect (acknowledged or indeterminate);
//   - a version an acknowledged operation saw and replaced never comes back;
//   - every version read is one the workload wrote, with the "merged" list it was written with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace md::check {

enum class OpKind {
  write,   // a blind write (no context): concurrent with whatever the key holds
  update,  // read, merge the siblings, write back with the read's context
  remove,  // read, then delete with the read's context
};

// ok: the cluster acknowledged it. failed: a definite refusal (it took no effect). indeterminate:
// a 503, a timeout or a broken connection: it may or may not have taken effect, now or later.
enum class Outcome { ok, failed, indeterminate };

// A version as a read returned it: its id and the versions its writer merged.
struct Version {
  std::string id;
  std::vector<std::string> merged;
  bool operator==(const Version&) const = default;
};

struct Operation {
  uint64_t index = 0;  // position in the history; violations name operations by it
  int client = 0;
  OpKind kind = OpKind::write;
  std::string key;
  std::string version;         // write, update: the id of the version it wrote; remove: empty
  std::vector<Version> read;   // update, remove: the siblings its read saw (what its context covers)
  Outcome outcome = Outcome::indeterminate;
  double start_s = 0, end_s = 0;  // seconds since the run began
  std::string detail;             // the answer or error, for the report
};

// One node's answer to the final read of a key: the versions it returned (none: not found).
struct FinalRead {
  std::string node;
  bool answered = false;  // false: the read failed (error says why)
  std::vector<Version> versions;
  std::string error;
};

enum class ViolationKind {
  lost_write,            // an acknowledged version is gone, and nothing that saw it replaced it
  missing_sibling,       // the same, while versions concurrent with it are there: a sibling was dropped
  resurrected_delete,    // a version an acknowledged delete removed is back
  overwritten_returned,  // a version an acknowledged update replaced is back
  unknown_version,       // a read returned a version no operation wrote, or one whose write was refused
  corrupt_version,       // a version whose "merged" list is not what its writer wrote
  not_converged,         // the nodes' final answers differ (or some did not answer)
};
const char* name(ViolationKind kind);

struct Violation {
  ViolationKind kind;
  std::string key;
  std::string version;               // the version at fault (empty for not_converged)
  std::string explanation;
  std::vector<uint64_t> operations;  // the history that shows it: indexes into the operations
};

// `final_reads`: for each key the workload touched, every node's last answer. A key missing there
// is not judged on its final state (its reads during the run still are).
std::vector<Violation> check_history(const std::vector<Operation>& operations,
                                     const std::map<std::string, std::vector<FinalRead>>& final_reads);

// True when every node answered and all answers hold the same versions (in any order).
bool converged(const std::vector<FinalRead>& reads);

}  // namespace md::check
