#include "common/snapshot/snapshot_wire.hpp"

#include <gtest/gtest.h>

namespace kprof::snapshot {
namespace {

using nlohmann::json;

TEST(SnapshotWire, CommandSurvivesTheWire) {
  SnapshotCommand command{.id = "shop.api-latency-7f3a",
                          .snapshot = "shop/api-latency-7f3a",
                          .types = {"cpu", "wall"},
                          .rate_hz = 997,
                          .duration_seconds = 45,
                          .flight_recorder_seconds = 5,
                          .not_after_ms = 1795000000000};
  auto back = readSnapshotCommand(toJson(command));
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, command);
}

TEST(SnapshotWire, CommandDefaultsWhatItOmits) {
  auto command = readSnapshotCommand(json{{"id", "a"}});
  ASSERT_TRUE(command);
  EXPECT_EQ(command->types, std::vector<std::string>{"cpu"});
  EXPECT_EQ(command->rate_hz, 1000);
  EXPECT_EQ(command->duration_seconds, 30);
  EXPECT_EQ(command->flight_recorder_seconds, 10);
  EXPECT_EQ(command->not_after_ms, 0);
}

TEST(SnapshotWire, BadCommandsNameTheField) {
  auto check = [](json value, std::string_view expected) {
    auto command = readSnapshotCommand(value);
    ASSERT_FALSE(command) << value.dump();
    EXPECT_NE(command.error().message.find(expected), std::string::npos)
        << command.error().message;
  };
  check(json{{"snapshot", "x"}}, "id: required");
  check(json{{"id", ""}}, "id: must be 1 to 128");
  check(json{{"id", "a"}, {"rateHz", 0}}, "rateHz: must be between 1 and 10000");
  check(json{{"id", "a"}, {"rateHz", "fast"}}, "rateHz: must be an integer");
  check(json{{"id", "a"}, {"durationSeconds", 601}}, "durationSeconds");
  check(json{{"id", "a"}, {"types", json::array({"cpu", "heap"})}}, "types");
  check(json{{"id", "a"}, {"types", json::array()}}, "types");
  check(json{{"id", "a"}, {"notAfterMs", -1}}, "notAfterMs");
  check(json::array(), "must be an object");
}

TEST(SnapshotWire, ReportSurvivesTheWire) {
  SnapshotReport report{.id = "s1",
                        .phase = Phase::Completed,
                        .started_at_ms = 10,
                        .completed_at_ms = 20,
                        .message = "stopped early: the alert resolved",
                        .profiles = {{"cpu", 2893, 5123}, {"wall", 10, 700}}};
  auto back = readSnapshotReport(toJson(report));
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(*back, report);
}

TEST(SnapshotWire, ListsAreOptionalButEachEntryMustBeValid) {
  auto none = readSnapshotCommands(json{{"version", 3}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto null_list = readSnapshotReports(json{{"snapshots", nullptr}});
  ASSERT_TRUE(null_list);
  EXPECT_TRUE(null_list->empty());

  auto one_bad = readSnapshotCommands(
      json{{"snapshots", json::array({json{{"id", "a"}}, json{{"id", "b"}, {"rateHz", 0}}})}});
  ASSERT_FALSE(one_bad);
  EXPECT_NE(one_bad.error().message.find("snapshots[1]"), std::string::npos)
      << one_bad.error().message;

  auto bad_phase = readSnapshotReports(
      json{{"snapshots", json::array({json{{"id", "a"}, {"phase", "Done"}}})}});
  ASSERT_FALSE(bad_phase);
  EXPECT_NE(bad_phase.error().message.find("unknown phase"), std::string::npos);
}

TEST(SnapshotWire, PhaseNamesMatchTheCrd) {
  for (auto phase : {Phase::Pending, Phase::Capturing, Phase::Completed, Phase::Failed}) {
    auto back = parsePhase(phaseName(phase));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, phase);
  }
  EXPECT_EQ(phaseName(Phase::Capturing), "Capturing");
}

}  // namespace
}  // namespace kprof::snapshot
