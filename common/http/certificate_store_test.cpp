#include "common/http/certificate_store.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "common/http/openssl_handles.hpp"
#include "common/http/test_support.hpp"
#include "common/http/tls_policy.hpp"

namespace kprof::http {
namespace {

using namespace std::chrono_literals;
using testing::makeCa;
using testing::makeLeaf;
using testing::TempDir;

class CertificateStoreTest : public ::testing::Test {
 protected:
  CertificateStoreTest() : ca_(makeCa("store-ca")) {}

  CertificateKeyPair leaf(const std::string& name) { return makeLeaf(ca_, name); }

  void install(const CertificateKeyPair& pair) {
    dir_.write("tls.crt", pair.certificate_pem);
    dir_.write("tls.key", pair.private_key_pem);
  }

  CertificateFiles files() const { return {dir_.file("tls.crt"), dir_.file("tls.key")}; }

  static std::string servedName(CertificateStore& store) {
    auto info = inspectCertificate(store.current()->certificatePem());
    return info ? info->subject_common_name : info.error().toString();
  }

  CertificateKeyPair ca_;
  TempDir dir_;
  FakeClock clock_;
};

TEST_F(CertificateStoreTest, FirstLoadMustSucceed) {
  auto missing = CertificateStore::open(files(), 1000ms, clock_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Io);

  CertificateKeyPair a = leaf("a");
  CertificateKeyPair b = leaf("b");
  dir_.write("tls.crt", a.certificate_pem);
  dir_.write("tls.key", b.private_key_pem);
  auto mismatched = CertificateStore::open(files(), 1000ms, clock_);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, ErrorCode::InvalidArgument);
}

TEST_F(CertificateStoreTest, ChecksFilesAtMostOncePerInterval) {
  install(leaf("a"));
  auto store = CertificateStore::open(files(), 1000ms, clock_);
  ASSERT_TRUE(store) << store.error().toString();
  EXPECT_EQ(servedName(**store), "a");

  install(leaf("b"));
  clock_.advance(999ms);
  EXPECT_EQ(servedName(**store), "a");  // not looked at yet
  clock_.advance(1ms);
  EXPECT_EQ(servedName(**store), "b");
  EXPECT_EQ((*store)->stats().reloads, 1u);
  EXPECT_EQ((*store)->stats().failed_reloads, 0u);
}

TEST_F(CertificateStoreTest, KeepsTheLastGoodPairWhileFilesAreBroken) {
  install(leaf("a"));
  auto opened = CertificateStore::open(files(), 0ms, clock_);
  ASSERT_TRUE(opened);
  CertificateStore& store = **opened;

  // Half-written certificate.
  CertificateKeyPair b = leaf("b");
  dir_.write("tls.crt", b.certificate_pem.substr(0, b.certificate_pem.size() / 2));
  EXPECT_EQ(servedName(store), "a");
  EXPECT_EQ(store.stats().failed_reloads, 1u);
  EXPECT_FALSE(store.stats().last_error.empty());
  // Unchanged broken files are not retried (and not re-counted).
  EXPECT_EQ(servedName(store), "a");
  EXPECT_EQ(store.stats().failed_reloads, 1u);

  // New certificate, old key: mid-rotation.
  dir_.write("tls.crt", b.certificate_pem);
  EXPECT_EQ(servedName(store), "a");
  EXPECT_EQ(store.stats().failed_reloads, 2u);

  // Rotation finished.
  dir_.write("tls.key", b.private_key_pem);
  EXPECT_EQ(servedName(store), "b");
  EXPECT_EQ(store.stats().reloads, 1u);
  EXPECT_TRUE(store.stats().last_error.empty());

  // Files gone for a moment.
  std::filesystem::remove(dir_.file("tls.key"));
  EXPECT_EQ(servedName(store), "b");
  EXPECT_EQ(store.stats().failed_reloads, 3u);
}

TEST_F(CertificateStoreTest, ServerPolicyPinsVersionsAndFeatures) {
  install(leaf("a"));
  auto store = CertificateStore::open(files(), 0ms, clock_);
  ASSERT_TRUE(store);
  ossl::SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  ASSERT_TRUE(applyServerTlsPolicy(context.get(), *store));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context.get()), TLS1_2_VERSION);
  uint64_t options = SSL_CTX_get_options(context.get());
  EXPECT_NE(options & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0u);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(context.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    std::string name = SSL_CIPHER_get_name(cipher);
    bool aead = name.find("GCM") != std::string::npos || name.find("CHACHA20") != std::string::npos;
    EXPECT_TRUE(aead) << name;
  }
  EXPECT_FALSE(applyServerTlsPolicy(context.get(), nullptr));
}

}  // namespace
}  // namespace kprof::http
