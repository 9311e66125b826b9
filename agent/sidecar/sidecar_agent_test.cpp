// SidecarAgent::reconfigure: a new config takes effect between cycles. A fake engine and a
// recording exporter stand in for the sampler and the network; time is a FakeClock. The
// symbolizer is the real one, reading this test process's /proc entries.
#include "agent/sidecar/sidecar_agent.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

__attribute__((noinline)) void sampledFunction() {
  asm volatile("");
}

struct EngineLog {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::atomic<uint64_t> drains{0};
};

// Hands out one stack per drain and says at which frequency it was made.
class FakeEngine final : public SamplingEngine {
 public:
  FakeEngine(uint32_t frequency_hz, std::shared_ptr<EngineLog> log)
      : frequency_hz_(frequency_hz), log_(std::move(log)) {}
  std::string_view name() const override { return "fake"; }
  Status check() override { return ok(); }
  Status start() override {
    ++log_->started;
    return ok();
  }
  void stop() override { ++log_->stopped; }
  Result<std::vector<RawStack>> drain() override {
    ++drains_;
    ++log_->drains;
    RawStack stack;
    stack.pid = static_cast<uint32_t>(::getpid());
    stack.user_ips = {reinterpret_cast<uint64_t>(&sampledFunction) + 1};
    stack.count = 1;
    stack.value_ns = 1'000'000'000ULL / frequency_hz_;
    return std::vector<RawStack>{stack};
  }
  SamplerStats stats() const override {
    SamplerStats stats;
    stats.samples = drains_;
    stats.drains = drains_;
    return stats;
  }
  std::string summary() const override { return "fake at " + std::to_string(frequency_hz_); }

 private:
  uint32_t frequency_hz_;
  std::shared_ptr<EngineLog> log_;
  std::atomic<uint64_t> drains_{0};
};

struct ExportLog {
  std::mutex mutex;
  std::vector<Upload> uploads;
  std::atomic<bool> shut_down{false};

  std::vector<Upload> snapshot() {
    std::lock_guard lock(mutex);
    return uploads;
  }
};

class RecordingExporter final : public Exporter {
 public:
  explicit RecordingExporter(std::shared_ptr<ExportLog> log) : log_(std::move(log)) {}
  void submit(Upload upload) override {
    std::lock_guard lock(log_->mutex);
    log_->uploads.push_back(std::move(upload));
  }
  ExportStats stats() const override {
    std::lock_guard lock(log_->mutex);
    ExportStats stats;
    stats.uploads = log_->uploads.size();
    return stats;
  }
  void shutdown(std::chrono::milliseconds) override { log_->shut_down = true; }

 private:
  std::shared_ptr<ExportLog> log_;
};

std::vector<std::unique_ptr<Exporter>> exportersTo(const std::shared_ptr<ExportLog>& log) {
  std::vector<std::unique_ptr<Exporter>> exporters;
  exporters.push_back(std::make_unique<RecordingExporter>(log));
  return exporters;
}

SidecarOptions options(std::string env, uint32_t frequency_hz) {
  SidecarOptions options;
  options.service_name = "web";
  options.series_labels = {{"env", std::move(env)}};
  options.frequency_hz = frequency_hz;
  options.upload_interval = 10s;
  return options;
}

class SidecarReconfigureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_ = std::make_unique<SidecarAgent>(options("old", 100),
                                            std::make_unique<FakeEngine>(100, first_engine_),
                                            std::make_unique<Symbolizer>(),
                                            exportersTo(first_exports_),
                                            clock_);
    runner_ = std::jthread([this](std::stop_token stop) { status_ = agent_->run(stop, 100ms); });
    clock_.waitForSleepers(1);
  }

  void TearDown() override {
    runner_.request_stop();
    clock_.advance(1s);
    runner_.join();
    EXPECT_TRUE(status_);
  }

  // Lets one upload interval pass and waits (bounded) until its cycle and any pending update
  // are done and the agent sleeps again.
  void passInterval() {
    const uint64_t cycles = agent_->stats().cycles;
    clock_.advance(10s);
    ASSERT_TRUE(eventually([&] { return agent_->stats().cycles == cycles + 1; }));
    clock_.waitForSleepers(1);
  }

  EngineFactory factory(std::shared_ptr<EngineLog> log) {
    return [log](const SidecarOptions& next) -> Result<std::unique_ptr<SamplingEngine>> {
      return std::unique_ptr<SamplingEngine>(std::make_unique<FakeEngine>(next.frequency_hz, log));
    };
  }

  FakeClock clock_;
  std::shared_ptr<EngineLog> first_engine_ = std::make_shared<EngineLog>();
  std::shared_ptr<ExportLog> first_exports_ = std::make_shared<ExportLog>();
  std::unique_ptr<SidecarAgent> agent_;
  std::jthread runner_;
  Status status_;
};

TEST_F(SidecarReconfigureTest, ANewConfigTakesEffectAtTheNextCycle) {
  auto second_engine = std::make_shared<EngineLog>();
  auto second_exports = std::make_shared<ExportLog>();
  agent_->reconfigure({options("new", 200), factory(second_engine), exportersTo(second_exports)});

  // The interval in progress is finished with the settings it was sampled under.
  passInterval();
  auto first = first_exports_->snapshot();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].series_labels.at("env"), "old");
  EXPECT_EQ(first[0].sample_rate_hz, 100u);
  EXPECT_TRUE(first_exports_->shut_down);
  EXPECT_EQ(first_engine_->stopped, 1);
  EXPECT_EQ(second_engine->started, 1);

  passInterval();
  auto second = second_exports->snapshot();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].series_labels.at("env"), "new");
  EXPECT_EQ(second[0].sample_rate_hz, 200u);
  EXPECT_EQ(first_exports_->snapshot().size(), 1u);
  const SidecarStats stats = agent_->stats();
  EXPECT_EQ(stats.reconfigurations, 1u);
  EXPECT_EQ(stats.failed_reconfigurations, 0u);
  // Counters carry on across the engine change (the agent drains every second, for its flight
  // recorder, so the count is that of both engines' drains).
  EXPECT_EQ(agent_->samplerStats().drains, first_engine_->drains + second_engine->drains);
  EXPECT_GT(second_engine->drains, 0u);
}

TEST_F(SidecarReconfigureTest, AnUpdateEndsTheIntervalInProgressWithinASecond) {
  auto second_exports = std::make_shared<ExportLog>();
  agent_->reconfigure({options("new", 100), nullptr, exportersTo(second_exports)});
  clock_.advance(1s);  // one sleep step, far short of the 10 s interval
  ASSERT_TRUE(eventually([&] { return agent_->stats().reconfigurations == 1; }));
  auto first = first_exports_->snapshot();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].series_labels.at("env"), "old");
  EXPECT_EQ(first[0].until - first[0].from, 1s);
  clock_.waitForSleepers(1);
  passInterval();
  EXPECT_EQ(second_exports->snapshot().size(), 1u);
}

TEST_F(SidecarReconfigureTest, WhenTheEngineCannotChangeTheRestIsStillApplied) {
  auto second_exports = std::make_shared<ExportLog>();
  EngineFactory broken = [](const SidecarOptions&) -> Result<std::unique_ptr<SamplingEngine>> {
    return fail(ErrorCode::PermissionDenied, "perf_event_open: Permission denied");
  };
  agent_->reconfigure({options("new", 500), broken, exportersTo(second_exports)});
  passInterval();
  passInterval();
  auto uploads = second_exports->snapshot();
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0].series_labels.at("env"), "new");
  EXPECT_EQ(uploads[0].sample_rate_hz, 100u);  // still the running engine's
  EXPECT_EQ(first_engine_->stopped, 0);
  const SidecarStats stats = agent_->stats();
  EXPECT_EQ(stats.failed_reconfigurations, 1u);
  EXPECT_NE(stats.last_reconfigure_error.find("Permission denied"), std::string::npos);
}

TEST_F(SidecarReconfigureTest, ANewerPendingUpdateKeepsTheExportersOfTheOneItReplaces) {
  auto second_exports = std::make_shared<ExportLog>();
  agent_->reconfigure({options("first", 100), nullptr, exportersTo(second_exports)});
  agent_->reconfigure({options("second", 100), nullptr, std::nullopt});
  passInterval();
  passInterval();
  auto uploads = second_exports->snapshot();
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0].series_labels.at("env"), "second");
  // Same sampling: no engine change was needed, none was made.
  EXPECT_EQ(first_engine_->stopped, 0);
  EXPECT_EQ(agent_->stats().failed_reconfigurations, 0u);
}

}  // namespace
}  // namespace kprof::agent

namespace kprof::agent {
namespace {

// Lets one second pass and waits until the agent drained and sleeps again.
void passSecond(FakeClock& clock, const std::atomic<uint64_t>& drains) {
  const uint64_t before = drains;
  clock.advance(1s);
  ASSERT_TRUE(eventually([&] { return drains > before; }));
  clock.waitForSleepers(1);
}

std::optional<kprof::snapshot::SnapshotReport> reportOf(const SidecarAgent& agent,
                                                        const std::string& id) {
  for (const auto& report : agent.snapshotReports()) {
    if (report.id == id) return report;
  }
  return std::nullopt;
}

TEST_F(SidecarReconfigureTest, ASnapshotRaisesTheRateUploadsLabeledProfilesAndRestores) {
  auto snapshot_engines = std::make_shared<EngineLog>();
  agent_->setEngineFactory(factory(snapshot_engines));
  std::atomic<int> changes{0};
  agent_->onSnapshotChange([&] { ++changes; });
  for (int i = 0; i < 3; ++i) passSecond(clock_, first_engine_->drains);  // the flight recorder

  kprof::snapshot::SnapshotCommand command;
  command.id = "shop.latency-1";
  command.types = {"cpu", "lock"};
  command.rate_hz = 1000;
  command.duration_seconds = 3;
  agent_->setSnapshotCommands({command});
  passSecond(clock_, first_engine_->drains);
  ASSERT_TRUE(eventually([&] { return snapshot_engines->started == 1; }));
  auto capturing = reportOf(*agent_, command.id);
  ASSERT_TRUE(capturing);
  EXPECT_EQ(capturing->phase, kprof::snapshot::Phase::Capturing);
  EXPECT_GT(capturing->started_at_ms, 0);
  EXPECT_NE(capturing->message.find("lock"), std::string::npos) << capturing->message;

  // The same command again (a re-delivered config) does not start a second capture.
  agent_->setSnapshotCommands({command});
  for (int i = 0; i < 4; ++i) passSecond(clock_, snapshot_engines->drains);
  ASSERT_TRUE(eventually([&] {
    auto report = reportOf(*agent_, command.id);
    return report && report->phase == kprof::snapshot::Phase::Completed;
  }));
  EXPECT_EQ(changes, 2);
  // Back at the regular rate: a second engine from the factory, at 100 Hz.
  EXPECT_EQ(snapshot_engines->started, 2);
  passInterval();
  const auto uploads = first_exports_->snapshot();
  std::vector<Upload> capture, before;
  for (const auto& upload : uploads) {
    if (!upload.series_labels.contains("snapshot_id")) continue;
    EXPECT_EQ(upload.series_labels.at("snapshot_id"), command.id);
    (upload.series_labels.contains("snapshot_part") ? before : capture).push_back(upload);
  }
  ASSERT_EQ(capture.size(), 1u);
  EXPECT_EQ(capture[0].sample_rate_hz, 1000u);
  EXPECT_EQ(capture[0].profile_type, "cpu");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].series_labels.at("snapshot_part"), "before");
  EXPECT_EQ(before[0].sample_rate_hz, 100u);
  EXPECT_EQ(uploads.back().sample_rate_hz, 100u);  // the regular series after the capture
  auto done = reportOf(*agent_, command.id);
  ASSERT_EQ(done->profiles.size(), 1u);
  EXPECT_GT(done->profiles[0].samples, 0);
  EXPECT_GT(done->profiles[0].bytes, 0);
}

TEST_F(SidecarReconfigureTest, AWithdrawnSnapshotStopsEarly) {
  agent_->setEngineFactory(factory(std::make_shared<EngineLog>()));
  kprof::snapshot::SnapshotCommand command;
  command.id = "s2";
  command.duration_seconds = 60;
  agent_->setSnapshotCommands({command});
  passSecond(clock_, first_engine_->drains);
  ASSERT_TRUE(eventually([&] { return reportOf(*agent_, "s2").has_value(); }));
  agent_->setSnapshotCommands({});
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] {
    auto report = reportOf(*agent_, "s2");
    return report && report->phase == kprof::snapshot::Phase::Completed;
  }));
  EXPECT_NE(reportOf(*agent_, "s2")->message.find("stopped early"), std::string::npos);
}

}  // namespace
}  // namespace kprof::agent
