// Real handshakes against the server's TLS: which protocol versions it accepts, and certificate
// rotation without a restart.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "common/http/client.hpp"
#include "common/http/server.hpp"
#include "common/http/test_support.hpp"

namespace kprof::http {
namespace {

using namespace std::chrono_literals;
using testing::makeCa;
using testing::makeLeaf;
using testing::probeTls;
using testing::RawTlsServer;
using testing::TempDir;

class TlsServerTest : public ::testing::Test {
 protected:
  TlsServerTest() : ca_(makeCa("tls-test-ca")) {}

  void install(const CertificateKeyPair& pair) {
    dir_.write("tls.crt", pair.certificate_pem);
    dir_.write("tls.key", pair.private_key_pem);
  }

  void start(std::chrono::milliseconds check_interval = 1000ms) {
    auto store = CertificateStore::open(
        {dir_.file("tls.crt"), dir_.file("tls.key")}, check_interval, clock_);
    ASSERT_TRUE(store) << store.error().toString();
    store_ = *store;
    server_ = std::make_unique<Server>(ServerOptions{.certificates = store_});
    server_->route("GET", "/ping", [](const Request&) { return Response::text(200, "pong"); });
    ASSERT_TRUE(server_->start());
  }

  CertificateKeyPair ca_;
  TempDir dir_;
  SystemClock clock_;
  std::shared_ptr<CertificateStore> store_;
  std::unique_ptr<Server> server_;
};

// Control: the probe client really can speak TLS 1.0 and 1.1, so a refusal below is the server's.
TEST_F(TlsServerTest, ProbeClientCanSpeakLegacyVersions) {
  RawTlsServer legacy(
      {.serving = makeLeaf(ca_, "legacy"), .min_version = TLS1_VERSION, .legacy = true});
  ASSERT_TRUE(legacy.ready());
  auto tls10 = probeTls(legacy.port(), TLS1_VERSION, TLS1_VERSION);
  ASSERT_TRUE(tls10.connected) << tls10.error;
  EXPECT_EQ(tls10.version, "TLSv1");
  auto tls11 = probeTls(legacy.port(), TLS1_1_VERSION, TLS1_1_VERSION);
  ASSERT_TRUE(tls11.connected) << tls11.error;
  EXPECT_EQ(tls11.version, "TLSv1.1");
}

TEST_F(TlsServerTest, RefusesTls10AndTls11) {
  install(makeLeaf(ca_, "server"));
  start();
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    auto probe = probeTls(server_->port(), version, version);
    EXPECT_FALSE(probe.connected) << "negotiated " << probe.version;
    EXPECT_TRUE(probe.peer_refused_version) << probe.error;
  }
}

TEST_F(TlsServerTest, AcceptsTls12AndTls13) {
  install(makeLeaf(ca_, "server"));
  start();
  auto tls12 = probeTls(
      server_->port(), TLS1_2_VERSION, TLS1_2_VERSION, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(tls12.connected) << tls12.error;
  EXPECT_EQ(tls12.version, "TLSv1.2");
  EXPECT_EQ(tls12.peer_common_name, "server");
  EXPECT_NE(tls12.reply.find("pong"), std::string::npos) << tls12.reply;

  auto tls13 = probeTls(
      server_->port(), TLS1_3_VERSION, TLS1_3_VERSION, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(tls13.connected) << tls13.error;
  EXPECT_EQ(tls13.version, "TLSv1.3");
  EXPECT_NE(tls13.reply.find("pong"), std::string::npos) << tls13.reply;

  // With every version on offer the newest wins.
  auto any = probeTls(server_->port(), TLS1_VERSION, TLS1_3_VERSION);
  ASSERT_TRUE(any.connected) << any.error;
  EXPECT_EQ(any.version, "TLSv1.3");
}

TEST_F(TlsServerTest, PicksUpARotatedCertificateWithoutRestart) {
  install(makeLeaf(ca_, "serving-a"));
  start(/*check_interval=*/0ms);
  auto first = probeTls(server_->port(), TLS1_2_VERSION, TLS1_3_VERSION);
  ASSERT_TRUE(first.connected) << first.error;
  EXPECT_EQ(first.peer_common_name, "serving-a");

  install(makeLeaf(ca_, "serving-b"));
  auto second = probeTls(server_->port(), TLS1_2_VERSION, TLS1_3_VERSION);
  ASSERT_TRUE(second.connected) << second.error;
  EXPECT_EQ(second.peer_common_name, "serving-b");
  EXPECT_EQ(store_->stats().reloads, 1u);

  // Broken files: the server keeps presenting the last good certificate.
  dir_.write("tls.crt", "-----BEGIN CERTIFICATE-----\ntruncated");
  auto third = probeTls(server_->port(), TLS1_2_VERSION, TLS1_3_VERSION);
  ASSERT_TRUE(third.connected) << third.error;
  EXPECT_EQ(third.peer_common_name, "serving-b");
  EXPECT_GE(store_->stats().failed_reloads, 1u);

  // And a full HTTPS client still verifies it.
  auto client =
      Client::create({.base_url = server_->url(), .tls = {.ca_pem = ca_.certificate_pem}});
  ASSERT_TRUE(client);
  Request ping;
  ping.path = "/ping";
  auto response = (*client)->send(ping, 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "pong");
}

TEST_F(TlsServerTest, PlainHttpToTheTlsPortFails) {
  install(makeLeaf(ca_, "server"));
  start();
  auto client = Client::create({.base_url = "http://127.0.0.1:" + std::to_string(server_->port())});
  ASSERT_TRUE(client);
  Request ping;
  ping.path = "/ping";
  auto response = (*client)->send(ping, 3s);
  EXPECT_FALSE(response && response->status == 200);
}

}  // namespace
}  // namespace kprof::http
