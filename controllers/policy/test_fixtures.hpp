// Test-only builders for policies and pods, read the way the controller reads them.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers::testing {

inline const WallTime kCreated = *parseRfc3339("2024-05-01T12:00:00Z");

// A policy in namespace "shop" with uid "<name>-uid" and generation 1. `spec` is JSON text.
inline ProfilingPolicy makePolicy(const std::string& name,
                                  const std::string& spec,
                                  const std::string& created = "2024-01-01T00:00:00Z") {
  const nlohmann::json resource = {
      {"apiVersion", "kprof.dev/v1alpha1"},
      {"kind", "ProfilingPolicy"},
      {"metadata",
       {{"name", name},
        {"namespace", "shop"},
        {"uid", name + "-uid"},
        {"generation", 1},
        {"creationTimestamp", created}}},
      {"spec", nlohmann::json::parse(spec)},
  };
  auto policy = readProfilingPolicy(resource);
  EXPECT_TRUE(policy) << policy.error().message;
  return *policy;
}

// A running pod in namespace "shop" whose uid is its name, created at kCreated, with one container
// "app" running image "shop/app:1.0".
inline PodInfo makePod(const std::string& name, Labels labels = {}) {
  PodInfo pod;
  pod.namespace_name = "shop";
  pod.name = name;
  pod.uid = name;
  pod.resource_version = "100";
  pod.labels = std::move(labels);
  pod.containers = {{"app", "shop/app:1.0"}};
  pod.phase = "Running";
  pod.creation_timestamp = kCreated;
  pod.node_name = "node-a";
  return pod;
}

}  // namespace kprof::controllers::testing
