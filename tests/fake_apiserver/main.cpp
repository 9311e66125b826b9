// kprof-fake-apiserver: the fake Kubernetes API server as a process, for manual use with kubectl
// and for benchmarks. Serves the kprof CRDs (or --crd files) and the objects of the manifest
// files named on the command line; prints its URL and, with --listen-log, writes it to a file
// once it accepts connections.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/log/log.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) {
  g_stop = 1;
}

// Writes the file next to its final name and renames it, so a reader never sees half a line.
bool writeAtomically(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!(out << text)) {
      return false;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  return !error;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kprof-fake-apiserver: an in-memory Kubernetes API server with the real wire semantics, "
      "for tests, kubectl and benchmarks (see docs/fake-apiserver.md)."};
  int port = 0;
  std::string host = "127.0.0.1";
  std::string listen_log;
  std::vector<std::string> crd_files;
  std::vector<std::string> manifests;
  int bookmark_ms = 1000;
  std::size_t history = 10000;
  bool no_namespace_check = false;
  std::string log_level = "info";
  app.add_option("--port", port, "Port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option(
      "--listen-log", listen_log, "Write the server URL to this file once it accepts connections");
  app.add_option("--crd",
                 crd_files,
                 "CustomResourceDefinition files to serve (default: crds/*.yaml of the source "
                 "tree this binary was built from)");
  app.add_option("--bookmark-interval-ms", bookmark_ms, "Watch bookmark interval")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  app.add_option("--history", history, "Watch events kept for resuming")->capture_default_str();
  app.add_flag("--no-namespace-check",
               no_namespace_check,
               "Allow creating objects in namespaces that do not exist");
  app.add_option("--log-level", log_level, "debug, info, warn, error")->capture_default_str();
  app.add_option("manifests", manifests, "YAML/JSON files of objects to create at start-up");
  CLI11_PARSE(app, argc, argv);

  auto level = kprof::log::parseLevel(log_level);
  if (!level) {
    std::cerr << "kprof-fake-apiserver: " << level.error().toString() << "\n";
    return 2;
  }
  kprof::log::LogConfig log_config;
  log_config.level = *level;
  kprof::log::configure(log_config);

  kprof::testing::FakeApiServerOptions options;
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
  options.bookmark_interval = std::chrono::milliseconds(bookmark_ms);
  options.history_limit = history;
  options.require_namespaces = !no_namespace_check;
  if (crd_files.empty()) {
    options.crd_files = kprof::testing::kprofCrdFiles(KPROF_SOURCE_DIR);
  } else {
    options.crd_files.assign(crd_files.begin(), crd_files.end());
  }
  auto server = kprof::testing::FakeApiServer::make(std::move(options));
  if (!server) {
    std::cerr << "kprof-fake-apiserver: " << server.error().toString() << "\n";
    return 1;
  }
  for (const std::string& manifest : manifests) {
    auto loaded = (*server)->loadManifestFile(manifest);
    if (!loaded) {
      std::cerr << "kprof-fake-apiserver: " << loaded.error().toString() << "\n";
      return 1;
    }
    std::cerr << "loaded " << *loaded << " object(s) from " << manifest << "\n";
  }
  if (auto started = (*server)->start(); !started) {
    std::cerr << "kprof-fake-apiserver: " << started.error().toString() << "\n";
    return 1;
  }
  std::cout << (*server)->url() << std::endl;
  if (!listen_log.empty() && !writeAtomically(listen_log, (*server)->url() + "\n")) {
    std::cerr << "kprof-fake-apiserver: cannot write " << listen_log << "\n";
    return 1;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  while (g_stop == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*server)->stop();
  return 0;
}
