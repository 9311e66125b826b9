// The CRDs, the examples and the invalid cases, checked two independent ways:
// - npm ajv (tests/crds/validate.mjs) validates each object against the CRD's openAPIV3Schema the
//   way the API server would with strict field validation, and reports the defaults it applied;
// - the policy controller's own validation (readProfilingPolicy) must agree: accept every valid
//   policy, apply the same defaults, and reject every invalid one naming the same field — including
//   the CEL rules ajv cannot evaluate and the map-key rules no schema can express.
//
// Every invalid case carries two comment lines:
//   # Rejected: <why, for a reader>
//   # expect: <schema|rule|controller> <field path> [<ajv keyword>]
// schema:     ajv rejects it at the path with the keyword (and the controller too, for policy
// specs); rule:       a CEL rule of the CRD rejects it; ajv cannot see it, the controller must;
// controller: only the controller can reject it (the schema cannot constrain map keys).
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "controllers/policy/plan_policy.hpp"
#include "controllers/policy/profiling_policy.hpp"
#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof::testing {
namespace {

namespace fs = std::filesystem;
using controllers::readProfilingPolicy;
using nlohmann::json;

const fs::path kSource = KPROF_SOURCE_DIR;
const fs::path kPolicyCrd = kSource / "crds/profilingpolicies.kprof.dev.yaml";
const fs::path kSnapshotCrd = kSource / "crds/profilesnapshots.kprof.dev.yaml";

json loadSingleDocument(const fs::path& file) {
  auto documents = readManifestFile(file);
  EXPECT_TRUE(documents) << documents.error().message;
  if (!documents || documents->size() != 1) {
    ADD_FAILURE() << file << ": expected exactly one YAML document";
    return {};
  }
  return documents->front();
}

fs::path crdFor(const json& object) {
  return object.value("kind", "") == "ProfileSnapshot" ? kSnapshotCrd : kPolicyCrd;
}

// Runs `node tests/crds/validate.mjs <mode> <files...>` and parses what it prints.
json runValidateMjs(const std::string& mode, const std::vector<fs::path>& files) {
  std::string command = "node '" + (kSource / "tests/crds/validate.mjs").string() + "' " + mode;
  for (const fs::path& file : files) {
    command += " '" + file.string() + "'";
  }
  command += " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): running node is the point
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run: " << command;
    return {};
  }
  std::string output;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  // A missing node is a broken machine (see docs/decisions.md): fail, do not skip.
  EXPECT_EQ(status, 0) << command << "\n" << output;
  json result = json::parse(output, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(result.is_discarded()) << "validate.mjs printed no JSON:\n" << output;
  return result;
}

// Hands validate.mjs JSON files written to a private temporary directory.
class Validator {
 public:
  Validator() : dir_(fs::temp_directory_path() / ("kprof-crds-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~Validator() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;
  Validator(Validator&&) = delete;
  Validator& operator=(Validator&&) = delete;

  json checkCrd(const fs::path& crd_yaml) {
    return runValidateMjs("crd", {write("crd.json", loadSingleDocument(crd_yaml))});
  }

  json validate(const fs::path& crd_yaml, const json& object) {
    return runValidateMjs(
        "object", {write("crd.json", loadSingleDocument(crd_yaml)), write("object.json", object)});
  }

 private:
  fs::path write(const std::string& name, const json& document) {
    fs::path file = dir_ / name;
    std::ofstream(file) << document.dump();
    return file;
  }

  fs::path dir_;
};

std::vector<std::string> yamlFiles(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  std::replace_if(
      name.begin(),
      name.end(),
      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0; },
      '_');
  return name;
}

// "spec.targets[0].url" → "spec.targets[*].url": list indexes and map keys become [*].
std::string normalizePath(const std::string& path) {
  std::string out;
  bool in_subscript = false;
  for (char c : path) {
    if (c == '[') {
      in_subscript = true;
      out += "[*]";
    } else if (c == ']') {
      in_subscript = false;
    } else if (!in_subscript) {
      out += c;
    }
  }
  return out;
}

// Where the CRD's CEL rules report, as normalized field paths (fieldPath included).
void collectRuleLocations(const json& node, const std::string& path, std::set<std::string>& out) {
  if (!node.is_object()) {
    return;
  }
  for (const json& rule : node.value("x-kubernetes-validations", json::array())) {
    std::string where = path;
    if (rule.contains("fieldPath")) {
      const std::string field = rule["fieldPath"].get<std::string>();  // ".profiles"
      where = path.empty() ? field.substr(1) : path + field;
    }
    out.insert(where);
  }
  const json properties = node.value("properties", json::object());
  for (const auto& [name, child] : properties.items()) {
    std::string child_path = path;
    if (!child_path.empty()) {
      child_path += '.';
    }
    child_path += name;
    collectRuleLocations(child, child_path, out);
  }
  if (node.contains("items")) {
    collectRuleLocations(node["items"], path + "[*]", out);
  }
  if (node.contains("additionalProperties")) {
    collectRuleLocations(node["additionalProperties"], path + "[*]", out);
  }
}

std::set<std::string> ruleLocations(const fs::path& crd_yaml) {
  const json crd = loadSingleDocument(crd_yaml);
  std::set<std::string> out;
  collectRuleLocations(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], "", out);
  return out;
}

// The controller's error names `path` as its field: "spec.x: ..." or "spec.x.y: ..." for path
// spec.x.
bool namesField(const std::string& message, const std::string& path) {
  if (message.rfind(path, 0) != 0 || message.size() <= path.size()) {
    return false;
  }
  const char next = message[path.size()];
  return next == ':' || next == '.' || next == '[';
}

std::string errorsText(const json& result) {
  std::string text;
  for (const json& error : result.value("errors", json::array())) {
    text += "  " + error.value("path", "") + " " + error.value("keyword", "") + ": " +
            error.value("message", "") + "\n";
  }
  return text;
}

// ---- the CRDs themselves --------------------------------------------------------------------

TEST(Crd, BothAreAcceptableToTheApiServer) {
  Validator validator;
  for (const fs::path& crd : {kPolicyCrd, kSnapshotCrd}) {
    const json result = validator.checkCrd(crd);
    EXPECT_EQ(result["problems"], json::array()) << crd;
  }
}

TEST(Crd, NamesColumnsAndSubresources) {
  struct Expected {
    fs::path file;
    std::vector<std::string> short_names;
    std::vector<std::string> columns;  // in order, priority 0 only
  };
  const std::vector<Expected> expected = {
      {kPolicyCrd, {"pp", "kpp"}, {"Matched", "Enrolled", "Injected", "Ready", "Age"}},
      {kSnapshotCrd, {"psnap"}, {"Phase", "Policy", "Alert", "Age"}},
  };
  for (const Expected& e : expected) {
    const json crd = loadSingleDocument(e.file);
    EXPECT_EQ(crd["spec"]["group"], "kprof.dev");
    EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
    EXPECT_EQ(crd["spec"]["names"]["shortNames"], json(e.short_names));
    EXPECT_EQ(crd["spec"]["names"]["categories"], json::parse(R"(["kprof"])"));
    const json& version = crd["spec"]["versions"][0];
    EXPECT_EQ(version["name"], "v1alpha1");
    EXPECT_EQ(version["subresources"], json::parse(R"({"status": {}})"));
    std::vector<std::string> columns;
    for (const json& column : version["additionalPrinterColumns"]) {
      if (column.value("priority", 0) == 0) {
        columns.push_back(column["name"]);
      }
    }
    EXPECT_EQ(columns, e.columns) << e.file;
  }
}

// ---- valid objects ----------------------------------------------------------------------------

class ValidObject : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidObject, PassesTheSchemaAndTheController) {
  const json object = loadSingleDocument(GetParam());
  Validator validator;
  const json result = validator.validate(crdFor(object), object);
  EXPECT_EQ(result["valid"], true) << errorsText(result);

  if (object["kind"] == "ProfilingPolicy") {
    // The controller accepts it as written and after the API server's defaulting, and both
    // readings agree: the controller's defaults are the CRD's.
    auto raw = readProfilingPolicy(object);
    auto defaulted = readProfilingPolicy(result["object"]);
    ASSERT_TRUE(raw && defaulted);
    ASSERT_TRUE(raw->valid()) << raw->spec_error->message;
    ASSERT_TRUE(defaulted->valid()) << defaulted->spec_error->message;
    EXPECT_EQ(raw->spec, defaulted->spec);
  }
}

std::vector<std::string> validFiles() {
  std::vector<std::string> files = yamlFiles(kSource / "examples");
  for (const std::string& file : yamlFiles(kSource / "tests/crds/valid")) {
    files.push_back(file);
  }
  return files;
}

INSTANTIATE_TEST_SUITE_P(Examples, ValidObject, ::testing::ValuesIn(validFiles()), testName);

TEST(Defaults, TheApiServerFillsInAMinimalPolicy) {
  const json object = loadSingleDocument(kSource / "examples/policy-minimal.yaml");
  Validator validator;
  const json result = validator.validate(kPolicyCrd, object);
  ASSERT_EQ(result["valid"], true) << errorsText(result);
  EXPECT_EQ(result["object"]["spec"], json::parse(R"({
    "selector": {"matchLabels": {"app": "checkout"}},
    "mode": "preload",
    "profiles": {"cpu": {"enabled": true, "rateHz": 100}},
    "uploadIntervalSeconds": 10,
    "rollout": {"percentage": 100},
    "priority": 0
  })"));
}

TEST(Defaults, NestedDefaultsApplyInsideWhatTheUserWrote) {
  const json object = json::parse(R"({
    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfilingPolicy",
    "metadata": {"name": "p", "namespace": "shop"},
    "spec": {
      "selector": {},
      "profiles": {"alloc": {}, "lock": {}, "wall": {}},
      "targets": [{"pyroscope": {"url": "https://p.example",
                                 "authSecretRef": {"name": "c", "key": "token"}}}],
      "snapshotTriggers": [{"name": "t", "alertLabelMatchers": [{"name": "a", "value": "b"}]}]
    }
  })");
  Validator validator;
  const json result = validator.validate(kPolicyCrd, object);
  ASSERT_EQ(result["valid"], true) << errorsText(result);
  const json& spec = result["object"]["spec"];
  EXPECT_EQ(spec["profiles"], json::parse(R"({
    "cpu": {"enabled": true, "rateHz": 100},
    "alloc": {"meanSampleBytes": 524288},
    "lock": {"thresholdNanos": 10000},
    "wall": {"enabled": false}
  })"));
  EXPECT_EQ(spec["targets"][0]["pyroscope"]["authSecretRef"]["type"], "bearer");
  EXPECT_EQ(spec["snapshotTriggers"][0], json::parse(R"({
    "name": "t",
    "alertLabelMatchers": [{"name": "a", "value": "b", "op": "="}],
    "durationSeconds": 30, "rateHz": 1000, "types": ["cpu"], "cooldownSeconds": 300,
    "maxConcurrent": 1, "stopOnResolve": false
  })"));
  auto raw = readProfilingPolicy(object);
  auto defaulted = readProfilingPolicy(result["object"]);
  ASSERT_TRUE(raw && defaulted && raw->valid() && defaulted->valid());
  EXPECT_EQ(raw->spec, defaulted->spec);
}

TEST(Defaults, TheApiServerFillsInASnapshot) {
  const json object = json::parse(R"({
    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfileSnapshot",
    "metadata": {"name": "s", "namespace": "shop"},
    "spec": {"targets": {"pods": ["api-0"]}}
  })");
  Validator validator;
  const json result = validator.validate(kSnapshotCrd, object);
  ASSERT_EQ(result["valid"], true) << errorsText(result);
  EXPECT_EQ(result["object"]["spec"], json::parse(R"({
    "targets": {"pods": ["api-0"]}, "durationSeconds": 30, "types": ["cpu"], "rateHz": 1000
  })"));
}

TEST(ControllerOutput, PlannedStatusesPassTheSchema) {
  // Whatever planPolicy writes, the API server must accept: conflicts, every condition reason.
  const json base = json::parse(R"({
    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfilingPolicy",
    "metadata": {"name": "checkout", "namespace": "shop", "uid": "checkout-uid", "generation": 3,
                 "creationTimestamp": "2024-01-01T00:00:00Z"},
    "spec": {"selector": {"matchLabels": {"app": "checkout"}}}
  })");
  json rival = base;
  rival["metadata"]["name"] = "canary";
  rival["metadata"]["uid"] = "canary-uid";
  rival["spec"]["priority"] = 10;
  json broken = base;
  broken["spec"]["mode"] = "perf";
  auto checkout = readProfilingPolicy(base);
  auto canary = readProfilingPolicy(rival);
  auto invalid = readProfilingPolicy(broken);
  ASSERT_TRUE(checkout && canary && invalid);

  controllers::PodInfo pod;
  pod.namespace_name = "shop";
  pod.name = "checkout-1";
  pod.uid = "checkout-1";
  pod.labels = {{"app", "checkout"}};
  pod.phase = "Running";
  pod.injected = true;
  const std::vector<controllers::PodInfo> pods = {pod};
  const std::vector<controllers::ProfilingPolicy> policies = {*checkout, *canary};
  const auto now = *controllers::parseRfc3339("2024-05-01T12:00:00Z");

  Validator validator;
  for (const controllers::ProfilingPolicy* policy : {&*checkout, &*canary, &*invalid}) {
    json object = base;
    object["status"] = toJson(controllers::planPolicy(*policy, pods, policies, now).status);
    const json result = validator.validate(kPolicyCrd, object);
    EXPECT_EQ(result["valid"], true) << object["status"].dump(2) << "\n" << errorsText(result);
  }
}

// ---- invalid objects --------------------------------------------------------------------------

struct Expectation {
  std::string reason;
  std::string kind;  // schema, rule, controller
  std::string path;
  std::string keyword;
};

Expectation readExpectation(const fs::path& file) {
  Expectation expectation;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# Rejected: ", 0) == 0) {
      expectation.reason = line.substr(12);
    } else if (line.rfind("# expect: ", 0) == 0) {
      std::istringstream words(line.substr(10));
      words >> expectation.kind >> expectation.path >> expectation.keyword;
    }
  }
  return expectation;
}

class InvalidObject : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidObject, IsRejectedForTheStatedReason) {
  const Expectation expect = readExpectation(GetParam());
  ASSERT_FALSE(expect.reason.empty()) << "missing '# Rejected: <why>'";
  ASSERT_TRUE(expect.kind == "schema" || expect.kind == "rule" || expect.kind == "controller")
      << "missing or unknown '# expect: <schema|rule|controller> <path> [keyword]'";
  const json object = loadSingleDocument(GetParam());
  const bool policy = object["kind"] == "ProfilingPolicy";
  ASSERT_TRUE(policy || expect.kind == "schema") << "only policies have a controller-side check";

  Validator validator;
  const json result = validator.validate(crdFor(object), object);
  if (expect.kind == "schema") {
    EXPECT_EQ(result["valid"], false) << "ajv accepted it";
    bool found = false;
    for (const json& error : result["errors"]) {
      found = found || (error["path"] == expect.path && error["keyword"] == expect.keyword);
    }
    EXPECT_TRUE(found) << "expected " << expect.path << " " << expect.keyword << ", got:\n"
                       << errorsText(result);
  } else {
    // ajv cannot evaluate CEL or constrain map keys: the schema alone lets it through.
    EXPECT_EQ(result["valid"], true) << errorsText(result);
  }
  if (expect.kind == "rule") {
    EXPECT_TRUE(ruleLocations(crdFor(object)).count(normalizePath(expect.path)))
        << "no CEL rule of the CRD reports at " << expect.path;
  }

  // The controller's validation agrees, naming the same field. It does not validate status
  // (it writes it) and ignores unknown fields (the API server prunes them).
  const bool controller_checks =
      policy && expect.path.rfind("spec", 0) == 0 && expect.keyword != "additionalProperties";
  if (controller_checks) {
    auto read = readProfilingPolicy(object);
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_FALSE(read->valid()) << "the controller accepted it";
    EXPECT_TRUE(namesField(read->spec_error->message, expect.path))
        << "expected the controller to name " << expect.path
        << ", got: " << read->spec_error->message;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases,
                         InvalidObject,
                         ::testing::ValuesIn(yamlFiles(kSource / "tests/crds/invalid")),
                         testName);

TEST(CelRules, EveryPolicyRuleHasAnInvalidCaseTheControllerRejects) {
  std::set<std::string> covered;
  for (const std::string& file : yamlFiles(kSource / "tests/crds/invalid")) {
    const Expectation expect = readExpectation(file);
    if (expect.kind == "rule") {
      covered.insert(normalizePath(expect.path));
    }
  }
  for (const std::string& location : ruleLocations(kPolicyCrd)) {
    // The root rule (metadata.name at most 63 characters) is checked by profiling_policy_test:
    // ajv fixtures cannot express it as a field path.
    if (location.empty()) {
      continue;
    }
    EXPECT_TRUE(covered.count(location))
        << "the CEL rule at " << location << " has no invalid case in tests/crds/invalid";
  }
}

}  // namespace
}  // namespace kprof::testing
