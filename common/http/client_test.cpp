#include "common/http/client.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/http/ports.hpp"
#include "common/http/server.hpp"
#include "common/http/test_support.hpp"

namespace kprof::http {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::makeCa;
using testing::makeLeaf;
using testing::RawTlsServer;
using testing::TempDir;

Request get(std::string path) {
  Request request;
  request.path = std::move(path);
  return request;
}

std::unique_ptr<Client> makeClient(ClientOptions options) {
  auto client = Client::create(std::move(options));
  EXPECT_TRUE(client) << client.error().toString();
  return client ? std::move(*client) : nullptr;
}

std::chrono::steady_clock::duration timed(const std::function<void()>& action) {
  auto started = std::chrono::steady_clock::now();
  action();
  return std::chrono::steady_clock::now() - started;
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  auto port = pickFreePort();
  ASSERT_TRUE(port);
  auto client = makeClient({.base_url = "http://127.0.0.1:" + std::to_string(*port)});
  Result<Response> response = fail(ErrorCode::Internal, "not sent");
  auto elapsed = timed([&] { response = client->send(get("/"), 5s); });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::Unavailable) << response.error().toString();
  EXPECT_LT(elapsed, 4s);
}

TEST(ClientTest, TimesOutAgainstAServerThatDoesNotAnswer) {
  std::mutex mutex;
  std::vector<Responder> parked;
  Server server({});
  server.routeAsync("GET", "/silent", [&](Request, Responder responder) {
    std::lock_guard lock(mutex);
    parked.push_back(std::move(responder));
  });
  ASSERT_TRUE(server.start());
  auto client = makeClient({.base_url = server.url()});
  Result<Response> response = fail(ErrorCode::Internal, "not sent");
  auto elapsed = timed([&] { response = client->send(get("/silent"), 300ms); });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::Timeout) << response.error().toString();
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
  server.stop(100ms);
}

TEST(ClientTest, SendsDefaultHeadersAndRequestHeadersWin) {
  Server server({});
  server.route("GET", "/whoami", [](const Request& request) {
    return Response::text(200, request.headers.get("Authorization").value_or("<none>"));
  });
  ASSERT_TRUE(server.start());
  ClientOptions options{.base_url = server.url()};
  options.default_headers.set("Authorization", bearerAuthorization("sa-token"));
  auto client = makeClient(std::move(options));
  EXPECT_EQ(client->send(get("/whoami"), 5s)->body, "Bearer sa-token");
  Request basic = get("/whoami");
  basic.headers.set("authorization", basicAuthorization("admin", "secret"));
  EXPECT_EQ(client->send(basic, 5s)->body, basicAuthorization("admin", "secret"));
}

TEST(ClientTest, OversizedResponseIsResourceExhausted) {
  Server server({});
  server.route(
      "GET", "/big", [](const Request&) { return Response::text(200, std::string(5000, 'b')); });
  ASSERT_TRUE(server.start());
  auto client = makeClient({.base_url = server.url(), .max_response_bytes = 1000});
  auto response = client->send(get("/big"), 5s);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::ResourceExhausted);
}

TEST(ClientTest, RejectsBadOptions) {
  EXPECT_FALSE(Client::create({.base_url = "ftp://x"}));
  EXPECT_FALSE(Client::create({.base_url = "https://x", .tls = {.ca_pem = "garbage"}}));
  ClientOptions both{.base_url = "https://x"};
  both.tls.ca_file = "/etc/hostname";
  both.tls.ca_pem = "also";
  EXPECT_FALSE(Client::create(both));
  ClientOptions half{.base_url = "https://x"};
  auto ca = makeCa("half");
  half.tls.client_certificate_pem = ca.certificate_pem;
  auto result = Client::create(half);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
}

// --- streaming ------------------------------------------------------------------------------

// A server route whose chunked body the test writes line by line.
class StreamLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.routeAsync("GET", "/watch", [this](Request, Responder responder) {
      auto stream = responder.stream(200, "application/json");
      std::lock_guard lock(mutex_);
      stream_ = std::move(stream);
      changed_.notify_all();
    });
    server_.route("GET", "/gone", [](const Request&) {
      return Response::json(410, R"({"kind":"Status","code":410})");
    });
    ASSERT_TRUE(server_.start());
    client_ = makeClient({.base_url = server_.url()});
  }

  void TearDown() override {
    if (writer_.joinable()) {
      writer_.join();
    }
    server_.stop(1s);
  }

  std::shared_ptr<BodyStream> waitForStream() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] { return stream_ != nullptr; });
    return stream_;
  }

  // Counts lines the client has seen, so the writer can wait for each one.
  void acknowledge() {
    std::lock_guard lock(mutex_);
    ++acknowledged_;
    changed_.notify_all();
  }
  bool waitAcknowledged(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return acknowledged_ >= count; });
  }

  Server server_{ServerOptions{}};
  std::unique_ptr<Client> client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::shared_ptr<BodyStream> stream_;
  int acknowledged_ = 0;
  std::thread writer_;
};

TEST_F(StreamLinesTest, EachLineArrivesBeforeTheServerSendsTheNext) {
  std::atomic<bool> writer_waited_in_vain{false};
  writer_ = std::thread([&] {
    auto stream = waitForStream();
    if (!stream) {
      writer_waited_in_vain = true;
      return;
    }
    // Line 2 is split across writes, line 3 ends in CRLF, blank keep-alive lines are skipped.
    std::vector<std::vector<std::string>> script = {
        {R"({"type":"ADDED","n":0})"
         "\n"},
        {R"({"type":"MODIFIED","n":1})"
         "\n",
         "\n"},
        {R"({"type":)",
         R"("DELETED","n":2})"
         "\n"},
        {R"({"type":"BOOKMARK","n":3})"
         "\r\n"},
    };
    for (std::size_t i = 0; i < script.size(); ++i) {
      for (const std::string& piece : script[i]) {
        stream->write(piece);
      }
      // Only go on once the client has this line: a client that buffered the body would never
      // see it, and this wait would give up.
      if (!waitAcknowledged(static_cast<int>(i) + 1)) {
        writer_waited_in_vain = true;
        break;
      }
    }
    stream->close();
  });

  std::vector<std::string> lines;
  auto result = client_->streamLines(get("/watch"),
                                     [&](std::string_view line) {
                                       lines.emplace_back(line);
                                       acknowledge();
                                       return true;
                                     },
                                     {.timeout = 20s});
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->content_type, "application/json");
  EXPECT_FALSE(writer_waited_in_vain);
  EXPECT_EQ(lines,
            (std::vector<std::string>{R"({"type":"ADDED","n":0})",
                                      R"({"type":"MODIFIED","n":1})",
                                      R"({"type":"DELETED","n":2})",
                                      R"({"type":"BOOKMARK","n":3})"}));
}

TEST_F(StreamLinesTest, StopTokenEndsTheStreamAndClosesTheConnection) {
  std::stop_source stop;
  writer_ = std::thread([&] {
    if (auto stream = waitForStream()) {
      stream->write("first\n");
      if (waitAcknowledged(1)) {
        stop.request_stop();
      }
    }
  });
  std::vector<std::string> lines;
  Result<Response> result = fail(ErrorCode::Internal, "not run");
  auto elapsed = timed([&] {
    result = client_->streamLines(get("/watch"),
                                  [&](std::string_view line) {
                                    lines.emplace_back(line);
                                    acknowledge();
                                    return true;
                                  },
                                  {.timeout = 20s, .stop = stop.get_token()});
  });
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(lines, std::vector<std::string>{"first"});
  EXPECT_LT(elapsed, 5s);
  // The server notices the client went away: its writes start failing.
  auto stream = waitForStream();
  EXPECT_TRUE(eventually([&] { return !stream->write("more\n"); }));
}

TEST_F(StreamLinesTest, CallbackCanEndTheStream) {
  writer_ = std::thread([&] {
    if (auto stream = waitForStream()) {
      stream->write("a\nb\nc\n");
    }
  });
  std::vector<std::string> lines;
  auto result = client_->streamLines(get("/watch"),
                                     [&](std::string_view line) {
                                       lines.emplace_back(line);
                                       return lines.size() < 2;
                                     },
                                     {.timeout = 20s});
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b"}));
}

TEST_F(StreamLinesTest, SilentStreamTimesOut) {
  Result<Response> result = fail(ErrorCode::Internal, "not run");
  auto elapsed = timed([&] {
    result = client_->streamLines(
        get("/watch"), [](std::string_view) { return true; }, {.timeout = 300ms});
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Timeout);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(StreamLinesTest, OverlongLineIsResourceExhausted) {
  writer_ = std::thread([&] {
    if (auto stream = waitForStream()) {
      stream->write(std::string(1000, 'a'));
    }
  });
  auto result = client_->streamLines(get("/watch"),
                                     [](std::string_view) { return true; },
                                     {.timeout = 10s, .max_line_bytes = 100});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::ResourceExhausted);
}

TEST_F(StreamLinesTest, ErrorStatusIsReturnedWithItsBody) {
  bool called = false;
  auto result = client_->streamLines(get("/gone"),
                                     [&](std::string_view) {
                                       called = true;
                                       return true;
                                     },
                                     {.timeout = 5s});
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->status, 410);
  EXPECT_EQ(result->body, R"({"kind":"Status","code":410})");
  EXPECT_FALSE(called);
}

// --- TLS --------------------------------------------------------------------------------------

class ClientTlsTest : public ::testing::Test {
 protected:
  ClientTlsTest() : ca_(makeCa("client-test-ca")) {}

  void serve(const CertificateKeyPair& serving) {
    dir_.write("tls.crt", serving.certificate_pem);
    dir_.write("tls.key", serving.private_key_pem);
    auto store =
        CertificateStore::open({dir_.file("tls.crt"), dir_.file("tls.key")}, 1000ms, clock_);
    ASSERT_TRUE(store) << store.error().toString();
    server_ = std::make_unique<Server>(ServerOptions{.certificates = *store});
    server_->route("GET", "/ping", [](const Request&) { return Response::text(200, "pong"); });
    ASSERT_TRUE(server_->start());
  }

  Result<Response> ping(ClientTlsOptions tls, std::string base_url = "") {
    auto client = Client::create(
        {.base_url = base_url.empty() ? server_->url() : base_url, .tls = std::move(tls)});
    if (!client) {
      return client.error();
    }
    return (*client)->send(get("/ping"), 5s);
  }

  CertificateKeyPair ca_;
  TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
};

TEST_F(ClientTlsTest, VerifiesTheServerAgainstTheGivenCa) {
  serve(makeLeaf(ca_, "server"));
  EXPECT_TRUE(server_->isTls());
  auto response = ping({.ca_pem = ca_.certificate_pem});
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "pong");

  dir_.write("ca.crt", ca_.certificate_pem);
  response = ping({.ca_file = dir_.file("ca.crt")});
  ASSERT_TRUE(response) << response.error().toString();

  // "localhost" is in the certificate's SANs as well.
  response =
      ping({.ca_pem = ca_.certificate_pem}, "https://localhost:" + std::to_string(server_->port()));
  ASSERT_TRUE(response) << response.error().toString();
}

TEST_F(ClientTlsTest, RefusesAServerFromAnotherCaUnlessTold) {
  serve(makeLeaf(ca_, "server"));
  auto other = makeCa("other-ca");
  auto response = ping({.ca_pem = other.certificate_pem});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::Unavailable) << response.error().toString();
  // The system store does not know the test CA either.
  EXPECT_FALSE(ping({}));

  response = ping({.insecure_skip_verify = true});
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "pong");
}

TEST_F(ClientTlsTest, ServerNameOverridesTheUrlHostForVerification) {
  serve(makeLeaf(ca_, "webhook", false, "kprof-webhook.kprof.svc", /*loopback_sans=*/false));
  EXPECT_FALSE(ping({.ca_pem = ca_.certificate_pem}));
  auto response = ping({.ca_pem = ca_.certificate_pem, .server_name = "kprof-webhook.kprof.svc"});
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_FALSE(ping({.ca_pem = ca_.certificate_pem, .server_name = "other.kprof.svc"}));
}

TEST_F(ClientTlsTest, PresentsTheClientCertificate) {
  auto client_ca = makeCa("client-ca");
  auto client_pair = makeLeaf(client_ca, "system:kprof-operator", /*client_auth=*/true);
  RawTlsServer server(
      {.serving = makeLeaf(ca_, "api-server"), .client_ca_pem = client_ca.certificate_pem});
  ASSERT_TRUE(server.ready());
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  auto client = makeClient({.base_url = url,
                            .tls = {.ca_pem = ca_.certificate_pem,
                                    .client_certificate_pem = client_pair.certificate_pem,
                                    .client_key_pem = client_pair.private_key_pem}});
  auto response = client->send(get("/api"), 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "system:kprof-operator");

  dir_.write("client.crt", client_pair.certificate_pem);
  dir_.write("client.key", client_pair.private_key_pem);
  auto from_files = makeClient({.base_url = url,
                                .tls = {.ca_pem = ca_.certificate_pem,
                                        .client_certificate_file = dir_.file("client.crt"),
                                        .client_key_file = dir_.file("client.key")}});
  response = from_files->send(get("/api"), 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "system:kprof-operator");

  auto anonymous = makeClient({.base_url = url, .tls = {.ca_pem = ca_.certificate_pem}});
  response = anonymous->send(get("/api"), 5s);
  EXPECT_FALSE(response && response->status == 200);
}

}  // namespace
}  // namespace kprof::http
