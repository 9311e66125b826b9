#include "common/http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http/client.hpp"
#include "common/http/test_support.hpp"

namespace kprof::http {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RawConnection;

std::unique_ptr<Client> clientFor(const Server& server) {
  auto client = Client::create({.base_url = server.url()});
  EXPECT_TRUE(client) << client.error().toString();
  return client ? std::move(*client) : nullptr;
}

Request get(std::string path) {
  Request request;
  request.path = std::move(path);
  return request;
}

// A latch a handler waits on, so a test decides when a "slow" request finishes.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool waitOpen(std::chrono::milliseconds within = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

TEST(ServerTest, ServesRoutesOnAPickedPort) {
  Server server({});
  server.route("GET", "/hello", [](const Request&) { return Response::text(200, "hi"); });
  ASSERT_TRUE(server.start());
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
  auto client = clientFor(server);
  auto response = client->send(get("/hello"), 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hi");
  EXPECT_EQ(response->content_type, "text/plain; charset=utf-8");
}

TEST(ServerTest, HandlerSeesMethodPathQueryHeadersBodyAndPeer) {
  Server server({});
  server.route("POST", "/v1/echo", [](const Request& request) {
    nlohmann::json echo = {
        {"method", request.method},
        {"path", request.path},
        {"selector", request.queryParam("labelSelector").value_or("")},
        {"tenant", request.headers.get("x-scope-orgid").value_or("")},
        {"body", request.body},
        {"peer", request.peer},
    };
    Response response = Response::json(201, echo.dump());
    response.headers.set("X-Handled", "yes");
    return response;
  });
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  Request request;
  request.method = "POST";
  request.path = "/v1/echo";
  request.query = {{"labelSelector", "app in (a, b),tier=web"}};
  request.headers.set("X-Scope-OrgID", "team-a");
  request.headers.set("Content-Type", "application/json");
  request.body = R"({"x":1})";
  auto response = client->send(request, 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->headers.get("x-handled"), "yes");
  auto echo = nlohmann::json::parse(response->body);
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["path"], "/v1/echo");
  EXPECT_EQ(echo["selector"], "app in (a, b),tier=web");
  EXPECT_EQ(echo["tenant"], "team-a");
  EXPECT_EQ(echo["body"], R"({"x":1})");
  EXPECT_EQ(echo["peer"], "127.0.0.1");
}

TEST(ServerTest, FormEncodedQueryFromKubectlIsDecoded) {
  Server server({});
  server.route("GET", "/api/v1/pods", [](const Request& request) {
    return Response::text(200, request.queryParam("labelSelector").value_or("<none>"));
  });
  ASSERT_TRUE(server.start());
  RawConnection connection(server.port());
  ASSERT_TRUE(
      connection.sendAll("GET /api/v1/pods?labelSelector=app+in+%28a%2Cb%29 HTTP/1.1\r\n"
                         "Host: x\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "app in (a,b)");
}

TEST(ServerTest, UnknownPathIs404AndWrongMethodIs405) {
  Server server({});
  server.route("GET", "/v1/things", [](const Request&) { return Response::text(200, "list"); });
  server.route("PUT", "/v1/things", [](const Request&) { return Response::text(200, "put"); });
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);

  auto missing = client->send(get("/v1/nothing"), 5s);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(missing->body)["status"], 404);

  Request post = get("/v1/things");
  post.method = "DELETE";
  auto wrong = client->send(post, 5s);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->headers.get("Allow"), "GET, PUT");
  EXPECT_EQ(nlohmann::json::parse(wrong->body)["error"], "Method Not Allowed");

  // cpprestsdk would answer TRACE itself, echoing the request; we do not.
  Request trace = get("/v1/things");
  trace.method = "TRACE";
  auto traced = client->send(trace, 5s);
  ASSERT_TRUE(traced);
  EXPECT_EQ(traced->status, 405);
}

TEST(ServerTest, ExactRoutesBeatPrefixesAndLongerPrefixesWin) {
  Server server({});
  auto answer = [](std::string text) {
    return [text](const Request&) { return Response::text(200, text); };
  };
  server.route("GET", "/v1/", answer("v1"), PathMatch::Prefix);
  server.route("GET", "/v1/agents/", answer("agents"), PathMatch::Prefix);
  server.route("GET", "/v1/agents/config", answer("config"));
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  EXPECT_EQ(client->send(get("/v1/agents/config"), 5s)->body, "config");
  EXPECT_EQ(client->send(get("/v1/agents/a1/status"), 5s)->body, "agents");
  EXPECT_EQ(client->send(get("/v1/other"), 5s)->body, "v1");
  EXPECT_EQ(client->send(get("/v2"), 5s)->status, 404);
}

TEST(ServerTest, ThrowingHandlerGets500AndTheServerKeepsServing) {
  Server server({});
  server.route(
      "GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("handler bug"); });
  server.routeAsync("GET", "/async-boom", [](Request, Responder) {
    throw std::runtime_error("async handler bug");
  });
  server.route("GET", "/ok", [](const Request&) { return Response::text(200, "fine"); });
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  for (int i = 0; i < 3; ++i) {
    auto boom = client->send(get("/boom"), 5s);
    ASSERT_TRUE(boom) << boom.error().toString();
    EXPECT_EQ(boom->status, 500);
    auto async_boom = client->send(get("/async-boom"), 5s);
    ASSERT_TRUE(async_boom);
    EXPECT_EQ(async_boom->status, 500);
    auto fine = client->send(get("/ok"), 5s);
    ASSERT_TRUE(fine);
    EXPECT_EQ(fine->body, "fine");
  }
}

TEST(ServerTest, DroppedResponderGets500) {
  Server server({});
  server.routeAsync("GET", "/forget", [](Request, Responder) {});
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  auto response = client->send(get("/forget"), 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 500);
}

class BodyLimitTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kLimit = 64 * 1024;

  void SetUp() override {
    server_ = std::make_unique<Server>(ServerOptions{.max_body_bytes = kLimit});
    server_->route("POST", "/upload", [this](const Request& request) {
      ++handled_;
      return Response::text(200, std::to_string(request.body.size()));
    });
    ASSERT_TRUE(server_->start());
  }

  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST_F(BodyLimitTest, BodyAtTheLimitPasses) {
  auto client = clientFor(*server_);
  Request request = get("/upload");
  request.method = "POST";
  request.body = std::string(kLimit, 'x');
  auto response = client->send(request, 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, std::to_string(kLimit));
}

TEST_F(BodyLimitTest, OversizedContentLengthIsRefusedBeforeTheBodyArrives) {
  RawConnection connection(server_->port());
  const std::size_t declared = 64 << 20;
  ASSERT_TRUE(connection.sendAll("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                 std::to_string(declared) + "\r\n\r\n"));
  std::size_t sent = connection.sendUntilAnswered(std::string(16 * 1024, 'x'), declared);
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("exceeds"), std::string::npos);
  EXPECT_LT(sent, declared) << "the server waited for the whole body";
  EXPECT_EQ(handled_, 0);
}

TEST_F(BodyLimitTest, OversizedChunkedBodyIsRefusedWhileStreaming) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(
      connection.sendAll("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "1000\r\n" + std::string(0x1000, 'y') + "\r\n";
  // Never sends the final chunk: only the running count can trigger the refusal.
  std::size_t sent = connection.sendUntilAnswered(chunk, 256 << 20);
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_LT(sent, std::size_t{256} << 20);
  EXPECT_EQ(handled_, 0);
}

TEST_F(BodyLimitTest, ServerStillServesAfterRefusals) {
  {
    RawConnection connection(server_->port());
    ASSERT_TRUE(connection.sendAll(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"));
    connection.sendUntilAnswered(std::string(8192, 'z'), 1 << 20);
    auto response = connection.readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  auto client = clientFor(*server_);
  Request request = get("/upload");
  request.method = "POST";
  request.body = "small";
  auto response = client->send(request, 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->body, "5");
}

// More waiting long polls than cpprestsdk has pool threads (40): if a waiting request held a
// thread, the later ones would never reach the handler.
TEST(ServerTest, LongPollsWaitWithoutHoldingThreads) {
  constexpr int kWaiters = 60;
  std::mutex mutex;
  std::vector<Responder> waiting;
  Server server({});
  server.routeAsync("GET", "/v1/agents/config", [&](Request request, Responder responder) {
    if (request.queryParam("version").value_or("") == "") {
      responder.send(errorResponse(400, "version required"));
      return;
    }
    std::lock_guard lock(mutex);
    waiting.push_back(std::move(responder));
  });
  ASSERT_TRUE(server.start());

  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < kWaiters; ++i) {
    auto connection = std::make_unique<RawConnection>(server.port());
    ASSERT_TRUE(connection->sendAll("GET /v1/agents/config?version=" + std::to_string(i) +
                                    " HTTP/1.1\r\nHost: x\r\n\r\n"));
    connections.push_back(std::move(connection));
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return waiting.size() == kWaiters;
  })) << "only "
      << waiting.size() << " long polls reached the handler";

  {
    std::lock_guard lock(mutex);
    for (Responder& responder : waiting) {
      EXPECT_TRUE(responder.send(Response::json(200, R"({"version":100})")));
      EXPECT_FALSE(responder.send(Response::json(200, "second answer is ignored")));
    }
  }
  for (auto& connection : connections) {
    auto response = connection->readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, R"({"version":100})");
  }
}

TEST(ServerTest, ObserverSeesRouteStatusAndDuration) {
  struct Seen {
    std::string method;
    std::string route;
    int status;
  };
  std::mutex mutex;
  std::vector<Seen> seen;
  ServerOptions options;
  options.observer = [&](const RequestRecord& record) {
    EXPECT_GE(record.duration.count(), 0);
    std::lock_guard lock(mutex);
    seen.push_back({std::string(record.method), std::string(record.route), record.status});
  };
  Server server(std::move(options));
  server.route(
      "GET",
      "/v1/agents/",
      [](const Request&) { return Response::text(204, ""); },
      PathMatch::Prefix);
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  ASSERT_TRUE(client->send(get("/v1/agents/abc"), 5s));
  ASSERT_TRUE(client->send(get("/nowhere/12345"), 5s));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 2;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].route, "/v1/agents/");
  EXPECT_EQ(seen[0].status, 204);
  EXPECT_EQ(seen[1].route, "");  // unmatched paths share one label
  EXPECT_EQ(seen[1].status, 404);
}

TEST(ServerTest, GracefulStopLetsTheRequestInFlightFinish) {
  Gate release;
  std::atomic<bool> entered{false};
  auto server = std::make_unique<Server>(ServerOptions{});
  server->route("GET", "/slow", [&](const Request&) {
    entered = true;
    release.waitOpen();
    return Response::text(200, "finished");
  });
  server->route("GET", "/fast", [](const Request&) { return Response::text(200, "fast"); });
  ASSERT_TRUE(server->start());
  auto client = clientFor(*server);

  auto in_flight = std::async(std::launch::async, [&] { return client->send(get("/slow"), 10s); });
  ASSERT_TRUE(eventually([&] { return entered.load(); }));

  auto started = std::chrono::steady_clock::now();
  auto stopping = std::async(std::launch::async, [&] { server->stop(10s); });
  // While draining, new requests are turned away.
  ASSERT_TRUE(eventually([&] {
    RawConnection probe(server->port());
    if (!probe.sendAll("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")) {
      return false;
    }
    auto response = probe.readResponse(2s);
    return response && response->status == 503;
  }));
  EXPECT_EQ(stopping.wait_for(0ms), std::future_status::timeout) << "stop did not wait";

  release.open();
  auto response = in_flight.get();
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  ASSERT_EQ(stopping.wait_for(5s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 9s) << "stop waited for its deadline";
}

TEST(ServerTest, StopDeadlineAnswersStuckRequestsWith503) {
  std::mutex mutex;
  std::vector<Responder> stuck;
  Server server({});
  server.routeAsync("GET", "/never", [&](Request, Responder responder) {
    std::lock_guard lock(mutex);
    stuck.push_back(std::move(responder));
  });
  ASSERT_TRUE(server.start());
  auto client = clientFor(server);
  auto waiting = std::async(std::launch::async, [&] { return client->send(get("/never"), 10s); });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return stuck.size() == 1;
  }));
  auto started = std::chrono::steady_clock::now();
  server.stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  auto response = waiting.get();
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 503);
  std::lock_guard lock(mutex);
  EXPECT_TRUE(stuck[0].answered());
  EXPECT_FALSE(stuck[0].send(Response::text(200, "too late")));
}

TEST(ServerTest, StoppedServerRefusesConnections) {
  std::uint16_t port = 0;
  {
    Server server({});
    server.route("GET", "/x", [](const Request&) { return Response::text(200, "x"); });
    ASSERT_TRUE(server.start());
    port = server.port();
  }
  // The only listener in the process closed, so the port is released.
  RawConnection connection(port);
  EXPECT_FALSE(connection.connected());
}

TEST(ServerTest, TwoServersRunSideBySide) {
  Server first({});
  Server second({});
  first.route("GET", "/who", [](const Request&) { return Response::text(200, "first"); });
  second.route("GET", "/who", [](const Request&) { return Response::text(200, "second"); });
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(second.start());
  EXPECT_NE(first.port(), second.port());
  EXPECT_EQ(clientFor(first)->send(get("/who"), 5s)->body, "first");
  EXPECT_EQ(clientFor(second)->send(get("/who"), 5s)->body, "second");
  first.stop(1s);
  EXPECT_EQ(clientFor(second)->send(get("/who"), 5s)->body, "second");
}

}  // namespace
}  // namespace kprof::http
