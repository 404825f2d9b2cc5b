#include "check/history_checker.h"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace md::check {

const char* name(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::lost_write: return "lost write";
    case ViolationKind::missing_sibling: return "missing sibling";
    case ViolationKind::resurrected_delete: return "resurrected delete";
    case ViolationKind::overwritten_returned: return "overwritten version returned";
    case ViolationKind::unknown_version: return "unknown version";
    case ViolationKind::corrupt_version: return "corrupt version";
    case ViolationKind::not_converged: return "not converged";
  }
  return "?";
}

namespace {

std::set<std::string> ids(const std::vector<Version>& versions) {
  std::set<std::string> out;
  for (const auto& v : versions) out.insert(v.id);
  return out;
}

std::vector<std::string> ids_of_read(const Operation& op) {
  std::vector<std::string> out;
  for (const auto& v : op.read) out.push_back(v.id);
  return out;
}

// One key's history, indexed: who wrote each version and who saw (and so replaced) it.
class KeyHistory {
 public:
  KeyHistory(const std::string& key, std::vector<const Operation*> ops) : key_(key), ops_(std::move(ops)) {
    for (const auto* op : ops_) {
      if (op->kind != OpKind::remove) writer_[op->version] = op;
      for (const auto& v : op->read) replacers_[v.id].push_back(op);
    }
  }

  void check(const std::vector<FinalRead>* final_reads, std::vector<Violation>& out) {
    for (const auto* op : ops_) {
      for (const auto& v : op->read) check_read_version(v, op, out);
    }
    if (final_reads == nullptr) return;
    if (!converged(*final_reads)) {
      std::vector<uint64_t> all;
      for (const auto* op : ops_) all.push_back(op->index);
      out.push_back({ViolationKind::not_converged, key_, "", "the nodes' final reads differ or failed", all});
    }
    std::vector<Version> present;  // every version any node still returns
    for (const auto& read : *final_reads) {
      for (const auto& v : read.versions) {
        if (std::find(present.begin(), present.end(), v) == present.end()) present.push_back(v);
      }
    }
    for (const auto& v : present) {
      check_read_version(v, nullptr, out);
      check_not_replaced(v, out);
    }
    const auto present_ids = ids(present);
    for (const auto* op : ops_) {
      if (op->kind != OpKind::remove && op->outcome == Outcome::ok) check_kept(*op, present_ids, out);
    }
  }

 private:
  // A version a read returned must be one the workload wrote, as written, and not refused.
  void check_read_version(const Version& v, const Operation* reader, std::vector<Violation>& out) {
    if (!reported_.insert(v.id + "\n" + (reader ? std::to_string(reader->index) : "final")).second) return;
    std::vector<uint64_t> history;
    if (reader) history.push_back(reader->index);
    const std::string where = reader ? "operation " + std::to_string(reader->index) + "'s read" : "the final read";
    auto it = writer_.find(v.id);
    if (it == writer_.end() || it->second->outcome == Outcome::failed) {
      if (it != writer_.end()) history.insert(history.begin(), it->second->index);
      out.push_back({ViolationKind::unknown_version, key_, v.id,
                     where + " returned a version " +
                         (it == writer_.end() ? "no operation wrote" : "whose write was refused"),
                     history});
      return;
    }
    if (v.merged != ids_of_read(*it->second)) {
      history.insert(history.begin(), it->second->index);
      out.push_back({ViolationKind::corrupt_version, key_, v.id,
                     where + " returned it with another \"merged\" list than its writer wrote", history});
    }
  }

  // A version an acknowledged operation saw was replaced by it, for good.
  void check_not_replaced(const Version& v, std::vector<Violation>& out) {
    auto it = replacers_.find(v.id);
    if (it == replacers_.end()) return;
    for (const auto* op : it->second) {
      if (op->outcome != Outcome::ok) continue;
      const bool by_delete = op->kind == OpKind::remove;
      std::vector<uint64_t> history = {op->index};
      if (auto w = writer_.find(v.id); w != writer_.end()) history.insert(history.begin(), w->second->index);
      out.push_back({by_delete ? ViolationKind::resurrected_delete : ViolationKind::overwritten_returned, key_, v.id,
                     std::string("the final read returns it, though acknowledged ") +
                         (by_delete ? "delete " : "update ") + std::to_string(op->index) + " read it and replaced it",
                     history});
      return;
    }
  }

  // An acknowledged version is there at the end unless an operation that saw it may have replaced it.
  void check_kept(const Operation& write, const std::set<std::string>& present, std::vector<Violation>& out) {
    if (present.contains(write.version)) return;
    if (auto it = replacers_.find(write.version); it != replacers_.end()) {
      for (const auto* op : it->second) {
        if (op->outcome != Outcome::failed) return;
      }
    }
    std::vector<uint64_t> history = {write.index};
    std::string concurrent;
    for (const auto& id : present) {
      if (id != write.version && !precedes(write.version, id) && !precedes(id, write.version)) {
        concurrent += (concurrent.empty() ? "" : ", ") + id;
        if (auto w = writer_.find(id); w != writer_.end()) history.push_back(w->second->index);
      }
    }
    if (auto it = replacers_.find(write.version); it != replacers_.end()) {
      for (const auto* op : it->second) history.push_back(op->index);
    }
    if (concurrent.empty()) {
      out.push_back({ViolationKind::lost_write, key_, write.version,
                     "acknowledged, but no node returns it and no operation that saw it took effect", history});
    } else {
      out.push_back({ViolationKind::missing_sibling, key_, write.version,
                     "acknowledged, but the final siblings (" + concurrent +
                         ") hold versions concurrent with it and not it",
                     history});
    }
  }

  // Whether version `a` is in the causal past of version `b`: b's writer saw a, or saw one that did.
  bool precedes(const std::string& a, const std::string& b) {
    std::set<std::string> seen;
    std::vector<std::string> todo = {b};
    while (!todo.empty()) {
      auto it = writer_.find(todo.back());
      todo.pop_back();
      if (it == writer_.end()) continue;
      for (const auto& v : it->second->read) {
        if (v.id == a) return true;
        if (seen.insert(v.id).second) todo.push_back(v.id);
      }
    }
    return false;
  }

  const std::string& key_;
  std::vector<const Operation*> ops_;
  std::unordered_map<std::string, const Operation*> writer_;
  std::unordered_map<std::string, std::vector<const Operation*>> replacers_;
  std::set<std::string> reported_;  // unknown or corrupt versions already told, per reader
};

}  // namespace

bool converged(const std::vector<FinalRead>& reads) {
  for (const auto& r : reads) {
    if (!r.answered || ids(r.versions) != ids(reads.front().versions)) return false;
  }
  return true;
}

std::vector<Violation> check_history(const std::vector<Operation>& operations,
                                     const std::map<std::string, std::vector<FinalRead>>& final_reads) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const auto& op : operations) by_key[op.key].push_back(&op);
  std::vector<Violation> out;
  for (const auto& [key, ops] : by_key) {
    auto it = final_reads.find(key);
    KeyHistory(key, ops).check(it == final_reads.end() ? nullptr : &it->second, out);
  }
  return out;
}

}  // namespace md::check
