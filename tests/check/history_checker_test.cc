// The checker behind `minidynamo check`, on hand-made histories: a correct one passes, and each
// kind of broken promise (a lost write, a dropped sibling, a delete or an overwrite undone, a
// version nobody wrote, replicas that disagree) is caught and names the key, version and history.
#include "check/history_checker.h"

#include <gtest/gtest.h>

namespace md::check {
namespace {

class History {
 public:
  // A blind write of version `id`.
  History& write(const std::string& id, Outcome outcome = Outcome::ok) { return add(OpKind::write, id, {}, outcome); }
  // A read that saw `seen`, then a write of `id` with its context.
  History& update(const std::string& id, std::vector<std::string> seen, Outcome outcome = Outcome::ok) {
    return add(OpKind::update, id, std::move(seen), outcome);
  }
  // A read that saw `seen`, then a delete with its context.
  History& remove(std::vector<std::string> seen, Outcome outcome = Outcome::ok) {
    return add(OpKind::remove, "", std::move(seen), outcome);
  }

  // The version as the cluster returns it: with the "merged" list its writer wrote.
  Version version(const std::string& id) const {
    for (const auto& op : ops_) {
      if (op.version != id) continue;
      Version v{id, {}};
      for (const auto& seen : op.read) v.merged.push_back(seen.id);
      return v;
    }
    return {id, {}};
  }

  // Every one of three nodes answers the final read with `ids`.
  std::vector<Violation> check_final(const std::vector<std::string>& ids) const {
    std::vector<Version> versions;
    for (const auto& id : ids) versions.push_back(version(id));
    return check_history(ops_, {{"k", {FinalRead{"a", true, versions, ""}, FinalRead{"b", true, versions, ""},
                                       FinalRead{"c", true, versions, ""}}}});
  }

  std::vector<Operation> ops_;

 private:
  History& add(OpKind kind, const std::string& id, std::vector<std::string> seen, Outcome outcome) {
    Operation op;
    op.index = ops_.size();
    op.kind = kind;
    op.key = "k";
    op.version = id;
    for (const auto& s : seen) op.read.push_back(version(s));
    op.outcome = outcome;
    ops_.push_back(op);
    return *this;
  }
};

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const auto& v : violations) text += std::string(name(v.kind)) + " " + v.version + ": " + v.explanation + "\n";
  return text;
}

TEST(HistoryChecker, ConcurrentWritesKeptAsSiblingsAndMergedByAnUpdatePass) {
  History h;
  h.write("a").write("b").update("c", {"a", "b"}).write("d");
  EXPECT_TRUE(h.check_final({"c", "d"}).empty()) << describe(h.check_final({"c", "d"}));
}

TEST(HistoryChecker, AnAcknowledgedWriteNoNodeReturnsIsALostWrite) {
  History h;
  h.write("a").update("b", {"a"});
  auto violations = h.check_final({"a"});  // b acknowledged, gone; nothing saw it
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::overwritten_returned);  // and b's replacement of a undone
  EXPECT_EQ(violations[1].kind, ViolationKind::lost_write);
  EXPECT_EQ(violations[1].key, "k");
  EXPECT_EQ(violations[1].version, "b");
  EXPECT_EQ(violations[1].operations, std::vector<uint64_t>{1});
}

TEST(HistoryChecker, AnAcknowledgedWriteMissingBesideConcurrentOnesIsAMissingSibling) {
  History h;
  h.write("a").write("b").write("c");
  auto violations = h.check_final({"a", "c"});
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::missing_sibling);
  EXPECT_EQ(violations[0].version, "b");
  EXPECT_EQ(violations[0].operations, (std::vector<uint64_t>{1, 0, 2}));  // b, then the siblings kept
}

TEST(HistoryChecker, AVersionAnAcknowledgedDeleteRemovedComingBackIsAResurrectedDelete) {
  History h;
  h.write("a").remove({"a"});
  EXPECT_TRUE(h.check_final({}).empty());
  auto violations = h.check_final({"a"});
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::resurrected_delete);
  EXPECT_EQ(violations[0].version, "a");
  EXPECT_EQ(violations[0].operations, (std::vector<uint64_t>{0, 1}));
}

TEST(HistoryChecker, AWriteConcurrentWithADeleteSurvivesIt) {
  History h;
  h.write("a").write("b").remove({"a"});  // the delete's read did not see b
  EXPECT_TRUE(h.check_final({"b"}).empty());
  EXPECT_EQ(h.check_final({}).at(0).kind, ViolationKind::lost_write);
}

TEST(HistoryChecker, IndeterminateOperationsMayOrMayNotHaveTakenEffect) {
  History h;
  h.write("a").write("b", Outcome::indeterminate).update("c", {"a"}, Outcome::indeterminate);
  for (auto final_state : std::vector<std::vector<std::string>>{{"a"}, {"a", "b"}, {"c"}, {"b", "c"}}) {
    EXPECT_TRUE(h.check_final(final_state).empty()) << describe(h.check_final(final_state));
  }
  // An indeterminate delete likewise.
  History d;
  d.write("a").remove({"a"}, Outcome::indeterminate);
  EXPECT_TRUE(d.check_final({}).empty());
  EXPECT_TRUE(d.check_final({"a"}).empty());
}

TEST(HistoryChecker, ARefusedOperationReplacesNothingAndItsVersionMustNotAppear) {
  History h;
  h.write("a").update("b", {"a"}, Outcome::failed);
  EXPECT_EQ(h.check_final({}).at(0).kind, ViolationKind::lost_write);  // b's refusal did not replace a
  auto violations = h.check_final({"a", "b"});
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::unknown_version);
  EXPECT_EQ(violations[0].version, "b");
}

TEST(HistoryChecker, VersionsNobodyWroteOrWithAnotherMergedListAreCaught) {
  History h;
  h.write("a").write("b");
  auto forged = h.ops_;
  forged.push_back({});
  forged.back().index = 2;
  forged.back().key = "k";
  forged.back().kind = OpKind::update;
  forged.back().version = "c";
  forged.back().read = {Version{"zz", {}}, Version{"a", {"b"}}};  // a read returning a phantom and a mangled a
  auto violations = check_history(forged, {});
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::unknown_version);
  EXPECT_EQ(violations[0].version, "zz");
  EXPECT_EQ(violations[1].kind, ViolationKind::corrupt_version);
  EXPECT_EQ(violations[1].version, "a");
}

TEST(HistoryChecker, NodesThatDisagreeOrDoNotAnswerHaveNotConverged) {
  History h;
  h.write("a").write("b");
  auto a = h.version("a"), b = h.version("b");
  auto violations = check_history(h.ops_, {{"k", {FinalRead{"n1", true, {a, b}, ""}, FinalRead{"n2", true, {a}, ""}}}});
  ASSERT_EQ(violations.size(), 1u) << describe(violations);  // b is on n1: not lost, but not everywhere
  EXPECT_EQ(violations[0].kind, ViolationKind::not_converged);
  EXPECT_FALSE(converged({FinalRead{"n1", true, {a}, ""}, FinalRead{"n2", false, {}, "timeout"}}));
  EXPECT_TRUE(converged({FinalRead{"n1", true, {a, b}, ""}, FinalRead{"n2", true, {b, a}, ""}}));
}

}  // namespace
}  // namespace md::check
