#include "operator/kube/cluster_config.hpp"

#include <gtest/gtest.h>

#include "operator/kube/test_files.hpp"

namespace kprof::kube {
namespace {

using testing::ScratchDir;

std::string kubeconfigFor(const std::string& server) {
  return "current-context: c\nclusters: [{name: k, cluster: {server: \"" + server +
         "\"}}]\ncontexts: [{name: c, context: {cluster: k}}, {name: other, context: {cluster: "
         "k, namespace: elsewhere}}]\n";
}

TEST(InClusterTest, ServerUrl) {
  EXPECT_EQ(inClusterServer("10.96.0.1", "443"), "https://10.96.0.1:443");
  EXPECT_EQ(inClusterServer("fd00:10:96::1", "443"), "https://[fd00:10:96::1]:443");
  EXPECT_EQ(inClusterServer("[fd00::1]", "6443"), "https://[fd00::1]:6443");
  EXPECT_EQ(inClusterServer("kubernetes.default.svc", "443"), "https://kubernetes.default.svc:443");
}

class InClusterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.root = dir_.path();
    env_.variables = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  }
  std::string account(const std::string& name) const {
    return "var/run/secrets/kubernetes.io/serviceaccount/" + name;
  }

  ScratchDir dir_;
  Environment env_;
};

TEST_F(InClusterConfigTest, ReadsTheServiceAccount) {
  dir_.write(account("token"), "eyJhbGciOi.sa-token\n");
  dir_.write(account("ca.crt"), "-----BEGIN CERTIFICATE-----\n");
  dir_.write(account("namespace"), "kprof-system\n");
  auto config = inClusterConfig(env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token_file, dir_.file(account("token")));
  EXPECT_EQ(config->token, "");  // read (and re-read) from the file by the client
  EXPECT_EQ(config->ca_file, dir_.file(account("ca.crt")));
  EXPECT_EQ(config->default_namespace, "kprof-system");
  EXPECT_EQ(config->source, "in-cluster");
}

TEST_F(InClusterConfigTest, NamespaceFileIsOptional) {
  dir_.write(account("token"), "t");
  dir_.write(account("ca.crt"), "ca");
  auto config = inClusterConfig(env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(InClusterConfigTest, MissingPiecesAreNamed) {
  auto no_token = inClusterConfig(env_);
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().code, ErrorCode::NotFound);
  EXPECT_NE(no_token.error().message.find(dir_.file(account("token"))), std::string::npos);

  dir_.write(account("token"), "\n");
  auto empty_token = inClusterConfig(env_);
  ASSERT_FALSE(empty_token);
  EXPECT_NE(empty_token.error().message.find("is empty"), std::string::npos);

  dir_.write(account("token"), "t");
  auto no_ca = inClusterConfig(env_);
  ASSERT_FALSE(no_ca);
  EXPECT_NE(no_ca.error().message.find("ca.crt"), std::string::npos);

  env_.variables.erase("KUBERNETES_SERVICE_PORT");
  auto no_port = inClusterConfig(env_);
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.error().message.find("KUBERNETES_SERVICE_PORT"), std::string::npos);
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.root = dir_.path();
    env_.variables["HOME"] = dir_.file("home");
  }
  void makeInCluster() {
    env_.variables["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
    env_.variables["KUBERNETES_SERVICE_PORT"] = "443";
    dir_.write("var/run/secrets/kubernetes.io/serviceaccount/token", "t");
    dir_.write("var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "ca");
  }

  ScratchDir dir_;
  Environment env_;
};

TEST_F(ResolveTest, FlagWinsOverEverything) {
  std::string flag = dir_.write("flag.yaml", kubeconfigFor("https://flag"));
  dir_.write("env.yaml", kubeconfigFor("https://env"));
  env_.variables["KUBECONFIG"] = dir_.file("env.yaml");
  dir_.write("home/.kube/config", kubeconfigFor("https://home"));
  makeInCluster();
  auto config = resolveClusterConfig(flag, env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://flag");
}

TEST_F(ResolveTest, MissingFlagFileIsAnErrorNotAFallThrough) {
  dir_.write("home/.kube/config", kubeconfigFor("https://home"));
  auto config = resolveClusterConfig(dir_.file("typo.yaml"), env_);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::NotFound);
  EXPECT_NE(config.error().message.find("typo.yaml"), std::string::npos);
}

TEST_F(ResolveTest, KubeconfigVariableMergesAndSkipsMissingFiles) {
  dir_.write("a.yaml", "current-context: other\n");
  dir_.write("b.yaml", kubeconfigFor("https://env"));
  env_.variables["KUBECONFIG"] =
      dir_.file("missing.yaml") + ":" + dir_.file("a.yaml") + ":" + dir_.file("b.yaml");
  makeInCluster();
  auto config = resolveClusterConfig("", env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://env");
  EXPECT_EQ(config->default_namespace, "elsewhere");  // a.yaml's current-context won
}

TEST_F(ResolveTest, InClusterBeforeHome) {
  dir_.write("home/.kube/config", kubeconfigFor("https://home"));
  makeInCluster();
  auto config = resolveClusterConfig("", env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  // Asking for a context means a kubeconfig.
  auto named = resolveClusterConfig("", env_, "other");
  ASSERT_TRUE(named) << named.error().toString();
  EXPECT_EQ(named->server, "https://home");
  EXPECT_EQ(named->default_namespace, "elsewhere");
}

TEST_F(ResolveTest, HomeKubeconfigLast) {
  env_.variables["KUBECONFIG"] = dir_.file("gone.yaml");
  dir_.write("home/.kube/config", kubeconfigFor("https://home"));
  auto config = resolveClusterConfig("", env_);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://home");
}

TEST_F(ResolveTest, NothingFoundListsWhatWasTried) {
  env_.variables["KUBECONFIG"] = dir_.file("gone.yaml");
  auto config = resolveClusterConfig("", env_);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::NotFound);
  const std::string& message = config.error().message;
  EXPECT_NE(message.find("--kubeconfig"), std::string::npos) << message;
  EXPECT_NE(message.find("KUBECONFIG=" + dir_.file("gone.yaml")), std::string::npos) << message;
  EXPECT_NE(message.find("in-cluster (KUBERNETES_SERVICE_HOST not set)"), std::string::npos)
      << message;
  EXPECT_NE(message.find(dir_.file("home/.kube/config")), std::string::npos) << message;

  env_.variables.erase("HOME");
  auto no_home = resolveClusterConfig("", env_);
  ASSERT_FALSE(no_home);
  EXPECT_NE(no_home.error().message.find("HOME not set"), std::string::npos);
}

TEST_F(ResolveTest, BrokenInClusterSetupIsReportedNotSkipped) {
  env_.variables["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
  env_.variables["KUBERNETES_SERVICE_PORT"] = "443";
  dir_.write("home/.kube/config", kubeconfigFor("https://home"));
  auto config = resolveClusterConfig("", env_);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("service account token"), std::string::npos);
}

TEST(EnvironmentTest, FromProcessSeesVariables) {
  setenv("KPROF_KUBE_TEST_VARIABLE", "x=y", 1);
  Environment env = Environment::fromProcess();
  EXPECT_EQ(env.get("KPROF_KUBE_TEST_VARIABLE"), "x=y");
  EXPECT_EQ(env.get("KPROF_KUBE_TEST_UNSET_VARIABLE"), std::nullopt);
  unsetenv("KPROF_KUBE_TEST_VARIABLE");
}

}  // namespace
}  // namespace kprof::kube
