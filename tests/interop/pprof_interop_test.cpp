// Profiles written by kprof must read the same in the two pprof implementations users and peers
// rely on: Go's `go tool pprof` (the reference, also inside Pyroscope and Parca) and the npm
// decoder `pprof-format` (Datadog's pure JS implementation, with its own protobuf reader). Each
// profile is written as .pb.gz, read back by kprof's decoder and summarized, and the other two
// readers must agree on sample types, totals, per-function flat/cum, labels and mappings.
//
// Needs `go` and `node` on PATH and tests/tools/node_modules (scripts/install-deps.sh installs
// all three); without them the test fails rather than skips, since the check would be lost.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/pprof/codec.hpp"
#include "common/pprof/example_profiles.hpp"
#include "common/pprof/merge.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::pprof {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

CommandResult run(const std::string& command, const fs::path& scratch) {
  fs::path err_file = scratch / "stderr.txt";
  CommandResult result;
  FILE* pipe = popen((command + " 2>" + quoted(err_file)).c_str(), "r");
  if (pipe == nullptr) {
    result.err = "popen failed";
    return result;
  }
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = readFile(err_file);
  return result;
}

bool onPath(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// One profile under test: what kprof wrote and what kprof's own decoder reads back.
struct ProfileFile {
  std::string name;
  fs::path path;
  Profile decoded;
};

// A second replica of the checkout service: another pod, one function the first never ran.
Profile otherReplicaProfile() {
  ProfileBuilder builder(ProfileKind::Cpu);
  builder.setPeriod(examples::kCpuPeriod);
  builder.setTimeNanos(examples::kStartNanos + 5'000'000'000, 10'000'000'000);
  uint64_t binary = builder.addMapping({.memory_start = 0x400000,
                                        .memory_limit = 0x800000,
                                        .file_offset = 0,
                                        .filename = "/app/checkout",
                                        .build_id = "b1d0c0ffee15900d5eed0123456789abcdef0123",
                                        .has_functions = true,
                                        .has_filenames = true,
                                        .has_line_numbers = true,
                                        .has_inline_frames = true});
  uint64_t main_fn = builder.addFunction({"main", "main", "src/main.cc", 10});
  uint64_t serve = builder.addFunction(
      {"checkout::Server::serve()", "_ZN8checkout6Server5serveEv", "src/server.cc", 40});
  uint64_t lookup = builder.addFunction(
      {"checkout::Cache::lookup(Key)", "_ZN8checkout5Cache6lookupE3Key", "src/cache.cc", 50});
  uint64_t at_main = *builder.addLocation({binary, 0x401010, {{main_fn, 15}}});
  uint64_t at_serve = *builder.addLocation({binary, 0x402020, {{serve, 52}}});
  uint64_t at_lookup = *builder.addLocation({binary, 0x405550, {{lookup, 55}}});
  EXPECT_TRUE(
      builder.addSample(std::vector<uint64_t>{at_lookup, at_serve, at_main},
                        std::vector<int64_t>{11, 11 * examples::kCpuPeriod},
                        std::vector<SampleLabel>{SampleLabel::text("pod", "checkout-7d9f-zzzzz")}));
  EXPECT_TRUE(builder.addSample(std::vector<uint64_t>{at_serve, at_main},
                                std::vector<int64_t>{4, 4 * examples::kCpuPeriod}));
  return std::move(builder).build();
}

class PprofInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "kprof-pprof-interop-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "home");

    std::vector<Profile> replicas{examples::cpuProfile(1),
                                  otherReplicaProfile(),
                                  examples::cpuProfile(2, examples::kStartNanos + 10'000'000'000)};
    auto merged = merge(replicas);
    ASSERT_TRUE(merged) << merged.error().toString();

    std::vector<std::pair<std::string, Profile>> written;
    written.emplace_back("cpu", examples::cpuProfile());
    written.emplace_back("alloc", examples::allocProfile());
    written.emplace_back("merged", std::move(*merged));
    written.emplace_back("synthetic", examples::syntheticProfile(ProfileKind::Wall, 300, 120));
    for (auto& [name, profile] : written) {
      auto bytes = encodeGzip(profile);
      ASSERT_TRUE(bytes) << bytes.error().toString();
      fs::path path = dir_ / (name + ".pb.gz");
      std::ofstream(path, std::ios::binary) << *bytes;
      // kprof's side of the comparison reads the file back like any other reader.
      auto decoded = decode(readFile(path));
      ASSERT_TRUE(decoded) << name << ": " << decoded.error().toString();
      files_.push_back({name, path, std::move(*decoded)});
    }
  }

  static void TearDownTestSuite() {
    files_.clear();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void SetUp() override { ASSERT_EQ(files_.size(), 4u) << "profiles were not written"; }

  // Go keeps caches and downloaded profiles under HOME; keep them in the scratch directory.
  static std::string goCommand(const std::string& args) {
    fs::path home = dir_ / "home";
    return "env HOME=" + quoted(home) + " GOCACHE=" + quoted(home / "gocache") +
           " GOPATH=" + quoted(home / "gopath") + " PPROF_TMPDIR=" + quoted(home) +
           " go tool pprof -symbolize=none " + args;
  }

  static inline fs::path dir_;
  static inline std::vector<ProfileFile> files_;
};

// kprof names unsymbolized frames by address, Go calls them all "<unknown>".
std::string goName(const std::string& kprof_name) {
  return kprof_name.starts_with("0x") ? "<unknown>" : kprof_name;
}

// "180000000ns", "1572864B", "18" → the integer. Fails the test on a scaled value ("1.5MB").
int64_t parseGoValue(const std::string& text) {
  size_t digits = 0;
  int64_t value = std::stoll(text, &digits);
  std::string suffix = text.substr(digits);
  EXPECT_TRUE(suffix.empty() || suffix == "ns" || suffix == "B") << "unexpected value " << text;
  return value;
}

// The -unit that makes go tool pprof print exact integers instead of scaled values.
std::string goUnitFlag(const std::string& unit) {
  if (unit == "nanoseconds") {
    return "-unit=ns";
  }
  if (unit == "bytes") {
    return "-unit=B";
  }
  return "";
}

struct Cost {
  int64_t flat = 0;
  int64_t cum = 0;
  bool operator==(const Cost&) const = default;
};

void PrintTo(const Cost& cost, std::ostream* out) {
  *out << "{flat " << cost.flat << ", cum " << cost.cum << "}";
}

TEST_F(PprofInterop, GoPprofTopAgreesWithKprofSummary) {
  ASSERT_TRUE(onPath("go"))
      << "`go` is not on PATH: run scripts/install-deps.sh (Debian golang-go)";
  for (const ProfileFile& file : files_) {
    for (int index = 0; index < file.decoded.sample_type_size(); ++index) {
      SCOPED_TRACE(file.name + " sample index " + std::to_string(index));
      auto summary = summarize(file.decoded, static_cast<size_t>(index));
      ASSERT_TRUE(summary) << summary.error().toString();
      const std::string& unit = summary->totals[static_cast<size_t>(index)].unit;

      CommandResult go =
          run(goCommand("-top -nodecount=1000 -nodefraction=0 -edgefraction=0 " + goUnitFlag(unit) +
                        " -sample_index=" + std::to_string(index) + " " + quoted(file.path)),
              dir_);
      ASSERT_EQ(go.exit_code, 0) << go.err << go.out;

      // "Showing nodes accounting for 180000000ns, 100% of 180000000ns total"
      size_t total_at = go.out.find("% of ");
      ASSERT_NE(total_at, std::string::npos) << go.out;
      std::string go_total;
      std::istringstream(go.out.substr(total_at + 5)) >> go_total;
      EXPECT_EQ(parseGoValue(go_total), summary->totals[static_cast<size_t>(index)].total)
          << go.out;

      // After the column header, one row per function:
      // "  70000000ns 38.89% 38.89% 100000000ns 55.56%  checkout::parseJson(…) (inline)"
      std::map<std::string, Cost> go_rows;
      size_t header_at = go.out.find("flat%");
      ASSERT_NE(header_at, std::string::npos) << go.out;
      std::istringstream lines(go.out.substr(header_at));
      std::string line;
      std::getline(lines, line);
      while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string flat, flat_percent, sum_percent, cum, cum_percent, name;
        fields >> flat >> flat_percent >> sum_percent >> cum >> cum_percent >> std::ws;
        std::getline(fields, name);
        ASSERT_TRUE(cum_percent.ends_with("%") && !name.empty()) << "unexpected row: " << line;
        if (name.ends_with(" (inline)")) {
          name.resize(name.size() - std::string(" (inline)").size());
        }
        Cost& cost = go_rows[name];
        cost.flat += parseGoValue(flat);
        cost.cum += parseGoValue(cum);
      }
      std::map<std::string, Cost> kprof_rows;
      for (const FunctionCost& function : summary->functions) {
        Cost& cost = kprof_rows[goName(function.name)];
        cost.flat += function.flat;
        cost.cum += function.cum;
      }
      EXPECT_EQ(go_rows, kprof_rows) << go.out;
    }
  }
}

TEST_F(PprofInterop, GoPprofRawAgreesOnTypesTotalsLabelsAndMappings) {
  ASSERT_TRUE(onPath("go"))
      << "`go` is not on PATH: run scripts/install-deps.sh (Debian golang-go)";
  for (const ProfileFile& file : files_) {
    SCOPED_TRACE(file.name);
    const Profile& profile = file.decoded;
    auto str = [&](int64_t index) { return profile.string_table(static_cast<int>(index)); };
    CommandResult go = run(goCommand("-raw " + quoted(file.path)), dir_);
    ASSERT_EQ(go.exit_code, 0) << go.err << go.out;

    // Sample types: the line after "Samples:", e.g. "samples/count cpu/nanoseconds[dflt]".
    size_t samples_at = go.out.find("Samples:\n");
    ASSERT_NE(samples_at, std::string::npos) << go.out;
    std::istringstream section(go.out.substr(samples_at + 9));
    std::string header;
    std::getline(section, header);
    std::string expected_header;
    for (const auto& type : profile.sample_type()) {
      expected_header += (expected_header.empty() ? "" : " ") + str(type.type()) + "/" +
                         str(type.unit()) +
                         (type.type() == profile.default_sample_type() ? "[dflt]" : "");
    }
    EXPECT_EQ(header, expected_header);

    // Sample rows "   7   70000000: 1 2 3" and their label rows "   pod:[checkout-a]".
    std::vector<int64_t> go_totals(static_cast<size_t>(profile.sample_type_size()), 0);
    std::set<std::string> go_labels;
    std::string line;
    while (std::getline(section, line) && line != "Locations") {
      std::string trimmed = line.substr(std::min(line.find_first_not_of(' '), line.size()));
      size_t colon = line.find(':');
      if (trimmed.find(":[") != std::string::npos && trimmed.ends_with("]")) {
        go_labels.insert(trimmed);
      } else if (colon != std::string::npos) {
        std::istringstream values(line.substr(0, colon));
        int64_t value = 0;
        for (size_t i = 0; values >> value && i < go_totals.size(); ++i) {
          go_totals[i] += value;
        }
      }
    }
    auto summary = summarize(profile, 0);
    ASSERT_TRUE(summary);
    for (size_t i = 0; i < go_totals.size(); ++i) {
      EXPECT_EQ(go_totals[i], summary->totals[i].total) << summary->totals[i].type;
    }

    std::set<std::string> kprof_labels;
    for (const auto& sample : profile.sample()) {
      for (const auto& label : sample.label()) {
        std::string value = label.str() != 0 ? str(label.str()) : std::to_string(label.num());
        if (label.str() == 0 && label.num_unit() != 0) {
          value += " " + str(label.num_unit());
        }
        kprof_labels.insert(str(label.key()) + ":[" + value + "]");
      }
    }
    EXPECT_EQ(go_labels, kprof_labels) << go.out;

    // Mappings keep file name and build id: "1: 0x400000/0x800000/0x0 /app/checkout b1d0… [FN]".
    for (const auto& mapping : profile.mapping()) {
      EXPECT_THAT(
          go.out,
          ::testing::HasSubstr(" " + str(mapping.filename()) + " " + str(mapping.build_id())));
    }
    EXPECT_THAT(go.out,
                ::testing::HasSubstr("PeriodType: " + str(profile.period_type().type()) + " " +
                                     str(profile.period_type().unit())));
    EXPECT_THAT(go.out, ::testing::HasSubstr("Period: " + std::to_string(profile.period())));
  }
}

TEST_F(PprofInterop, PprofFormatDecoderAgrees) {
  ASSERT_TRUE(onPath("node")) << "`node` is not on PATH: run scripts/install-deps.sh (nodejs)";
  fs::path source(KPROF_SOURCE_DIR);
  ASSERT_TRUE(fs::exists(source / "tests/tools/node_modules/pprof-format/package.json"))
      << "npm package pprof-format is missing: run scripts/install-deps.sh";

  std::string command = "node " + quoted(source / "tests/interop/pprof_format_dump.mjs");
  for (const ProfileFile& file : files_) {
    command += " " + quoted(file.path);
  }
  CommandResult node = run(command, dir_);
  ASSERT_EQ(node.exit_code, 0) << node.err << node.out;
  nlohmann::json dump = nlohmann::json::parse(node.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(dump.is_discarded()) << node.out;

  for (const ProfileFile& file : files_) {
    SCOPED_TRACE(file.name);
    const Profile& profile = file.decoded;
    auto str = [&](int64_t index) { return profile.string_table(static_cast<int>(index)); };
    const nlohmann::json& js = dump[file.path.string()];
    ASSERT_TRUE(js.is_object()) << node.out;

    auto summary = summarize(profile, 0);
    ASSERT_TRUE(summary);
    ASSERT_EQ(js["sampleTypes"].size(), summary->totals.size());
    for (size_t i = 0; i < summary->totals.size(); ++i) {
      const auto& total = summary->totals[i];
      EXPECT_EQ(js["sampleTypes"][i]["type"], total.type);
      EXPECT_EQ(js["sampleTypes"][i]["unit"], total.unit);
      EXPECT_EQ(js["sampleTypes"][i]["total"], std::to_string(total.total)) << total.type;
    }
    EXPECT_EQ(js["defaultSampleType"], str(profile.default_sample_type()));
    EXPECT_EQ(js["periodType"]["type"], str(profile.period_type().type()));
    EXPECT_EQ(js["periodType"]["unit"], str(profile.period_type().unit()));
    EXPECT_EQ(js["period"], std::to_string(profile.period()));
    EXPECT_EQ(js["timeNanos"], std::to_string(profile.time_nanos()));
    EXPECT_EQ(js["durationNanos"], std::to_string(profile.duration_nanos()));
    EXPECT_EQ(js["sampleCount"], profile.sample_size());

    std::vector<std::string> kprof_functions;
    for (const FunctionCost& function : summary->functions) {
      if (!function.name.starts_with("0x")) {
        kprof_functions.push_back(function.name);
      }
    }
    std::sort(kprof_functions.begin(), kprof_functions.end());
    EXPECT_EQ(js["functions"].get<std::vector<std::string>>(), kprof_functions);

    std::set<std::string> kprof_labels;
    for (const auto& sample : profile.sample()) {
      for (const auto& label : sample.label()) {
        std::string value = label.str() != 0 ? str(label.str()) : std::to_string(label.num());
        if (label.str() == 0 && label.num_unit() != 0) {
          value += " " + str(label.num_unit());
        }
        kprof_labels.insert(str(label.key()) + "=" + value);
      }
    }
    auto js_labels = js["labels"].get<std::vector<std::string>>();
    EXPECT_EQ(std::set<std::string>(js_labels.begin(), js_labels.end()), kprof_labels);

    ASSERT_EQ(js["mappings"].size(), static_cast<size_t>(profile.mapping_size()));
    for (int i = 0; i < profile.mapping_size(); ++i) {
      EXPECT_EQ(js["mappings"][i]["filename"], str(profile.mapping(i).filename()));
      EXPECT_EQ(js["mappings"][i]["buildId"], str(profile.mapping(i).build_id()));
    }
    std::vector<std::string> comments;
    for (int64_t comment : profile.comment()) {
      comments.push_back(str(comment));
    }
    EXPECT_EQ(js["comments"].get<std::vector<std::string>>(), comments);
  }
}

TEST_F(PprofInterop, MergedProfileCarriesEveryReplica) {
  // The merge went through kprof; both readers above saw its result. Check it has what the
  // replicas had: all three pods and the function only the second replica ran.
  const ProfileFile& merged = files_[2];
  ASSERT_EQ(merged.name, "merged");
  auto summary = summarize(merged.decoded, 0);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->totals[0].total, 18 + 15 + 36);
  std::set<std::string> names;
  for (const FunctionCost& function : summary->functions) {
    names.insert(function.name);
  }
  EXPECT_TRUE(names.contains("checkout::Cache::lookup(Key)"));
  EXPECT_EQ(merged.decoded.time_nanos(), examples::kStartNanos);
  EXPECT_EQ(merged.decoded.duration_nanos(), 20'000'000'000);
}

}  // namespace
}  // namespace kprof::pprof
