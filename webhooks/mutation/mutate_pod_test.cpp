// Table tests: every file in testdata/cases holds a whole request pod, its namespace and
// policies, and the whole pod expected after the returned patch is applied. Run with
// KPROF_UPDATE_CASES=1 to write the current results into the files — then read the diff.
#include "webhooks/mutation/mutate_pod.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <gtest/gtest.h>

namespace kprof::webhooks {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Case {
  std::string name;
  json document;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::vector<Case> loadCases() {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(KPROF_MUTATION_CASES)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    cases.push_back({entry.path().stem().string(), json::parse(in)});
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

std::vector<controllers::ProfilingPolicy> policiesOf(const json& document) {
  std::vector<controllers::ProfilingPolicy> policies;
  for (const auto& resource : document.value("policies", json::array())) {
    auto policy = controllers::readProfilingPolicy(resource);
    EXPECT_TRUE(policy) << policy.error().message;
    if (policy) policies.push_back(std::move(*policy));
  }
  return policies;
}

NamespaceInfo namespaceOf(const json& document) {
  NamespaceInfo ns;
  ns.name = document["namespace"]["name"];
  const json labels = document["namespace"].value("labels", json::object());
  for (const auto& [key, value] : labels.items()) {
    ns.labels[key] = value.get<std::string>();
  }
  return ns;
}

InjectionConfig configOf(const json& document) {
  InjectionConfig config;
  config.cluster_minor = document.value("clusterMinor", 29);
  return config;
}

class MutationCase : public ::testing::TestWithParam<Case> {};

TEST_P(MutationCase, GivesTheExpectedWholePod) {
  const Case& c = GetParam();
  const json& pod = c.document["pod"];
  const auto policies = policiesOf(c.document);
  const auto ns = namespaceOf(c.document);
  const auto config = configOf(c.document);

  const MutationResult result = mutatePod(pod, policies, ns, config);
  const json mutated = pod.patch(result.patch);

  if (std::getenv("KPROF_UPDATE_CASES") != nullptr) {
    json updated = c.document;
    updated["expected"] = mutated;
    updated["outcome"] = mutationOutcomeName(result.outcome);
    std::ofstream(fs::path(KPROF_MUTATION_CASES) / (c.name + ".json")) << updated.dump(2) << "\n";
    return;
  }

  EXPECT_EQ(mutationOutcomeName(result.outcome), c.document["outcome"].get<std::string>())
      << result.reason;
  ASSERT_TRUE(c.document.contains("expected")) << "no expected pod; see the file comment";
  EXPECT_EQ(mutated, c.document["expected"]) << "got:\n" << mutated.dump(2);

  const auto& expected_warnings = c.document["warnings"];
  ASSERT_EQ(result.warnings.size(), expected_warnings.size())
      << (result.warnings.empty() ? "" : result.warnings.front());
  for (std::size_t i = 0; i < result.warnings.size(); ++i) {
    EXPECT_NE(result.warnings[i].find(expected_warnings[i].get<std::string>()), std::string::npos)
        << result.warnings[i];
  }
  if (result.outcome != MutationOutcome::Injected) {
    EXPECT_TRUE(result.patch.empty()) << result.patch.dump();
  }
}

TEST_P(MutationCase, SecondPassChangesNothing) {
  const Case& c = GetParam();
  const auto policies = policiesOf(c.document);
  const auto ns = namespaceOf(c.document);
  const auto config = configOf(c.document);
  const json once = c.document["pod"].patch(mutatePod(c.document["pod"], policies, ns, config).patch);

  const MutationResult again = mutatePod(once, policies, ns, config);
  EXPECT_TRUE(again.patch.empty()) << again.patch.dump(2);
  EXPECT_NE(again.outcome, MutationOutcome::Injected);
}

TEST_P(MutationCase, SameInputSamePatch) {
  const Case& c = GetParam();
  const auto policies = policiesOf(c.document);
  const auto ns = namespaceOf(c.document);
  const auto config = configOf(c.document);
  EXPECT_EQ(mutatePod(c.document["pod"], policies, ns, config).patch.dump(),
            mutatePod(c.document["pod"], policies, ns, config).patch.dump());
}

INSTANTIATE_TEST_SUITE_P(Cases,
                         MutationCase,
                         ::testing::ValuesIn(loadCases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(MutatePod, TheCaseTableCoversWhatTheWebhookPromises) {
  // Guards against a case file going missing: each is a behaviour users rely on.
  std::set<std::string> names;
  for (const auto& c : loadCases()) names.insert(c.name);
  for (const char* required :
       {"no_annotations", "opted_out", "existing_ld_preload", "ld_preload_value_from",
        "container_names", "already_injected", "ebpf_privileged", "ebpf_restricted_fallback"}) {
    EXPECT_TRUE(names.contains(required)) << required;
  }
}

// The patch as another RFC 6902 implementation (Debian's python3-jsonpatch) applies it.
TEST(MutatePodInterop, PythonJsonpatchGivesTheExpectedPods) {
  json batch = json::array();
  for (const auto& c : loadCases()) {
    const auto result = mutatePod(c.document["pod"], policiesOf(c.document), namespaceOf(c.document),
                                  configOf(c.document));
    batch.push_back({{"name", c.name},
                     {"pod", c.document["pod"]},
                     {"patch", result.patch},
                     {"expected", c.document["expected"]}});
  }
  const fs::path input = fs::temp_directory_path() / ("kprof-jsonpatch-" + std::to_string(::getpid()) + ".json");
  std::ofstream(input) << batch.dump();
  const std::string script = std::string(KPROF_MUTATION_CASES) + "/../check_with_jsonpatch.py";
  const int status = std::system(("/usr/bin/python3 " + script + " " + input.string()).c_str());
  fs::remove(input);
  // Debian's interpreter and package, whatever python3 comes first on PATH.
  EXPECT_EQ(status, 0) << "python3-jsonpatch disagrees (see above), or is not installed "
                          "(scripts/install-deps.sh installs it)";
}

TEST(MutatePod, NonObjectsAreInvalidWithAWarning) {
  const InjectionConfig config;
  const NamespaceInfo ns{"shop", {{"kprof.dev/injection", "enabled"}}};
  for (const json& object :
       {json("pod"), json::array(), json{{"metadata", "x"}},
        json{{"metadata", {{"name", "p"}}}, {"spec", {{"containers", "app"}}}},
        json{{"metadata", {{"name", "p"}}}, {"spec", {{"containers", json::array({json{{"image", "x"}}})}}}}}) {
    const auto result = mutatePod(object, {}, ns, config);
    EXPECT_EQ(result.outcome, MutationOutcome::Invalid) << object.dump();
    EXPECT_TRUE(result.patch.empty());
    EXPECT_FALSE(result.warnings.empty());
  }
}

}  // namespace
}  // namespace kprof::webhooks
