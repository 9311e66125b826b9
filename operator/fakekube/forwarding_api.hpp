// ForwardingApi: a kube::Api that passes every call to another one. Tests derive from it and
// override only the calls they want to block, fail or observe (a network partition for one
// replica, a write that waits for the test), keeping the inner API's behaviour for the rest.
#pragma once

#include "operator/kube/api.hpp"

namespace kprof::fakekube {

class ForwardingApi : public kube::Api {
 public:
  explicit ForwardingApi(kube::Api& inner) : inner_(inner) {}

  Result<kube::Object> get(const kube::ResourceType& type,
                           std::string_view ns,
                           std::string_view name) override {
    return inner_.get(type, ns, name);
  }
  Result<kube::ObjectList> list(const kube::ResourceType& type,
                                std::string_view ns,
                                const kube::ListOptions& options) override {
    return inner_.list(type, ns, options);
  }
  Status watch(const kube::ResourceType& type,
               std::string_view ns,
               const kube::WatchOptions& options,
               const kube::WatchHandler& on_event) override {
    return inner_.watch(type, ns, options, on_event);
  }
  Result<kube::Object> create(const kube::ResourceType& type,
                              std::string_view ns,
                              const kube::Object& object) override {
    return inner_.create(type, ns, object);
  }
  Result<kube::Object> update(const kube::ResourceType& type,
                              std::string_view ns,
                              const kube::Object& object) override {
    return inner_.update(type, ns, object);
  }
  Result<kube::Object> updateStatus(const kube::ResourceType& type,
                                    std::string_view ns,
                                    const kube::Object& object) override {
    return inner_.updateStatus(type, ns, object);
  }
  Result<kube::Object> patch(const kube::ResourceType& type,
                             std::string_view ns,
                             std::string_view name,
                             kube::PatchType patch_type,
                             const kube::Object& patch,
                             const kube::PatchOptions& options) override {
    return inner_.patch(type, ns, name, patch_type, patch, options);
  }
  Status remove(const kube::ResourceType& type,
                std::string_view ns,
                std::string_view name) override {
    return inner_.remove(type, ns, name);
  }

 protected:
  kube::Api& inner() { return inner_; }

 private:
  kube::Api& inner_;
};

}  // namespace kprof::fakekube
