#include "controllers/snapshot/query_url.hpp"

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using nlohmann::json;

json configWith(json target) {
  return {{"labels", {{"service_name", "checkout"}}}, {"targets", json::array({std::move(target)})}};
}

TEST(SnapshotQueryUrl, PyroscopeFiltersTheServiceOnTheSnapshotId) {
  EXPECT_EQ(snapshotQueryUrl(configWith({{"pyroscope", {{"url", "http://pyroscope:4040/"}}}}),
                             "shop.checkout-latency-0123456789", ""),
            "http://pyroscope:4040/?query=checkout.cpu%7Bsnapshot_id%3D%22shop.checkout-latency-"
            "0123456789%22%7D");
}

TEST(SnapshotQueryUrl, AStoreWithoutUrlIsTheEmbeddedStore) {
  EXPECT_EQ(snapshotQueryUrl(configWith({{"store", json::object()}}), "shop.s-1",
                             "http://kprof-store.kprof-system.svc:4040"),
            "http://kprof-store.kprof-system.svc:4040/profiles?snapshot_id=shop.s-1");
  EXPECT_EQ(snapshotQueryUrl(configWith({{"store", json::object()}}), "shop.s-1", ""), "");
  EXPECT_EQ(snapshotQueryUrl(configWith({{"file", {{"directory", "/var/kprof"}}}}), "x", ""),
            "file:///var/kprof");
}

TEST(SnapshotQueryUrl, NothingToLinkToGivesEmpty) {
  EXPECT_EQ(snapshotQueryUrl(json(), "x", "http://store"), "");
  EXPECT_EQ(snapshotQueryUrl(json{{"targets", json::array()}}, "x", "http://store"), "");
  EXPECT_EQ(snapshotQueryUrl(json{{"targets", {"bogus"}}}, "x", "http://store"), "");
  EXPECT_EQ(percentEncode("a b/~"), "a%20b%2F~");
}

}  // namespace
}  // namespace kprof::controllers
