#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include "agent/export/exporter.hpp"
#include "agent/export/pyroscope_ingest.hpp"
#include "agent/export/upload_queue.hpp"

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;

Upload makeUpload(const std::string& type, size_t bytes, char fill = 'p') {
  Upload upload;
  upload.profile_type = type;
  upload.series_name = "shop." + type + "{env=prod}";
  upload.from = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  upload.until = upload.from + 10s;
  upload.pprof_gz = std::string(bytes, fill);
  return upload;
}

TEST(UploadQueue, DropsTheOldestWhenOverTheItemBudget) {
  UploadQueue queue(UploadQueueLimits{2, 1 << 20});
  queue.push(makeUpload("cpu", 10, 'a'));
  queue.push(makeUpload("cpu", 10, 'b'));
  queue.push(makeUpload("cpu", 10, 'c'));
  const auto stats = queue.stats();
  EXPECT_EQ(stats.items, 2u);
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(queue.pop(0ms)->pprof_gz[0], 'b');
  EXPECT_EQ(queue.pop(0ms)->pprof_gz[0], 'c');
  EXPECT_FALSE(queue.pop(0ms));
}

TEST(UploadQueue, StaysWithinTheByteBudget) {
  UploadQueue queue(UploadQueueLimits{1000, 100});
  for (int i = 0; i < 50; ++i) {
    queue.push(makeUpload("cpu", 30));
  }
  EXPECT_LE(queue.stats().bytes, 100u);
  EXPECT_EQ(queue.stats().items, 3u);
  EXPECT_EQ(queue.stats().dropped, 47u);
}

TEST(UploadQueue, ARetryLosesToNewerDataWhenFull) {
  UploadQueue queue(UploadQueueLimits{1, 1 << 20});
  queue.push(makeUpload("cpu", 10, 'n'));
  queue.requeueFront(makeUpload("cpu", 10, 'o'));
  EXPECT_EQ(queue.stats().dropped, 1u);
  EXPECT_EQ(queue.pop(0ms)->pprof_gz[0], 'n');
}

TEST(PyroscopeIngest, SeriesNameSortsAndNeutralisesLabels) {
  EXPECT_EQ(seriesName("shop", "cpu", {{"pod", "shop-1"}, {"env", "prod"}, {"version", ""}}),
            "shop.cpu{env=prod,pod=shop-1}");
  // A value cannot inject a second label or close the braces.
  EXPECT_EQ(seriesName("shop", "cpu", {{"env", "x},evil={y"}}), "shop.cpu{env=x__evil__y}");
}

TEST(PyroscopeIngest, BuildsTheIngestRequestWithTenantAndAuth) {
  PyroscopeTarget target{
      "http://pyroscope:4040/", "team-a", PyroscopeTarget::Auth::Basic, "user", "secret", ""};
  const auto request = buildIngestRequest(target, makeUpload("cpu", 4));
  EXPECT_EQ(request.path, "/ingest");
  EXPECT_EQ(request.query,
            (std::map<std::string, std::string>{{"name", "shop.cpu{env=prod}"},
                                                {"from", "1700000000"},
                                                {"until", "1700000010"},
                                                {"format", "pprof"},
                                                {"sampleRate", "100"},
                                                {"spyName", "kprof"}}));
  auto header = [&](const std::string& name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) {
        return value;
      }
    }
    return std::string();
  };
  EXPECT_EQ(header("X-Scope-OrgID"), "team-a");
  EXPECT_EQ(header("Authorization"), "Basic dXNlcjpzZWNyZXQ=");
  EXPECT_EQ(header("Content-Type"), "multipart/form-data; boundary=kprof-profile-boundary");
  EXPECT_NE(request.body.find("name=\"profile\""), std::string::npos);
  EXPECT_NE(request.body.find("\r\n\r\npppp\r\n--kprof-profile-boundary--\r\n"), std::string::npos);

  target.auth = PyroscopeTarget::Auth::Bearer;
  target.bearer_token = "tok";
  target.tenant_id.clear();
  const auto bearer = buildIngestRequest(target, makeUpload("cpu", 4));
  EXPECT_EQ(bearer.headers.size(), 2u);  // content type and authorization; no tenant header
  EXPECT_EQ(bearer.headers[1].second, "Bearer tok");
}

TEST(PyroscopeIngest, ABoundaryInsideTheProfileIsAvoided) {
  Upload upload = makeUpload("cpu", 0);
  upload.pprof_gz = "xx--kprof-profile-boundary--xx";
  PyroscopeTarget target;
  target.url = "http://p";
  const auto request = buildIngestRequest(target, upload);
  EXPECT_NE(request.headers[0].second.find("kprof-profile-boundary-x"), std::string::npos);
}

// A target that answers from a script of outcomes, then 200.
class ScriptedTransport final : public IngestTransport {
 public:
  explicit ScriptedTransport(std::deque<Result<int>> script) : script_(std::move(script)) {}
  Result<int> post(const OutgoingRequest& request, std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    bodies_.push_back(request.body);
    if (script_.empty()) {
      return 200;
    }
    auto next = script_.front();
    script_.pop_front();
    return next;
  }
  size_t calls() {
    std::lock_guard lock(mutex_);
    return bodies_.size();
  }

 private:
  std::mutex mutex_;
  std::deque<Result<int>> script_;
  std::vector<std::string> bodies_;
};

// Waits (bounded) until `done` holds; the exporter's thread makes progress meanwhile.
template <typename Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(PyroscopeExporter, RetriesWithBackoffUntilTheTargetIsBack) {
  FakeClock clock;
  auto transport = std::make_unique<ScriptedTransport>(
      std::deque<Result<int>>{fail(ErrorCode::Unavailable, "connection refused"), 503});
  auto* target = transport.get();
  PyroscopeExporterOptions options;
  options.target.url = "http://127.0.0.1:1";
  PyroscopeExporter exporter(options, std::move(transport), clock);

  exporter.submit(makeUpload("cpu", 100));
  ASSERT_TRUE(eventually([&] { return target->calls() == 1; }));
  clock.waitForSleepers(1);
  clock.advance(1s);  // past the first backoff (250 ms ± 20%)
  ASSERT_TRUE(eventually([&] { return target->calls() == 2; }));
  clock.waitForSleepers(1);
  clock.advance(1s);
  ASSERT_TRUE(eventually([&] { return exporter.stats().uploads == 1; }));
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.upload_errors, 2u);
  EXPECT_EQ(stats.upload_bytes, 100u);
  EXPECT_EQ(stats.dropped, 0u);
  exporter.shutdown(0ms);
}

TEST(PyroscopeExporter, APermanentRejectionIsDroppedNotRetried) {
  FakeClock clock;
  auto transport = std::make_unique<ScriptedTransport>(std::deque<Result<int>>{400});
  auto* target = transport.get();
  PyroscopeExporter exporter(PyroscopeExporterOptions{}, std::move(transport), clock);
  exporter.submit(makeUpload("cpu", 10));
  exporter.submit(makeUpload("wall", 10));
  ASSERT_TRUE(eventually([&] { return exporter.stats().uploads == 1; }));
  EXPECT_EQ(exporter.stats().rejected, 1u);
  EXPECT_EQ(target->calls(), 2u);
  exporter.shutdown(0ms);
}

TEST(Retryable, ClassifiesOutcomes) {
  EXPECT_TRUE(isRetryable(fail(ErrorCode::Timeout, "slow")));
  EXPECT_TRUE(isRetryable(Result<int>(503)));
  EXPECT_TRUE(isRetryable(Result<int>(429)));
  EXPECT_FALSE(isRetryable(Result<int>(401)));
  EXPECT_FALSE(isRetryable(Result<int>(200)));
}

TEST(FileExporter, WritesEachProfileUnderItsTypeAndTime) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("kprof-export-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  FileExporter exporter(dir.string());
  exporter.submit(makeUpload("cpu", 5, 'z'));
  EXPECT_EQ(std::filesystem::path(exporter.lastPath()).filename(), "cpu_20231114T221330Z.pb.gz");
  exporter.submit(makeUpload("cpu", 5, 'y'));  // same second: a second file, not an overwrite
  EXPECT_EQ(std::filesystem::path(exporter.lastPath()).filename(), "cpu_20231114T221330Z-1.pb.gz");
  std::ifstream in(exporter.lastPath(), std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "yyyyy");
  EXPECT_EQ(exporter.stats().uploads, 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kprof::agent
