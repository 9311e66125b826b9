#include "operator/kube/kubeconfig.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <yaml-cpp/yaml.h>

#include "common/core/base64.hpp"
#include "operator/kube/small_file.hpp"

namespace kprof::kube {

namespace {

// A named entry of clusters/users/contexts and the file that defined it (which relative paths
// inside it are resolved against).
struct Entry {
  YAML::Node body;
  std::string file;
};

struct MergedKubeconfig {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
};

std::string inQuotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string fileList(const std::vector<KubeconfigFile>& files) {
  std::string out;
  for (const KubeconfigFile& file : files) {
    out += out.empty() ? file.path : ", " + file.path;
  }
  return out.empty() ? "(no files)" : out;
}

// A string field of a map: "" when absent or null; an error when it is not a scalar.
Result<std::string> stringField(const YAML::Node& map, const char* key, const std::string& where) {
  if (!map.IsDefined() || !map.IsMap()) {
    return std::string();
  }
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) {
    return std::string();
  }
  if (!value.IsScalar()) {
    return fail(ErrorCode::InvalidArgument, where + ": " + key + " must be a string");
  }
  return value.as<std::string>();
}

Result<bool> boolField(const YAML::Node& map, const char* key, const std::string& where) {
  if (!map.IsDefined() || !map.IsMap()) {
    return false;
  }
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) {
    return false;
  }
  bool result = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
    return fail(ErrorCode::InvalidArgument, where + ": " + key + " must be true or false");
  }
  return result;
}

// Adds the entries of one list (clusters, users, contexts) that earlier files did not define.
Status mergeNamed(const YAML::Node& root,
                  const char* list_key,
                  const char* body_key,
                  const std::string& file,
                  std::map<std::string, Entry>& into) {
  const YAML::Node list = root[list_key];
  if (!list.IsDefined() || list.IsNull()) {
    return ok();
  }
  if (!list.IsSequence()) {
    return fail(ErrorCode::InvalidArgument, file + ": " + list_key + " must be a list");
  }
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) {
      return fail(ErrorCode::InvalidArgument,
                  file + ": each entry of " + list_key + " must be a mapping");
    }
    auto name = stringField(item, "name", file + ": an entry of " + list_key);
    if (!name) {
      return name.error();
    }
    if (name->empty()) {
      return fail(ErrorCode::InvalidArgument, file + ": an entry of " + list_key + " has no name");
    }
    const YAML::Node body = item[body_key];
    // `- name: x` alone is an entry with no settings. (A missing key gives an invalid node that
    // throws on most uses, so it is replaced, not kept.)
    bool empty = !body.IsDefined() || body.IsNull();
    into.try_emplace(*name, Entry{empty ? YAML::Node(YAML::NodeType::Map) : body, file});
  }
  return ok();
}

Status mergeFile(const KubeconfigFile& file, MergedKubeconfig& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(file.text);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, file.path + ": " + e.what());
  }
  if (root.IsNull() || !root.IsDefined()) {
    return ok();  // an empty kubeconfig is allowed, as kubectl allows it
  }
  if (!root.IsMap()) {
    return fail(ErrorCode::InvalidArgument, file.path + ": a kubeconfig must be a mapping");
  }
  KPROF_TRY(mergeNamed(root, "clusters", "cluster", file.path, merged.clusters));
  KPROF_TRY(mergeNamed(root, "users", "user", file.path, merged.users));
  KPROF_TRY(mergeNamed(root, "contexts", "context", file.path, merged.contexts));
  if (merged.current_context.empty()) {
    auto current = stringField(root, "current-context", file.path);
    if (!current) {
      return current.error();
    }
    merged.current_context = std::move(*current);
  }
  return ok();
}

std::string resolvePath(const std::string& value, const std::string& kubeconfig_path) {
  if (value.empty()) {
    return value;
  }
  std::filesystem::path path(value);
  if (path.is_absolute()) {
    return value;
  }
  return (std::filesystem::path(kubeconfig_path).parent_path() / path).lexically_normal().string();
}

// One PEM part given as "<key>-data" (base64, wins) or "<key>" (a path). Sets exactly one of
// `pem` and `file`.
Status pemPart(const Entry& entry,
               const std::string& key,
               const std::string& where,
               std::string& pem,
               std::string& file) {
  auto data = stringField(entry.body, (key + "-data").c_str(), where);
  if (!data) {
    return data.error();
  }
  if (!data->empty()) {
    auto decoded = base64Decode(*data);
    if (!decoded) {
      return fail(ErrorCode::InvalidArgument, where + ": " + key + "-data is not valid base64");
    }
    pem = std::move(*decoded);
    return ok();
  }
  auto path = stringField(entry.body, key.c_str(), where);
  if (!path) {
    return path.error();
  }
  file = resolvePath(*path, entry.file);
  return ok();
}

std::string withScheme(std::string server) {
  if (server.find("://") == std::string::npos) {
    server = "https://" + server;
  }
  while (server.size() > 1 && server.back() == '/') {
    server.pop_back();
  }
  return server;
}

Status applyCluster(const std::string& name, const Entry& entry, ClusterConfig& config) {
  const std::string where = "cluster " + inQuotes(name) + " in " + entry.file;
  auto server = stringField(entry.body, "server", where);
  if (!server) {
    return server.error();
  }
  if (server->empty()) {
    return fail(ErrorCode::InvalidArgument, where + " has no server");
  }
  config.server = withScheme(std::move(*server));
  KPROF_TRY(pemPart(entry, "certificate-authority", where, config.ca_pem, config.ca_file));
  auto insecure = boolField(entry.body, "insecure-skip-tls-verify", where);
  if (!insecure) {
    return insecure.error();
  }
  config.insecure_skip_tls_verify = *insecure;
  if (config.insecure_skip_tls_verify && (!config.ca_pem.empty() || !config.ca_file.empty())) {
    return fail(ErrorCode::InvalidArgument,
                where + " sets both a certificate authority and insecure-skip-tls-verify");
  }
  auto server_name = stringField(entry.body, "tls-server-name", where);
  if (!server_name) {
    return server_name.error();
  }
  config.tls_server_name = std::move(*server_name);
  return ok();
}

Status applyUser(const std::string& name, const Entry& entry, ClusterConfig& config) {
  const std::string where = "user " + inQuotes(name) + " in " + entry.file;
  struct Field {
    const char* key;
    std::string* target;
  };
  for (Field field : {Field{"token", &config.token},
                      Field{"tokenFile", &config.token_file},
                      Field{"username", &config.username},
                      Field{"password", &config.password}}) {
    auto value = stringField(entry.body, field.key, where);
    if (!value) {
      return value.error();
    }
    *field.target = std::move(*value);
  }
  config.token_file = resolvePath(config.token_file, entry.file);
  KPROF_TRY(pemPart(entry,
                    "client-certificate",
                    where,
                    config.client_certificate_pem,
                    config.client_certificate_file));
  KPROF_TRY(pemPart(entry, "client-key", where, config.client_key_pem, config.client_key_file));

  bool has_certificate =
      !config.client_certificate_pem.empty() || !config.client_certificate_file.empty();
  bool has_key = !config.client_key_pem.empty() || !config.client_key_file.empty();
  if (has_certificate != has_key) {
    return fail(ErrorCode::InvalidArgument,
                where + (has_certificate ? " has a client certificate but no client key"
                                         : " has a client key but no client certificate"));
  }
  bool has_token = !config.token.empty() || !config.token_file.empty();
  bool has_basic = !config.username.empty() || !config.password.empty();
  if (has_token && has_basic) {
    return fail(ErrorCode::InvalidArgument,
                where + " has more than one authentication method (token and username/password)");
  }
  if (!has_token && !has_basic && !has_certificate && entry.body.IsMap()) {
    for (const char* plugin : {"exec", "auth-provider"}) {
      if (entry.body[plugin].IsDefined() && !entry.body[plugin].IsNull()) {
        return fail(ErrorCode::InvalidArgument,
                    where + " authenticates with an " + plugin +
                        " plugin, which kprof cannot run; give it a token, tokenFile or client "
                        "certificate");
      }
    }
  }
  return ok();
}

Result<ClusterConfig> resolveContext(const MergedKubeconfig& merged,
                                     std::string_view context,
                                     const std::string& files) {
  std::string wanted(context.empty() ? std::string_view(merged.current_context) : context);
  if (wanted.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "no current-context is set in " + files + "; name a context");
  }
  auto found = merged.contexts.find(wanted);
  if (found == merged.contexts.end()) {
    return fail(ErrorCode::NotFound, "context " + inQuotes(wanted) + " not found in " + files);
  }
  const Entry& entry = found->second;
  const std::string where = "context " + inQuotes(wanted) + " in " + entry.file;
  auto cluster_name = stringField(entry.body, "cluster", where);
  auto user_name = stringField(entry.body, "user", where);
  auto ns = stringField(entry.body, "namespace", where);
  for (auto* part : {&cluster_name, &user_name, &ns}) {
    if (!*part) {
      return part->error();
    }
  }
  if (cluster_name->empty()) {
    return fail(ErrorCode::InvalidArgument, where + " names no cluster");
  }
  auto cluster = merged.clusters.find(*cluster_name);
  if (cluster == merged.clusters.end()) {
    return fail(ErrorCode::NotFound,
                "cluster " + inQuotes(*cluster_name) + " (of context " + inQuotes(wanted) +
                    ") not found in " + files);
  }
  ClusterConfig config;
  KPROF_TRY(applyCluster(cluster->first, cluster->second, config));
  if (!user_name->empty()) {
    auto user = merged.users.find(*user_name);
    if (user == merged.users.end()) {
      return fail(ErrorCode::NotFound,
                  "user " + inQuotes(*user_name) + " (of context " + inQuotes(wanted) +
                      ") not found in " + files);
    }
    KPROF_TRY(applyUser(user->first, user->second, config));
  }
  if (!ns->empty()) {
    config.default_namespace = std::move(*ns);
  }
  config.source = "kubeconfig " + files + " context " + inQuotes(wanted);
  return config;
}

}  // namespace

Result<ClusterConfig> parseKubeconfig(const std::vector<KubeconfigFile>& files,
                                      std::string_view context) {
  const std::string names = fileList(files);
  // yaml-cpp throws on conversions; nothing may escape, so every step runs inside this guard.
  try {
    MergedKubeconfig merged;
    for (const KubeconfigFile& file : files) {
      KPROF_TRY(mergeFile(file, merged));
    }
    return resolveContext(merged, context, names);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, names + ": " + e.what());
  }
}

Result<ClusterConfig> loadKubeconfig(const std::vector<std::string>& paths,
                                     std::string_view context) {
  std::vector<KubeconfigFile> files;
  for (const std::string& path : paths) {
    auto text = readSmallFile(path);
    if (!text) {
      return text.error().wrap("kubeconfig");
    }
    files.push_back({path, std::move(*text)});
  }
  return parseKubeconfig(files, context);
}

std::vector<std::string> splitKubeconfigList(std::string_view value) {
  std::vector<std::string> paths;
  while (true) {
    auto colon = value.find(':');
    std::string item(value.substr(0, colon));
    if (!item.empty() && std::find(paths.begin(), paths.end(), item) == paths.end()) {
      paths.push_back(std::move(item));
    }
    if (colon == std::string_view::npos) {
      return paths;
    }
    value.remove_prefix(colon + 1);
  }
}

}  // namespace kprof::kube
