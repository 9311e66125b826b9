#include "tests/alertstack/alert_stack.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "agent/testing/child_process.hpp"
#include "common/http/client.hpp"
#include "common/http/ports.hpp"

namespace kprof::testing {

namespace {

using namespace std::chrono_literals;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
constexpr auto kReadyWithin = 30s;

// A YAML double-quoted scalar: PromQL and label values may hold quotes, colons or braces.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string seconds(std::chrono::seconds value) {
  return std::to_string(value.count()) + "s";
}

Status writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return fail(ErrorCode::Io, "cannot write " + path);
  }
  return ok();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `count` lines of a log file.
std::string tail(const std::string& path, std::size_t count = 30) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > count) {
      lines.pop_front();
    }
  }
  std::string out;
  for (const auto& line : lines) {
    out += "  " + line + "\n";
  }
  return out;
}

std::string prometheusConfig(const AlertStackOptions& options,
                             const std::string& rules_path,
                             const std::string& alertmanager_address) {
  std::ostringstream out;
  // 1 s everywhere so a test sees an alert within seconds; the timeout may not exceed the
  // interval.
  out << "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 1s\n"
         "  evaluation_interval: 1s\n"
      << "rule_files:\n  - " << quoted(rules_path) << "\n"
      << "scrape_configs:\n"
         "  - job_name: \"kprof-e2e\"\n"
         "    static_configs:\n"
         "      - targets: ["
      << quoted(options.scrape_target) << "]\n"
      << "alerting:\n"
         "  alertmanagers:\n"
         "    - api_version: v2\n"
         "      static_configs:\n"
         "        - targets: ["
      << quoted(alertmanager_address) << "]\n";
  return out.str();
}

std::string rulesConfig(const AlertStackOptions& options) {
  std::ostringstream out;
  // `for: 0s`: the alert fires on the first evaluation that matches, no pending phase.
  out << "groups:\n"
         "  - name: \"kprof-e2e\"\n"
         "    rules:\n"
         "      - alert: "
      << quoted(options.alert_name) << "\n"
      << "        expr: " << quoted(options.alert_rule_expr) << "\n"
      << "        for: 0s\n";
  if (!options.alert_labels.empty()) {
    out << "        labels:\n";
    for (const auto& [name, value] : options.alert_labels) {
      out << "          " << quoted(name) << ": " << quoted(value) << "\n";
    }
  }
  return out.str();
}

std::string alertmanagerConfig(const AlertStackOptions& options) {
  std::ostringstream out;
  out << "route:\n"
         "  receiver: \"webhook\"\n"
         "  group_by: [\"alertname\"]\n"
      << "  group_wait: " << seconds(options.group_wait) << "\n"
      << "  group_interval: " << seconds(options.group_interval) << "\n"
      << "  repeat_interval: " << seconds(options.repeat_interval) << "\n"
      << "receivers:\n"
         "  - name: \"webhook\"\n"
         "    webhook_configs:\n"
         "      - url: "
      << quoted(options.webhook_url) << "\n"
      << "        send_resolved: true\n";
  if (!options.bearer_token_file.empty()) {
    // credentials_file: Alertmanager reads the token from the file on every request, as a
    // mounted Secret would be read.
    out << "        http_config:\n"
           "          authorization:\n"
           "            type: Bearer\n"
           "            credentials_file: "
        << quoted(options.bearer_token_file) << "\n";
  }
  return out.str();
}

// Starts one server on a free port and waits until GET /-/ready answers 200. `argv_for` builds
// the command line for a "127.0.0.1:PORT" listen address. A port picked free can be taken by
// someone else before the server binds it, so an "address already in use" exit is retried.
Status startServer(const std::string& name,
                   const std::function<std::vector<std::string>(const std::string&)>& argv_for,
                   const std::string& log_path,
                   pid_t* pid,
                   std::string* url) {
  for (int attempt = 1;; ++attempt) {
    auto port = http::pickFreePort();
    if (!port) {
      return port.error().wrap("picking a port for " + name);
    }
    const std::string address = "127.0.0.1:" + std::to_string(*port);
    *url = "http://" + address;
    *pid = spawnChild(argv_for(address), log_path);
    auto client = http::Client::create({.base_url = *url});
    if (!client) {
      return client.error().wrap(name);
    }
    bool exited = false;
    int status = 0;
    const bool ready = eventuallyWithin(
        [&] {
          // A server that exits (bad config, port taken) will never be ready: stop waiting.
          if (::waitpid(*pid, &status, WNOHANG) == *pid) {
            exited = true;
            return true;
          }
          http::Request request;
          request.path = "/-/ready";
          auto response = (*client)->send(request, 1s);
          return response && response->status == 200;
        },
        kReadyWithin);
    if (ready && !exited) {
      return ok();
    }
    if (exited) {
      *pid = -1;  // reaped: nothing left to stop
      const std::string log = readFile(log_path);
      if (attempt < 3 && log.find("address already in use") != std::string::npos) {
        continue;
      }
      return fail(ErrorCode::Unavailable,
                  name + " exited (" +
                      (WIFEXITED(status) ? "code " + std::to_string(WEXITSTATUS(status))
                                         : "signal " + std::to_string(WTERMSIG(status))) +
                      ") before it was ready; " +
                      log_path + ":\n" + tail(log_path));
    }
    return fail(ErrorCode::Timeout, name + " not ready at " + *url + "/-/ready within 30 s; " +
                                        log_path + ":\n" + tail(log_path));
  }
}

}  // namespace

bool alertStackAvailable(std::string* why) {
  for (const char* binary : {kPrometheus, kAlertmanager}) {
    if (::access(binary, X_OK) != 0) {
      if (why != nullptr) {
        *why = std::string(binary) + " is not installed (apt-get install prometheus " +
               "prometheus-alertmanager)";
      }
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<AlertStack>> AlertStack::start(const AlertStackOptions& options) {
  std::string why;
  if (!alertStackAvailable(&why)) {
    return fail(ErrorCode::NotFound, why);
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(options.directory);
  std::error_code error;
  fs::create_directories(dir / "prometheus-data", error);
  fs::create_directories(dir / "alertmanager-data", error);
  if (error) {
    return fail(ErrorCode::Io, "cannot create " + dir.string() + ": " + error.message());
  }

  std::unique_ptr<AlertStack> stack(new AlertStack());
  stack->prometheus_log_ = (dir / "prometheus.log").string();
  stack->alertmanager_log_ = (dir / "alertmanager.log").string();

  // Alertmanager first, so Prometheus has somewhere to send its first alert.
  const std::string am_config = (dir / "alertmanager.yml").string();
  if (auto written = writeFile(am_config, alertmanagerConfig(options)); !written) {
    return written.error();
  }
  auto am_argv = [&](const std::string& address) {
    return std::vector<std::string>{
        kAlertmanager, "--config.file=" + am_config,
        "--storage.path=" + (dir / "alertmanager-data").string(),
        "--web.listen-address=" + address,
        // Empty: no cluster listener, so no gossip port and no settle wait before notifying.
        "--cluster.listen-address=", "--log.level=debug"};
  };
  if (auto started = startServer("Alertmanager", am_argv, stack->alertmanager_log_,
                                 &stack->alertmanager_pid_, &stack->alertmanager_url_);
      !started) {
    return started.error();
  }

  const std::string rules = (dir / "rules.yml").string();
  const std::string prom_config = (dir / "prometheus.yml").string();
  const std::string am_address = stack->alertmanager_url_.substr(std::string("http://").size());
  if (auto written = writeFile(rules, rulesConfig(options)); !written) {
    return written.error();
  }
  if (auto written = writeFile(prom_config, prometheusConfig(options, rules, am_address));
      !written) {
    return written.error();
  }
  auto prom_argv = [&](const std::string& address) {
    return std::vector<std::string>{
        kPrometheus, "--config.file=" + prom_config,
        "--storage.tsdb.path=" + (dir / "prometheus-data").string(),
        "--web.listen-address=" + address,
        // Prometheus re-sends firing alerts to Alertmanager at most this often (default 1m); a
        // test wants Alertmanager to keep hearing about the alert every evaluation.
        "--rules.alert.resend-delay=1s"};
  };
  if (auto started = startServer("Prometheus", prom_argv, stack->prometheus_log_,
                                 &stack->prometheus_pid_, &stack->prometheus_url_);
      !started) {
    return started.error();  // the destructor stops Alertmanager
  }
  return stack;
}

AlertStack::~AlertStack() {
  // Prometheus first, so it does not log failed sends to a stopped Alertmanager.
  stopChild(prometheus_pid_, 5s);
  stopChild(alertmanager_pid_, 5s);
}

std::string AlertStack::logs() const {
  return "Prometheus (" + prometheus_log_ + "):\n" + tail(prometheus_log_) + "Alertmanager (" +
         alertmanager_log_ + "):\n" + tail(alertmanager_log_);
}

}  // namespace kprof::testing
