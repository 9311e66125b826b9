#include "agent/cli/snapshot_command.hpp"

#include <cstdio>
#include <sstream>
#include <thread>

#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/fakekube/clock_pump.hpp"
#include "operator/fakekube/memory_api.hpp"

namespace kprof::agent {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace resources = kube::resources;

int64_t unixMillisOf(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.wallNow().time_since_epoch())
      .count();
}

// A cluster with the ProfilingPolicy shop/checkout and pods in every state the command meets.
class SnapshotCreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = api_.create(
        resources::kProfilingPolicies,
        "shop",
        {{"metadata", {{"name", "checkout"}, {"namespace", "shop"}}}, {"spec", json::object()}});
    ASSERT_TRUE(policy);
    policy_uid_ = (*policy)["metadata"]["uid"].get<std::string>();
    addPod("shop", "checkout-2", "checkout", "Running");
    addPod("shop", "checkout-1", "checkout", "Pending");
    addPod("shop", "checkout-done", "checkout", "Succeeded");
    addPod("shop", "checkout-crashed", "checkout", "Failed");
    addPod("shop", "worker-1", "worker", "Running");
    addPod("shop", "unprofiled", "", "Running");
    addPod("shop", "checkout-leaving", "checkout", "Running");
    // Deleted while a finalizer holds it: it carries a deletionTimestamp.
    auto leaving = api_.get(resources::kPods, "shop", "checkout-leaving");
    ASSERT_TRUE(leaving);
    (*leaving)["metadata"]["finalizers"] = {"example.com/hold"};
    ASSERT_TRUE(api_.update(resources::kPods, "shop", *leaving));
    ASSERT_TRUE(api_.remove(resources::kPods, "shop", "checkout-leaving"));
  }

  void addPod(const std::string& ns,
              const std::string& name,
              const std::string& policy,
              const std::string& phase) {
    json pod = {{"metadata", {{"name", name}, {"namespace", ns}}},
                {"spec", {{"containers", {{{"name", "app"}, {"image", "shop/app:1"}}}}}},
                {"status", {{"phase", phase}}}};
    if (!policy.empty())
      pod["metadata"]["labels"] = {{"kprof.dev/policy", policy}};
    ASSERT_TRUE(api_.create(resources::kPods, ns, pod));
  }

  SnapshotCreateOptions options() {
    SnapshotCreateOptions options;
    options.policy = "checkout";
    options.namespace_name = "shop";
    options.clock = &clock_;
    return options;
  }

  int run(const SnapshotCreateOptions& options) {
    out_.str("");
    err_.str("");
    return runSnapshotCreate(options, api_, out_, err_);
  }

  std::vector<json> snapshots(const std::string& ns = "shop") {
    auto list = api_.list(resources::kProfileSnapshots, ns, {});
    return list ? list->items : std::vector<json>{};
  }

  void writeStatus(const std::string& name, json status) {
    auto object = api_.get(resources::kProfileSnapshots, "shop", name);
    ASSERT_TRUE(object);
    (*object)["status"] = std::move(status);
    ASSERT_TRUE(api_.updateStatus(resources::kProfileSnapshots, "shop", *object));
  }

  FakeClock clock_;
  fakekube::MemoryApi api_{clock_};
  std::string policy_uid_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SnapshotCreateTest, CreatesASnapshotOfThePolicysRunningPodsOwnedByThePolicy) {
  SnapshotCreateOptions flags = options();
  flags.duration = "45s";
  flags.types = {"cpu", "wall"};
  flags.rate_hz = 99;
  ASSERT_EQ(run(flags), 0) << err_.str();

  const auto created = snapshots();
  ASSERT_EQ(created.size(), 1u);
  const json& snapshot = created[0];
  const std::string name = snapshot["metadata"]["name"].get<std::string>();
  EXPECT_EQ(name, defaultSnapshotName("checkout", unixMillisOf(clock_)));
  EXPECT_EQ(name.rfind("checkout-manual-", 0), 0u);
  EXPECT_EQ(name.size(), std::string("checkout-manual-").size() + 10);
  EXPECT_EQ(snapshot["spec"]["targets"]["pods"], json({"checkout-1", "checkout-2"}));
  EXPECT_EQ(snapshot["spec"]["policyRef"]["name"], "checkout");
  EXPECT_EQ(snapshot["spec"]["durationSeconds"], 45);
  EXPECT_EQ(snapshot["spec"]["types"], json({"cpu", "wall"}));
  EXPECT_EQ(snapshot["spec"]["rateHz"], 99);
  EXPECT_FALSE(snapshot["spec"].contains("trigger"));
  EXPECT_FALSE(snapshot["spec"].contains("alert"));
  EXPECT_FALSE(snapshot.contains("status"));
  EXPECT_EQ(snapshot["metadata"]["labels"]["kprof.dev/policy"], "checkout");
  ASSERT_EQ(snapshot["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(snapshot["metadata"]["ownerReferences"][0]["kind"], "ProfilingPolicy");
  EXPECT_EQ(snapshot["metadata"]["ownerReferences"][0]["uid"], policy_uid_);
  // What the controller reads back is the same snapshot.
  auto read = controllers::readProfileSnapshot(snapshot);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->spec.pods, (std::vector<std::string>{"checkout-1", "checkout-2"}));

  EXPECT_EQ(out_.str(),
            "profilesnapshot.kprof.dev/" + name + " created (2 pods, 45s)\n" +
                "follow it: kubectl get psnap " + name + " -n shop -w\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SnapshotCreateTest, PodsFlagRestrictsThePodsAndNameFlagNamesTheSnapshot) {
  SnapshotCreateOptions flags = options();
  flags.pods = {"checkout-2"};
  flags.name = "before-release";
  ASSERT_EQ(run(flags), 0) << err_.str();
  auto snapshot = api_.get(resources::kProfileSnapshots, "shop", "before-release");
  ASSERT_TRUE(snapshot);
  EXPECT_EQ((*snapshot)["spec"]["targets"]["pods"], json({"checkout-2"}));
  EXPECT_THAT(out_.str(),
              HasSubstr("profilesnapshot.kprof.dev/before-release created (1 pod, 30s)"));
}

TEST_F(SnapshotCreateTest, PodsThatAreNotRunningPodsOfThePolicyAreNamed) {
  SnapshotCreateOptions flags = options();
  flags.pods = {"checkout-1", "ghost", "checkout-done", "worker-1"};
  EXPECT_EQ(run(flags), 1);
  EXPECT_EQ(err_.str(),
            "kprof snapshot create: policy checkout profiles no running pod named checkout-done, "
            "ghost, worker-1\n");
  EXPECT_TRUE(snapshots().empty());
}

TEST_F(SnapshotCreateTest, AMissingPolicyIsAnError) {
  SnapshotCreateOptions flags = options();
  flags.policy = "nope";
  EXPECT_EQ(run(flags), 1);
  EXPECT_EQ(err_.str(), "kprof snapshot create: ProfilingPolicy shop/nope not found\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_TRUE(snapshots().empty());
}

TEST_F(SnapshotCreateTest, APolicyWithoutRunningPodsIsAnError) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies,
                          "shop",
                          {{"metadata", {{"name", "idle"}, {"namespace", "shop"}}}}));
  addPod("shop", "idle-1", "idle", "Succeeded");
  SnapshotCreateOptions flags = options();
  flags.policy = "idle";
  EXPECT_EQ(run(flags), 1);
  EXPECT_EQ(err_.str(), "kprof snapshot create: policy idle profiles no running pod\n");
  EXPECT_TRUE(snapshots().empty());
}

TEST_F(SnapshotCreateTest, TheNamespaceDefaultsToDefault) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies,
                          "default",
                          {{"metadata", {{"name", "checkout"}, {"namespace", "default"}}}}));
  addPod("default", "checkout-9", "checkout", "Running");
  SnapshotCreateOptions flags = options();
  flags.namespace_name = "";
  ASSERT_EQ(run(flags), 0) << err_.str();
  const auto created = snapshots("default");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]["spec"]["targets"]["pods"], json({"checkout-9"}));
  EXPECT_THAT(out_.str(), HasSubstr(" -n default -w"));
}

TEST_F(SnapshotCreateTest, MoreThan256PodsTakesTheFirst256AndWarns) {
  for (int i = 0; i < 258; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "big-%03d", i);
    addPod("shop", name, "checkout", "Running");
  }
  SnapshotCreateOptions flags = options();
  flags.name = "big";
  ASSERT_EQ(run(flags), 0) << err_.str();
  auto snapshot = api_.get(resources::kProfileSnapshots, "shop", "big");
  ASSERT_TRUE(snapshot);
  const json& pods = (*snapshot)["spec"]["targets"]["pods"];
  ASSERT_EQ(pods.size(), 256u);
  EXPECT_EQ(pods[0], "big-000");
  EXPECT_EQ(pods[255], "big-255");
  EXPECT_EQ(err_.str(),
            "kprof snapshot create: warning: 260 pods match; a snapshot names at most 256, so it "
            "takes the first 256 by name\n");
  EXPECT_THAT(out_.str(), HasSubstr("created (256 pods, 30s)"));
}

TEST_F(SnapshotCreateTest, BadFlagsAreRefusedBeforeAnyApiCall) {
  std::vector<SnapshotCreateOptions> bad;
  for (const char* duration : {"0s", "601s", "1500ms", "soon", "11m"}) {
    bad.push_back(options());
    bad.back().duration = duration;
  }
  for (const std::vector<std::string>& types :
       std::vector<std::vector<std::string>>{{"cpu", "heap"}, {}, {""}}) {
    bad.push_back(options());
    bad.back().types = types;
  }
  for (int rate : {0, -5, 10'001}) {
    bad.push_back(options());
    bad.back().rate_hz = rate;
  }
  bad.push_back(options());
  bad.back().timeout = "later";
  bad.push_back(options());
  bad.back().name = "Not_A_Name";
  bad.push_back(options());
  bad.back().policy = "";
  const size_t gets_before = api_.calls(fakekube::Verb::Get);
  for (const SnapshotCreateOptions& flags : bad) {
    EXPECT_EQ(run(flags), 2) << flags.duration << " " << flags.rate_hz;
    EXPECT_THAT(err_.str(), HasSubstr("kprof snapshot create: --"));
  }
  EXPECT_EQ(api_.calls(fakekube::Verb::Get), gets_before);
  EXPECT_EQ(api_.calls(fakekube::Verb::Create, "profilesnapshots"), 0u);
}

TEST_F(SnapshotCreateTest, EdgesOfTheFlagRangesAreAccepted) {
  SnapshotCreateOptions flags = options();
  flags.duration = "10m";
  flags.rate_hz = 10'000;
  flags.types = {"cpu", "alloc", "lock", "wall", "cpu"};
  auto spec = snapshotSpecFromFlags(flags);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->duration_seconds, 600);
  EXPECT_EQ(spec->types, (std::vector<std::string>{"cpu", "alloc", "lock", "wall"}));
  flags.duration = "1s";
  flags.rate_hz = 1;
  spec = snapshotSpecFromFlags(flags);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->duration_seconds, 1);
  EXPECT_EQ(spec->policy, "checkout");
  EXPECT_TRUE(spec->trigger.empty());
}

TEST_F(SnapshotCreateTest, AnExistingNameIsAnError) {
  SnapshotCreateOptions flags = options();
  flags.name = "twice";
  ASSERT_EQ(run(flags), 0);
  EXPECT_EQ(run(flags), 1);
  EXPECT_EQ(err_.str(), "kprof snapshot create: ProfileSnapshot shop/twice already exists\n");
}

// --wait: the command runs on its own thread on the fake clock; the test plays the controller,
// writing status between the command's reads. `read` is how many reads of the snapshot to await.
class WaitingCommand {
 public:
  WaitingCommand(const SnapshotCreateOptions& options, fakekube::MemoryApi& api, FakeClock& clock)
      : api_(api), clock_(clock) {
    thread_ =
        std::thread([this, options] { code_ = runSnapshotCreate(options, api_, out_, err_); });
  }
  ~WaitingCommand() {
    if (thread_.joinable())
      thread_.join();
  }
  // Waits until the command has read the snapshot `reads` times and sleeps before the next.
  void awaitRead(size_t reads) {
    EXPECT_TRUE(api_.waitForCalls(
        fakekube::Verb::Get, reads, std::chrono::seconds(30), "profilesnapshots"));
    clock_.waitForSleepers(1);
  }
  void nextPoll() { clock_.advance(std::chrono::seconds(1)); }
  int finish() {
    thread_.join();
    return code_;
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

 private:
  fakekube::MemoryApi& api_;
  FakeClock& clock_;
  std::thread thread_;
  int code_ = -1;
  std::ostringstream out_;
  std::ostringstream err_;
};

json podStatus(const std::string& name,
               const std::string& phase,
               int64_t samples = -1,
               const std::string& message = "") {
  json pod = {{"name", name}, {"phase", phase}};
  if (samples >= 0)
    pod["profiles"] = {{{"type", "cpu"}, {"samples", samples}, {"bytes", 100}}};
  if (!message.empty())
    pod["message"] = message;
  return pod;
}

TEST_F(SnapshotCreateTest, WaitFollowsTheSnapshotToCompletedAndPrintsEachPod) {
  SnapshotCreateOptions flags = options();
  flags.name = "manual-1";
  flags.wait = true;
  WaitingCommand command(flags, api_, clock_);
  command.awaitRead(1);  // no status yet: Pending
  writeStatus(
      "manual-1",
      {{"phase", "Capturing"},
       {"pods", {podStatus("checkout-1", "Capturing"), podStatus("checkout-2", "Pending")}}});
  command.nextPoll();
  command.awaitRead(2);
  command.nextPoll();  // nothing changed: no new line
  command.awaitRead(3);
  writeStatus("manual-1",
              {{"phase", "Completed"},
               {"queryURL", "http://pyroscope:4040/?query=x"},
               {"pods",
                {podStatus("checkout-1", "Completed", 2893),
                 podStatus("checkout-2", "Failed", -1, "agent did not start the capture")}}});
  command.nextPoll();
  EXPECT_EQ(command.finish(), 0) << command.err();
  EXPECT_EQ(command.out(),
            "profilesnapshot.kprof.dev/manual-1 created (2 pods, 30s)\n"
            "follow it: kubectl get psnap manual-1 -n shop -w\n"
            "Pending\n"
            "Capturing (1/2 pods started)\n"
            "Completed (1/2 pods completed)\n"
            "POD         PHASE      SAMPLES  MESSAGE\n"
            "checkout-1  Completed     2893\n"
            "checkout-2  Failed           -  agent did not start the capture\n"
            "query: http://pyroscope:4040/?query=x\n");
  EXPECT_EQ(command.err(), "");
}

TEST_F(SnapshotCreateTest, WaitExitsOneWhenTheSnapshotFails) {
  SnapshotCreateOptions flags = options();
  flags.name = "manual-2";
  flags.wait = true;
  WaitingCommand command(flags, api_, clock_);
  command.awaitRead(1);
  writeStatus("manual-2",
              {{"phase", "Failed"},
               {"pods",
                {podStatus("checkout-1", "Failed", -1, "pod gone"),
                 podStatus("checkout-2", "Failed", -1, "no result")}}});
  command.nextPoll();
  EXPECT_EQ(command.finish(), 1);
  EXPECT_THAT(command.out(), HasSubstr("Failed (0/2 pods completed)\n"));
  EXPECT_THAT(command.out(), HasSubstr("checkout-1  Failed        -  pod gone\n"));
  EXPECT_THAT(command.out(), Not(HasSubstr("query:")));
  EXPECT_EQ(command.err(), "kprof snapshot create: ProfileSnapshot shop/manual-2 Failed\n");
}

TEST_F(SnapshotCreateTest, WaitExitsOneWhenTheTimeoutPasses) {
  SnapshotCreateOptions flags = options();
  flags.name = "manual-3";
  flags.wait = true;
  flags.timeout = "3s";
  WaitingCommand command(flags, api_, clock_);
  command.awaitRead(1);
  writeStatus("manual-3",
              {{"phase", "Capturing"}, {"pods", {podStatus("checkout-1", "Capturing")}}});
  int code = 0;
  {
    fakekube::ClockPump pump(clock_);
    code = command.finish();
  }
  EXPECT_EQ(code, 1);
  EXPECT_EQ(command.err(),
            "kprof snapshot create: timed out after 3s waiting for ProfileSnapshot shop/manual-3 "
            "(last seen: Capturing (1/2 pods started))\n");
}

TEST_F(SnapshotCreateTest, WaitEndsWhenTheSnapshotIsDeleted) {
  SnapshotCreateOptions flags = options();
  flags.name = "manual-4";
  flags.wait = true;
  WaitingCommand command(flags, api_, clock_);
  command.awaitRead(1);
  ASSERT_TRUE(api_.remove(resources::kProfileSnapshots, "shop", "manual-4"));
  command.nextPoll();
  EXPECT_EQ(command.finish(), 1);
  EXPECT_EQ(command.err(),
            "kprof snapshot create: ProfileSnapshot shop/manual-4 was deleted while waiting\n");
}

TEST(SnapshotProgress, SaysThePhaseAndHowManyPodsGotThere) {
  const json spec = {{"targets", {{"pods", {"a", "b", "c"}}}}};
  EXPECT_EQ(snapshotProgress({{"spec", spec}}), "Pending");
  EXPECT_EQ(snapshotProgress({{"spec", spec}, {"status", {{"phase", "Pending"}}}}), "Pending");
  EXPECT_EQ(snapshotProgress({{"spec", spec},
                              {"status",
                               {{"phase", "Capturing"},
                                {"pods",
                                 {podStatus("a", "Capturing"),
                                  podStatus("b", "Completed", 5),
                                  podStatus("c", "Pending")}}}}}),
            "Capturing (2/3 pods started)");
  EXPECT_EQ(snapshotProgress({{"spec", spec}, {"status", {{"phase", "Capturing"}}}}),
            "Capturing (0/3 pods started)");
  EXPECT_EQ(snapshotProgress({{"spec", spec},
                              {"status",
                               {{"phase", "Completed"},
                                {"pods",
                                 {podStatus("a", "Completed", 1),
                                  podStatus("b", "Completed", 5),
                                  podStatus("c", "Failed")}}}}}),
            "Completed (2/3 pods completed)");
  // Malformed resources do not throw.
  EXPECT_EQ(snapshotProgress(json()), "Pending");
  EXPECT_EQ(snapshotProgress({{"status", {{"phase", 7}, {"pods", "x"}}}}), "Pending");
}

TEST(SnapshotPodTable, SumsSamplesOverTypes) {
  const json snapshot = {
      {"status",
       {{"pods",
         {{{"name", "api-7d9f"},
           {"phase", "Completed"},
           {"profiles", {{{"type", "cpu"}, {"samples", 10}}, {{"type", "wall"}, {"samples", 5}}}}},
          json("not a pod")}}}}};
  EXPECT_EQ(snapshotPodTable(snapshot),
            "POD       PHASE      SAMPLES  MESSAGE\n"
            "api-7d9f  Completed       15\n");
}

TEST(ChooseSnapshotPods, KeepsRunningPodsSortedAndNamesUnknownOnes) {
  auto pod = [](const std::string& name, const std::string& phase) {
    return json{{"metadata", {{"name", name}}}, {"status", {{"phase", phase}}}};
  };
  const std::vector<json> listed = {pod("c", "Running"),
                                    pod("a", "Unknown"),
                                    pod("b", "Failed"),
                                    json{{"metadata", {{"name", "d"}}}}};
  auto all = chooseSnapshotPods("p", listed, {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->pods, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(all->dropped, 0u);
  auto some = chooseSnapshotPods("p", listed, {"d", "a", "d"});
  ASSERT_TRUE(some);
  EXPECT_EQ(some->pods, (std::vector<std::string>{"a", "d"}));
  auto unknown = chooseSnapshotPods("p", listed, {"b", "z"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);
  EXPECT_EQ(unknown.error().message, "policy p profiles no running pod named b, z");
}

#ifdef KPROF_CLI_BINARY
// The binary's output (stdout and stderr) and its exit code.
std::pair<std::string, int> runKprof(const std::string& arguments) {
  const std::string command = std::string(KPROF_CLI_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return {"popen failed", -1};
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    text.append(buffer, n);
  const int status = ::pclose(pipe);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(SnapshotCreateBinary, HelpExplainsWhatASnapshotIs) {
  const auto [text, code] = runKprof("snapshot create --help");
  EXPECT_EQ(code, 0) << text;
  EXPECT_THAT(text, HasSubstr("a snapshot is one short high-resolution capture of profiles"));
  EXPECT_THAT(text, HasSubstr("--policy"));
  EXPECT_THAT(text, HasSubstr("--wait"));
  EXPECT_THAT(text, HasSubstr("--timeout"));
}

TEST(SnapshotCreateBinary, RefusesBadFlagsBeforeLookingForACluster) {
  const auto [text, code] =
      runKprof("snapshot create --policy p --kubeconfig /nonexistent/kubeconfig --duration 0s");
  EXPECT_EQ(code, 2) << text;
  EXPECT_THAT(text, HasSubstr("kprof snapshot create: --duration '0s'"));
}
#endif

}  // namespace
}  // namespace kprof::agent
