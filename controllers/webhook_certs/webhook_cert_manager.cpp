#include "controllers/webhook_certs/webhook_cert_manager.hpp"

#include <filesystem>
#include <fstream>

#include "common/core/base64.hpp"
#include "common/log/log.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kMaxConflictRetries = 5;

WebhookTls readSecretData(const json& secret) {
  WebhookTls tls;
  const json data = secret.value("data", json::object());
  auto field = [&](const char* key) -> std::string {
    if (!data.is_object() || !data.contains(key) || !data[key].is_string()) return {};
    auto decoded = base64Decode(data[key].get<std::string>());
    return decoded ? *decoded : std::string();
  };
  tls.ca_crt = field("ca.crt");
  tls.ca_key = field("ca.key");
  tls.tls_crt = field("tls.crt");
  tls.tls_key = field("tls.key");
  return tls;
}

json secretData(const WebhookTls& tls) {
  return {{"ca.crt", base64Encode(tls.ca_crt)},
          {"ca.key", base64Encode(tls.ca_key)},
          {"tls.crt", base64Encode(tls.tls_crt)},
          {"tls.key", base64Encode(tls.tls_key)}};
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes through a temporary file and a rename, so the server's reload never reads half a file.
// Unchanged content is left alone.
Status writeFileAtomically(const fs::path& path, const std::string& content) {
  if (fs::exists(path) && readFile(path) == content) return ok();
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) return fail(ErrorCode::Io, "writing " + temporary.string());
  }
  std::error_code error;
  fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write, error);
  fs::rename(temporary, path, error);
  if (error) return fail(ErrorCode::Io, "renaming " + temporary.string() + ": " + error.message());
  return ok();
}

}  // namespace

WebhookCertManager::WebhookCertManager(kube::Api& api, Clock& clock, WebhookCertOptions options)
    : api_(api), clock_(clock), options_(std::move(options)) {}

http::CertificateFiles WebhookCertManager::files() const {
  return {(fs::path(options_.directory) / "tls.crt").string(),
          (fs::path(options_.directory) / "tls.key").string()};
}

std::string WebhookCertManager::caBundle() const {
  std::lock_guard lock(mutex_);
  return ca_bundle_;
}

Result<WebhookTls> WebhookCertManager::ensureSecret() {
  auto log = log::logger("webhook-certs");
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    const auto now = clock_.wallNow();
    auto secret = api_.get(kube::resources::kSecrets, options_.namespace_name, options_.secret_name);
    if (!secret && secret.error().code != ErrorCode::NotFound) {
      return secret.error().wrap("reading Secret " + options_.secret_name);
    }
    const WebhookTls current = secret ? readSecretData(*secret) : WebhookTls{};
    const CertificateDecision decision = decideCertificates(current, options_.settings, now);
    if (decision.action == CertificateAction::Keep) return current;

    auto next = renewCertificates(current, decision, options_.settings, now);
    if (!next) return next.error();
    json object = secret ? *secret
                         : json{{"apiVersion", "v1"},
                                {"kind", "Secret"},
                                {"type", "kubernetes.io/tls"},
                                {"metadata",
                                 {{"name", options_.secret_name},
                                  {"namespace", options_.namespace_name},
                                  {"labels", {{"app.kubernetes.io/managed-by", "kprof"}}}}}};
    object["data"] = secretData(*next);
    auto written = secret ? api_.update(kube::resources::kSecrets, options_.namespace_name, object)
                          : api_.create(kube::resources::kSecrets, options_.namespace_name, object);
    if (written) {
      log->info("webhook certificates renewed ({})", decision.reason);
      return *next;
    }
    if (written.error().code != ErrorCode::Conflict &&
        written.error().code != ErrorCode::AlreadyExists) {
      return written.error().wrap("writing Secret " + options_.secret_name);
    }
    // Another replica wrote first: decide again from what it wrote.
  }
  return makeError(ErrorCode::Conflict, "Secret " + options_.secret_name + " kept changing");
}

Status WebhookCertManager::writeFiles(const WebhookTls& tls) {
  std::error_code error;
  fs::create_directories(options_.directory, error);
  if (error) return fail(ErrorCode::Io, "creating " + options_.directory + ": " + error.message());
  const auto paths = files();
  // Key first: the store reloads only when both files form a valid pair, so the order only
  // decides which half-state is briefly visible, and both are rejected.
  KPROF_TRY(writeFileAtomically(paths.private_key_file, tls.tls_key));
  KPROF_TRY(writeFileAtomically(paths.certificate_file, tls.tls_crt));
  return ok();
}

Status WebhookCertManager::patchCaBundle(const std::string& bundle) {
  const std::string encoded = base64Encode(bundle);
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    auto configuration =
        api_.get(kube::resources::kMutatingWebhookConfigurations, "", options_.webhook_configuration);
    if (!configuration) {
      if (configuration.error().code == ErrorCode::NotFound) {
        // Installed later (or by hand): the next sync patches it.
        return ok();
      }
      return configuration.error().wrap("reading MutatingWebhookConfiguration");
    }
    json updated = *configuration;
    bool changed = false;
    if (updated.contains("webhooks") && updated["webhooks"].is_array()) {
      for (auto& webhook : updated["webhooks"]) {
        if (!webhook.is_object()) continue;
        json& client = webhook["clientConfig"];
        if (!client.is_object() || client.value("caBundle", "") != encoded) {
          client["caBundle"] = encoded;
          changed = true;
        }
      }
    }
    if (!changed) return ok();
    auto written =
        api_.update(kube::resources::kMutatingWebhookConfigurations, "", updated);
    if (written) {
      log::logger("webhook-certs")->info("caBundle of {} updated", options_.webhook_configuration);
      return ok();
    }
    if (written.error().code != ErrorCode::Conflict) {
      return written.error().wrap("updating MutatingWebhookConfiguration");
    }
  }
  return fail(ErrorCode::Conflict, "MutatingWebhookConfiguration kept changing");
}

Status WebhookCertManager::sync() {
  auto tls = ensureSecret();
  if (!tls) return tls.error();
  KPROF_TRY(writeFiles(*tls));
  const std::string bundle = validCaBundle(tls->ca_crt, clock_.wallNow());
  KPROF_TRY(patchCaBundle(bundle));
  std::lock_guard lock(mutex_);
  ca_bundle_ = bundle;
  return ok();
}

}  // namespace kprof::controllers
