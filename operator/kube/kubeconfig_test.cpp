#include "operator/kube/kubeconfig.hpp"

#include <gtest/gtest.h>

#include "common/core/base64.hpp"
#include "operator/kube/test_files.hpp"

namespace kprof::kube {
namespace {

using testing::ScratchDir;

const char* const kTwoContexts = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority: ca/dev.crt
    tls-server-name: kubernetes.default
- name: prod-cluster
  cluster:
    server: https://prod.example:443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    client-certificate: /etc/kprof/prod.crt
    client-key: keys/prod.key
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
)";

Result<ClusterConfig> parseOne(const std::string& text, std::string_view context = "") {
  return parseKubeconfig({{"/home/u/.kube/config", text}}, context);
}

TEST(KubeconfigTest, CurrentContextGivesClusterUserAndNamespace) {
  auto config = parseOne(kTwoContexts);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://dev.example:6443");
  EXPECT_EQ(config->token, "dev-token");
  EXPECT_EQ(config->ca_file, "/home/u/.kube/ca/dev.crt");  // relative to the kubeconfig
  EXPECT_EQ(config->ca_pem, "");
  EXPECT_EQ(config->tls_server_name, "kubernetes.default");
  EXPECT_EQ(config->default_namespace, "team-a");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->source, "kubeconfig /home/u/.kube/config context \"dev\"");
}

TEST(KubeconfigTest, ExplicitContextWithDataAndFileForms) {
  auto config = parseOne(kTwoContexts, "prod");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://prod.example:443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(config->ca_file, "");
  EXPECT_EQ(config->client_certificate_file, "/etc/kprof/prod.crt");
  EXPECT_EQ(config->client_key_file, "/home/u/.kube/keys/prod.key");
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->default_namespace, "default");
}

TEST(KubeconfigTest, DataWinsOverTheFileForm) {
  std::string pem = "-----BEGIN CERTIFICATE-----\nclient\n";
  std::string key = "-----BEGIN PRIVATE KEY-----\nkey\n";
  auto config = parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443", insecure-skip-tls-verify: true}}]
users:
- name: u
  user:
    client-certificate: client.crt
    client-certificate-data: )" +
                         base64Encode(pem) + R"(
    client-key-data: )" + base64Encode(key) +
                         R"(
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->client_certificate_pem, pem);
  EXPECT_EQ(config->client_certificate_file, "");
  EXPECT_EQ(config->client_key_pem, key);
  EXPECT_TRUE(config->insecure_skip_tls_verify);
}

TEST(KubeconfigTest, TokenFileAndBasicAuth) {
  auto config = parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: u, user: {tokenFile: secrets/token}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->token_file, "/home/u/.kube/secrets/token");
  auto basic = parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
users: [{name: b, user: {username: admin, password: pw}}]
contexts: [{name: c, context: {cluster: k, user: b}}]
)");
  ASSERT_TRUE(basic) << basic.error().toString();
  EXPECT_EQ(basic->username, "admin");
  EXPECT_EQ(basic->password, "pw");
}

TEST(KubeconfigTest, UserWithoutCredentialsIsAnonymous) {
  auto config = parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "http://127.0.0.1:8080"}}]
users: [{name: nobody, user: {}}]
contexts: [{name: c, context: {cluster: k, user: nobody}}, {name: nouser, context: {cluster: k}}]
)");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->client_certificate_file, "");
  auto without_user = parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "k:8080"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_TRUE(without_user) << without_user.error().toString();
  EXPECT_EQ(without_user->server, "https://k:8080");  // no scheme: https
}

void expectError(const Result<ClusterConfig>& config, ErrorCode code, const std::string& message) {
  ASSERT_FALSE(config) << "expected: " << message;
  EXPECT_EQ(config.error().code, code) << config.error().toString();
  EXPECT_EQ(config.error().message, message);
}

TEST(KubeconfigTest, ErrorsNameTheMissingPiece) {
  expectError(parseOne(kTwoContexts, "staging"),
              ErrorCode::NotFound,
              "context \"staging\" not found in /home/u/.kube/config");
  expectError(parseOne("clusters: []\n"),
              ErrorCode::InvalidArgument,
              "no current-context is set in /home/u/.kube/config; name a context");
  expectError(parseOne("current-context: c\ncontexts: [{name: c, context: {cluster: gone}}]\n"),
              ErrorCode::NotFound,
              "cluster \"gone\" (of context \"c\") not found in /home/u/.kube/config");
  expectError(parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: ghost}}]
)"),
              ErrorCode::NotFound,
              "user \"ghost\" (of context \"c\") not found in /home/u/.kube/config");
  expectError(parseOne(R"(
current-context: c
clusters: [{name: k, cluster: {certificate-authority: ca.crt}}]
contexts: [{name: c, context: {cluster: k}}]
)"),
              ErrorCode::InvalidArgument,
              "cluster \"k\" in /home/u/.kube/config has no server");
  expectError(parseOne("current-context: c\nclusters: [{name: k}]\n"
                       "contexts: [{name: c, context: {cluster: k}}]\n"),
              ErrorCode::InvalidArgument,
              "cluster \"k\" in /home/u/.kube/config has no server");
  expectError(parseOne("current-context: c\ncontexts: [{name: c, context: {}}]\n"),
              ErrorCode::InvalidArgument,
              "context \"c\" in /home/u/.kube/config names no cluster");
}

TEST(KubeconfigTest, InconsistentSettingsAreRefused) {
  auto with = [](const std::string& cluster, const std::string& user) {
    return parseOne("current-context: c\nclusters: [{name: k, cluster: " + cluster +
                    "}]\nusers: [{name: u, user: " + user +
                    "}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n");
  };
  expectError(with("{server: s, insecure-skip-tls-verify: true, certificate-authority: ca}", "{}"),
              ErrorCode::InvalidArgument,
              "cluster \"k\" in /home/u/.kube/config sets both a certificate authority and "
              "insecure-skip-tls-verify");
  expectError(with("{server: s}", "{client-certificate: c.crt}"),
              ErrorCode::InvalidArgument,
              "user \"u\" in /home/u/.kube/config has a client certificate but no client key");
  expectError(with("{server: s}", "{token: t, username: a}"),
              ErrorCode::InvalidArgument,
              "user \"u\" in /home/u/.kube/config has more than one authentication method "
              "(token and username/password)");
  auto exec = with("{server: s}", "{exec: {command: aws, apiVersion: x}}");
  ASSERT_FALSE(exec);
  EXPECT_NE(exec.error().message.find("exec plugin, which kprof cannot run"), std::string::npos);
  auto bad_data = with("{server: s, certificate-authority-data: '!!notbase64'}", "{}");
  ASSERT_FALSE(bad_data);
  EXPECT_NE(bad_data.error().message.find("certificate-authority-data is not valid base64"),
            std::string::npos);
  auto bad_bool = with("{server: s, insecure-skip-tls-verify: maybe}", "{}");
  ASSERT_FALSE(bad_bool);
  EXPECT_EQ(bad_bool.error().code, ErrorCode::InvalidArgument);
}

TEST(KubeconfigTest, MalformedDocumentsAreErrorsNotCrashes) {
  for (const char* text : {"clusters: [",
                           "- just\n- a list\n",
                           "clusters: 7\n",
                           "clusters: [7]\n",
                           "clusters: [{cluster: {}}]\n",
                           "current-context: [a, b]\n",
                           "current-context: c\ncontexts: [{name: c, context: {cluster: [x]}}]\n",
                           "current-context: c\ncontexts: [{name: c, context: 5}]\n"}) {
    auto config = parseOne(text);
    EXPECT_FALSE(config) << text;
  }
  auto syntax = parseOne("clusters: [");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, ErrorCode::Parse);
  EXPECT_NE(syntax.error().message.find("/home/u/.kube/config"), std::string::npos);
}

TEST(KubeconfigTest, MergeFirstFileThatSetsAKeyWins) {
  KubeconfigFile first{"/a/config", R"(
current-context: from-a
clusters: [{name: shared, cluster: {server: "https://a", certificate-authority: a-ca.crt}}]
contexts: [{name: from-a, context: {cluster: shared, user: u}}]
)"};
  KubeconfigFile second{"/b/sub/config", R"(
current-context: from-b
clusters:
- {name: shared, cluster: {server: "https://b"}}
- {name: only-b, cluster: {server: "https://only-b", certificate-authority: ca.crt}}
users: [{name: u, user: {client-certificate: u.crt, client-key: u.key}}]
contexts:
- {name: from-a, context: {cluster: only-b}}
- {name: from-b, context: {cluster: only-b, user: u, namespace: bee}}
)"};
  auto merged = parseKubeconfig({first, second});
  ASSERT_TRUE(merged) << merged.error().toString();
  // current-context and the context and cluster it names come from the first file...
  EXPECT_EQ(merged->server, "https://a");
  EXPECT_EQ(merged->ca_file, "/a/a-ca.crt");
  // ...and the user only the second defines, with paths relative to the second file.
  EXPECT_EQ(merged->client_certificate_file, "/b/sub/u.crt");
  EXPECT_EQ(merged->client_key_file, "/b/sub/u.key");

  auto other = parseKubeconfig({first, second}, "from-b");
  ASSERT_TRUE(other) << other.error().toString();
  EXPECT_EQ(other->server, "https://only-b");
  EXPECT_EQ(other->ca_file, "/b/sub/ca.crt");
  EXPECT_EQ(other->default_namespace, "bee");
  EXPECT_EQ(other->source, "kubeconfig /a/config, /b/sub/config context \"from-b\"");

  expectError(parseKubeconfig({first, second}, "nope"),
              ErrorCode::NotFound,
              "context \"nope\" not found in /a/config, /b/sub/config");
}

TEST(KubeconfigTest, EmptyFilesMergeAsNothing) {
  auto config = parseKubeconfig({{"/empty", ""}, {"/real", kTwoContexts}});
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://dev.example:6443");
}

TEST(KubeconfigTest, JsonKubeconfig) {
  auto config = parseOne(
      R"({"current-context":"c","clusters":[{"name":"k","cluster":{"server":"https://j"}}],)"
      R"("contexts":[{"name":"c","context":{"cluster":"k"}}]})");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->server, "https://j");
}

TEST(KubeconfigTest, LoadReadsFilesAndResolvesAgainstTheirDirectory) {
  ScratchDir dir;
  std::string path = dir.write("nested/kubeconfig", kTwoContexts);
  auto config = loadKubeconfig({path});
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->ca_file, dir.file("nested/ca/dev.crt"));

  auto missing = loadKubeconfig({dir.file("absent")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_NE(missing.error().message.find(dir.file("absent")), std::string::npos);
}

TEST(KubeconfigTest, SplitKubeconfigList) {
  EXPECT_EQ(splitKubeconfigList("/a:/b::/a:/c:"), (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_TRUE(splitKubeconfigList("").empty());
  EXPECT_TRUE(splitKubeconfigList(":::").empty());
}

}  // namespace
}  // namespace kprof::kube
