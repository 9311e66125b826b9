// The installed kubectl against the fake API server: discovery, create -f, get (table and JSON),
// short names of the kprof CRDs, label, the three patch types, delete. Asserts on kubectl's
// output and on the server's state. Skips when kubectl is not installed. Every command runs with
// a temporary HOME, --kubeconfig=/dev/null and a bounded time.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "agent/testing/child_process.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"

namespace kprof::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string findOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    if (colon == std::string::npos) {
      break;
    }
    start = colon + 1;
  }
  return "";
}

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = findOnPath("kubectl");
    if (kubectl_.empty()) {
      // A missing peer tool is a broken set-up, not a reason to pass (docs/decisions.md).
      FAIL() << "kubectl is not installed (not on PATH); scripts/install-deps.sh installs it";
    }
    home_ = std::filesystem::temp_directory_path() /
            ("kprof-kubectl-test-" + std::to_string(getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(home_);
    FakeApiServerOptions options;
    options.crd_files = kprofCrdFiles(KPROF_SOURCE_DIR);
    auto made = FakeApiServer::make(std::move(options));
    ASSERT_TRUE(made) << made.error().toString();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start());
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    if (!home_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(home_, ignored);
    }
  }

  ProcessResult kubectl(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        kubectl_, "--server", server_->url(), "--kubeconfig=/dev/null", "--request-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    // Only what kubectl needs: no user kubeconfig, cache or credentials leak in.
    std::vector<std::string> env = {
        "HOME=" + home_.string(),
        "PATH=" +
            std::string(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin")};
    ProcessResult result = runProcess(argv, env, 60s);
    last_command_ = "kubectl";
    for (const std::string& arg : args) {
      last_command_ += " " + arg;
    }
    return result;
  }

  // Runs kubectl and expects success; returns stdout.
  std::string ok(std::vector<std::string> args) {
    ProcessResult result = kubectl(std::move(args));
    EXPECT_EQ(result.exit_code, 0)
        << last_command_ << "\nstdout: " << result.out << "\nstderr: " << result.err;
    return result.out;
  }

  std::string write(const std::string& name, const std::string& content) {
    std::filesystem::path path = home_ / name;
    std::ofstream(path) << content;
    return path.string();
  }

  std::string kubectl_;
  std::filesystem::path home_;
  std::unique_ptr<FakeApiServer> server_;
  std::string last_command_;
};

// Whitespace-separated words of a line.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string word;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) {
        out.push_back(word);
        word.clear();
      }
    } else {
      word += c;
    }
  }
  if (!word.empty()) {
    out.push_back(word);
  }
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return out;
}

TEST_F(KubectlTest, CreateGetLabelPatchDelete) {
  const std::string pod_file = write("pod.yaml", R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
    - name: app
      image: nginx:1.25
)");
  const std::string namespace_file = write("namespace.yaml", R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
)");
  const std::string policy_file =
      (std::filesystem::path(KPROF_SOURCE_DIR) / "examples" / "policy-minimal.yaml").string();

  // create -f
  EXPECT_EQ(ok({"create", "-f", pod_file}), "pod/web created\n");
  EXPECT_EQ(ok({"create", "-f", namespace_file}), "namespace/shop created\n");
  EXPECT_EQ(ok({"create", "-f", policy_file}), "profilingpolicy.kprof.dev/checkout created\n");
  auto pod = server_->getObject(kube::resources::kPods, "default", "web");
  ASSERT_TRUE(pod) << pod.error().toString();
  EXPECT_EQ((*pod)["spec"]["containers"][0]["image"], "nginx:1.25");
  ASSERT_TRUE(server_->getObject(kube::resources::kProfilingPolicies, "shop", "checkout"));
  ProcessResult duplicate = kubectl({"create", "-f", pod_file});
  EXPECT_NE(duplicate.exit_code, 0);
  EXPECT_NE(duplicate.err.find("AlreadyExists"), std::string::npos) << duplicate.err;

  // get pods: the server-side table
  std::vector<std::string> table = lines(ok({"get", "pods"}));
  ASSERT_EQ(table.size(), 2u) << ok({"get", "pods"});
  EXPECT_EQ(words(table[0]),
            (std::vector<std::string>{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}));
  std::vector<std::string> row = words(table[1]);
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0], "web");
  EXPECT_EQ(row[1], "0/1");
  EXPECT_EQ(row[2], "Pending");
  EXPECT_EQ(row[3], "0");

  // get pods -o json
  json list = json::parse(ok({"get", "pods", "-o", "json"}), nullptr, false);
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "web");
  EXPECT_EQ(list["items"][0]["metadata"]["uid"], (*pod)["metadata"]["uid"]);

  // The CRD's short names and printer columns.
  std::vector<std::string> policies = lines(ok({"get", "pp", "-n", "shop"}));
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(words(policies[0]).front(), "NAME");
  EXPECT_EQ(words(policies[0]).back(), "AGE");
  EXPECT_EQ(words(policies[1]).front(), "checkout");
  EXPECT_EQ(ok({"get", "kpp", "-n", "shop", "-o", "name"}), "profilingpolicy.kprof.dev/checkout\n");
  EXPECT_EQ(ok({"get",
                "profilingpolicies.kprof.dev",
                "-A",
                "-o",
                "jsonpath={.items[0].metadata.namespace}"}),
            "shop");

  // label (a merge patch)
  EXPECT_EQ(ok({"label", "pod", "web", "env=prod"}), "pod/web labeled\n");
  pod = server_->getObject(kube::resources::kPods, "default", "web");
  EXPECT_EQ((*pod)["metadata"]["labels"]["env"], "prod");
  EXPECT_EQ(lines(ok({"get", "pods", "-l", "env=prod", "-o", "name"})),
            (std::vector<std::string>{"pod/web"}));
  EXPECT_EQ(ok({"get", "pods", "-l", "env=staging", "-o", "name"}), "");

  // patch: merge, JSON (with a '/' in a label key) and the default strategic merge
  const std::string merge = write("merge.json", R"({"metadata":{"annotations":{"note":"hi"}}})");
  EXPECT_EQ(ok({"patch", "pod", "web", "--type", "merge", "--patch-file", merge}),
            "pod/web patched\n");
  const std::string json_patch =
      write("json-patch.json",
            R"([{"op":"add","path":"/metadata/labels/kprof.dev~1policy","value":"checkout"}])");
  EXPECT_EQ(ok({"patch", "pod", "web", "--type", "json", "--patch-file", json_patch}),
            "pod/web patched\n");
  const std::string strategic =
      write("strategic.json", R"({"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}})");
  EXPECT_EQ(ok({"patch", "pod", "web", "--patch-file", strategic}), "pod/web patched\n");
  pod = server_->getObject(kube::resources::kPods, "default", "web");
  EXPECT_EQ((*pod)["metadata"]["annotations"]["note"], "hi");
  EXPECT_EQ((*pod)["metadata"]["labels"]["kprof.dev/policy"], "checkout");
  EXPECT_EQ((*pod)["spec"]["containers"].size(), 1u);
  EXPECT_EQ((*pod)["spec"]["containers"][0]["image"], "nginx:1.27");
  EXPECT_EQ((*pod)["metadata"]["generation"], 2);

  const std::string spec = write("spec.json", R"({"spec":{"mode":"ebpf"}})");
  EXPECT_EQ(ok({"patch", "pp", "checkout", "-n", "shop", "--type", "merge", "--patch-file", spec}),
            "profilingpolicy.kprof.dev/checkout patched\n");
  auto policy = server_->getObject(kube::resources::kProfilingPolicies, "shop", "checkout");
  ASSERT_TRUE(policy);
  EXPECT_EQ((*policy)["spec"]["mode"], "ebpf");
  EXPECT_EQ((*policy)["metadata"]["generation"], 2);
  // Custom resources take no strategic merge patch, as on a real server.
  ProcessResult strategic_cr =
      kubectl({"patch", "pp", "checkout", "-n", "shop", "--patch-file", spec});
  EXPECT_NE(strategic_cr.exit_code, 0);
  EXPECT_NE(strategic_cr.err.find("not supported"), std::string::npos) << strategic_cr.err;

  // delete
  EXPECT_EQ(ok({"delete", "pod", "web"}), "pod \"web\" deleted\n");
  auto gone = server_->getObject(kube::resources::kPods, "default", "web");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::NotFound);
  EXPECT_EQ(ok({"delete", "-f", policy_file}), "profilingpolicy.kprof.dev \"checkout\" deleted\n");
  ProcessResult missing = kubectl({"get", "pod", "web"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("NotFound"), std::string::npos) << missing.err;
  EXPECT_EQ(server_->requestCount("delete", "pods"), 1);
}

TEST_F(KubectlTest, ApplyAndServerSideApply) {
  const std::string policy_file =
      (std::filesystem::path(KPROF_SOURCE_DIR) / "examples" / "policy-full.yaml").string();
  auto documents = std::ifstream(policy_file).good();
  ASSERT_TRUE(documents) << policy_file;
  ASSERT_TRUE(server_->createNamespace("shop"));
  std::string first = ok({"apply", "-f", policy_file});
  EXPECT_NE(first.find("created"), std::string::npos) << first;
  EXPECT_NE(ok({"apply", "-f", policy_file}).find("unchanged"), std::string::npos);
  std::string applied = ok({"apply", "--server-side", "-f", policy_file});
  EXPECT_NE(applied.find("serverside-applied"), std::string::npos) << applied;
}

}  // namespace
}  // namespace kprof::testing
