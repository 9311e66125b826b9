// The mutated pod run by a real container runtime: podman_e2e.py sends an AdmissionReview for
// pod.json to the webhook over TLS, applies the patch with python3-jsonpatch, runs the result
// with `podman kube play`, and waits for the injected ebpf-mode agent's profiles of the app.
#include <cstdlib>
#include <string>

#include <sys/wait.h>

#include <gtest/gtest.h>

namespace {

TEST(PodmanE2e, TheInjectedAgentProfilesTheAppUnderPodman) {
  const std::string command = std::string("/usr/bin/python3 ") + KPROF_SOURCE_DIR +
                              "/tests/podman/podman_e2e.py " + KPROF_BINARY_DIR;
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "podman_e2e.py did not exit normally";
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "needs root for podman and eBPF";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see podman_e2e.py's output above";
}

}  // namespace
