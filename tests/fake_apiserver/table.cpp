#include "tests/fake_apiserver/table.hpp"

#include <cstdio>
#include <ctime>

namespace kprof::testing {

namespace {

using nlohmann::json;

// ---- JSONPath subset ----

struct PathStep {
  enum class Type { Field, Index, Wildcard, Filter };
  Type type = Type::Field;
  std::string name;           // Field
  size_t index = 0;           // Index
  std::string filter_path;    // Filter: the path after "@."
  bool filter_equals = true;  // Filter: == or !=
  json filter_value;          // Filter: the literal
};

std::optional<json> parseLiteral(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return json(std::string(text.substr(1, text.size() - 2)));
  }
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<std::vector<PathStep>> parsePath(std::string_view path) {
  // kubectl-style paths may be wrapped in {}.
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') {
    path = path.substr(1, path.size() - 2);
  }
  std::vector<PathStep> steps;
  size_t i = 0;
  while (i < path.size()) {
    char c = path[i];
    if (c == '.') {
      ++i;
      std::string name;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        if (path[i] == '\\' && i + 1 < path.size()) {
          ++i;
        }
        name += path[i++];
      }
      if (!name.empty()) {
        steps.push_back({PathStep::Type::Field, std::move(name)});
      }
    } else if (c == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) {
        return std::nullopt;
      }
      std::string_view inner = path.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inner == "*") {
        steps.push_back({PathStep::Type::Wildcard});
      } else if (inner.starts_with("?(") && inner.ends_with(")")) {
        std::string_view expression = inner.substr(2, inner.size() - 3);
        size_t op = expression.find("==");
        bool equals = true;
        if (op == std::string_view::npos) {
          op = expression.find("!=");
          equals = false;
        }
        if (op == std::string_view::npos) {
          return std::nullopt;
        }
        std::string_view left = expression.substr(0, op);
        while (!left.empty() && left.back() == ' ') {
          left.remove_suffix(1);
        }
        if (!left.starts_with("@.")) {
          return std::nullopt;
        }
        auto literal = parseLiteral(expression.substr(op + 2));
        if (!literal) {
          return std::nullopt;
        }
        PathStep step{PathStep::Type::Filter};
        step.filter_path = std::string(left.substr(1));
        step.filter_equals = equals;
        step.filter_value = std::move(*literal);
        steps.push_back(std::move(step));
      } else if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"')) {
        steps.push_back({PathStep::Type::Field, std::string(inner.substr(1, inner.size() - 2))});
      } else {
        size_t index = 0;
        for (char d : inner) {
          if (d < '0' || d > '9') {
            return std::nullopt;
          }
          index = index * 10 + static_cast<size_t>(d - '0');
        }
        if (inner.empty()) {
          return std::nullopt;
        }
        PathStep step{PathStep::Type::Index};
        step.index = index;
        steps.push_back(std::move(step));
      }
    } else {
      // A path without a leading dot: "metadata.name".
      path = std::string_view(path.data() + i, path.size() - i);
      std::string name;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        name += path[i++];
      }
      steps.push_back({PathStep::Type::Field, std::move(name)});
    }
  }
  return steps;
}

void evaluate(const json& node,
              const std::vector<PathStep>& steps,
              size_t at,
              std::vector<const json*>& out) {
  if (at == steps.size()) {
    out.push_back(&node);
    return;
  }
  const PathStep& step = steps[at];
  switch (step.type) {
    case PathStep::Type::Field:
      if (node.is_object()) {
        auto it = node.find(step.name);
        if (it != node.end()) {
          evaluate(*it, steps, at + 1, out);
        }
      }
      break;
    case PathStep::Type::Index:
      if (node.is_array() && step.index < node.size()) {
        evaluate(node[step.index], steps, at + 1, out);
      }
      break;
    case PathStep::Type::Wildcard:
      if (node.is_array()) {
        for (const json& item : node) {
          evaluate(item, steps, at + 1, out);
        }
      } else if (node.is_object()) {
        for (const json& item : node) {
          evaluate(item, steps, at + 1, out);
        }
      }
      break;
    case PathStep::Type::Filter:
      if (node.is_array()) {
        for (const json& item : node) {
          auto value = jsonPathFirst(item, step.filter_path);
          bool same = value && *value == step.filter_value;
          if (same == step.filter_equals) {
            evaluate(item, steps, at + 1, out);
          }
        }
      }
      break;
  }
}

// ---- cells ----

std::string stringAt(const json& object, std::string_view path, std::string fallback = "") {
  auto value = jsonPathFirst(object, path);
  if (value && value->is_string() && !value->get<std::string>().empty()) {
    return value->get<std::string>();
  }
  return fallback;
}

std::string age(const json& object, std::chrono::system_clock::time_point now) {
  auto created = parseTimestamp(stringAt(object, ".metadata.creationTimestamp"));
  if (!created) {
    return "<unknown>";
  }
  return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

json column(std::string name,
            std::string type,
            std::string description,
            int priority = 0,
            std::string format = "") {
  return {{"name", std::move(name)},
          {"type", std::move(type)},
          {"format", std::move(format)},
          {"description", std::move(description)},
          {"priority", priority}};
}

json nameColumn() {
  return column("Name",
                "string",
                "Name must be unique within a namespace. Is required when creating resources.",
                0,
                "name");
}

json ageColumn() {
  return column("Age", "string", "CreationTimestamp is the time this object was created.");
}

std::string podStatus(const json& pod) {
  std::string reason = stringAt(pod, ".status.reason", stringAt(pod, ".status.phase", "Pending"));
  const json statuses = pod.value("/status/containerStatuses"_json_pointer, json::array());
  bool running = false;
  for (const json& status : statuses) {
    std::string waiting = stringAt(status, ".state.waiting.reason");
    std::string terminated = stringAt(status, ".state.terminated.reason");
    if (!waiting.empty()) {
      reason = waiting;
    } else if (!terminated.empty()) {
      reason = terminated;
    } else if (status.value("ready", false) && status.contains("state") &&
               status["state"].contains("running")) {
      running = true;
    }
  }
  if (reason == "Completed" && running) {
    reason = "Running";
  }
  if (pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp")) {
    reason = "Terminating";
  }
  return reason;
}

json podColumns() {
  return json::array({
      nameColumn(),
      column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
      column("Status", "string", "The aggregate status of the containers in this pod."),
      column("Restarts",
             "string",
             "The number of times the containers in this pod have been restarted."),
      ageColumn(),
      column("IP", "string", "IP address allocated to the pod.", 1),
      column("Node", "string", "NodeName is the node the pod is scheduled onto.", 1),
      column("Nominated Node", "string", "The node the scheduler nominated for this pod.", 1),
      column("Readiness Gates", "string", "Pod readiness gates.", 1),
  });
}

json podCells(const json& pod, std::chrono::system_clock::time_point now) {
  const json containers = pod.value("/spec/containers"_json_pointer, json::array());
  const json statuses = pod.value("/status/containerStatuses"_json_pointer, json::array());
  int ready = 0;
  int64_t restarts = 0;
  for (const json& status : statuses) {
    if (status.value("ready", false)) {
      ++ready;
    }
    if (status.contains("restartCount") && status["restartCount"].is_number_integer()) {
      restarts += status["restartCount"].get<int64_t>();
    }
  }
  return json::array({stringAt(pod, ".metadata.name"),
                      std::to_string(ready) + "/" + std::to_string(containers.size()),
                      podStatus(pod),
                      std::to_string(restarts),
                      age(pod, now),
                      stringAt(pod, ".status.podIP", "<none>"),
                      stringAt(pod, ".spec.nodeName", "<none>"),
                      stringAt(pod, ".status.nominatedNodeName", "<none>"),
                      "<none>"});
}

size_t countKeys(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_object() ? it->size() : 0;
}

std::string servicePorts(const json& service) {
  std::string out;
  for (const json& port : service.value("/spec/ports"_json_pointer, json::array())) {
    if (!out.empty()) {
      out += ",";
    }
    out += port.contains("port") ? port["port"].dump() : "?";
    if (port.contains("nodePort")) {
      out += ":" + port["nodePort"].dump();
    }
    out += "/" + port.value("protocol", "TCP");
  }
  return out.empty() ? "<none>" : out;
}

// Cells of a CRD printer column: strings printed, integers and numbers as numbers, dates as ages.
json customCell(const json& object,
                const json& definition,
                std::chrono::system_clock::time_point now) {
  auto value = jsonPathFirst(object, definition.value("jsonPath", ""));
  if (!value || value->is_null()) {
    return nullptr;
  }
  const std::string type = definition.value("type", "string");
  if (type == "integer") {
    if (value->is_number()) {
      return value->get<int64_t>();
    }
    return nullptr;
  }
  if (type == "number") {
    return value->is_number() ? *value : json(nullptr);
  }
  if (type == "boolean") {
    return value->is_boolean() ? *value : json(nullptr);
  }
  if (type == "date") {
    if (!value->is_string()) {
      return nullptr;
    }
    auto time = parseTimestamp(value->get<std::string>());
    if (!time) {
      return "<invalid>";
    }
    return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *time));
  }
  return value->is_string() ? value->get<std::string>() : value->dump();
}

}  // namespace

std::optional<json> jsonPathFirst(const json& object, std::string_view path) {
  auto steps = parsePath(path);
  if (!steps) {
    return std::nullopt;
  }
  std::vector<const json*> found;
  evaluate(object, *steps, 0, found);
  if (found.empty()) {
    return std::nullopt;
  }
  return *found.front();
}

std::string humanDuration(std::chrono::seconds age) {
  long long seconds = age.count();
  if (seconds < -1) {
    return "<invalid>";
  }
  if (seconds < 0) {
    return "0s";
  }
  auto text = [](long long value, const char* unit) { return std::to_string(value) + unit; };
  if (seconds < 120) {
    return text(seconds, "s");
  }
  long long minutes = seconds / 60;
  if (minutes < 10) {
    return seconds % 60 == 0 ? text(minutes, "m") : text(minutes, "m") + text(seconds % 60, "s");
  }
  if (minutes < 180) {
    return text(minutes, "m");
  }
  long long hours = seconds / 3600;
  if (hours < 8) {
    return minutes % 60 == 0 ? text(hours, "h") : text(hours, "h") + text(minutes % 60, "m");
  }
  if (hours < 48) {
    return text(hours, "h");
  }
  long long days = hours / 24;
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? text(days, "d") : text(days, "d") + text(hours % 24, "h");
  }
  if (days < 365 * 2) {
    return text(days, "d");
  }
  long long years = days / 365;
  if (years < 8) {
    return days % 365 == 0 ? text(years, "y") : text(years, "y") + text(days % 365, "d");
  }
  return text(years, "y");
}

std::string formatTimestamp(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parseTimestamp(std::string_view text) {
  std::tm utc{};
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::string copy(text);
  if (std::sscanf(
          copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day, &hour, &minute, &second) !=
      6) {
    return std::nullopt;
  }
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  std::time_t seconds = timegm(&utc);
  // A numeric offset (+02:00) after the seconds and optional fraction.
  size_t rest = 19;
  while (rest < copy.size() &&
         (copy[rest] == '.' || std::isdigit(static_cast<unsigned char>(copy[rest])) != 0)) {
    ++rest;
  }
  if (rest < copy.size() && (copy[rest] == '+' || copy[rest] == '-')) {
    int offset_hours = 0;
    int offset_minutes = 0;
    if (std::sscanf(copy.c_str() + rest + 1, "%2d:%2d", &offset_hours, &offset_minutes) == 2) {
      long offset = offset_hours * 3600L + offset_minutes * 60L;
      seconds += copy[rest] == '+' ? -offset : offset;
    }
  }
  return std::chrono::system_clock::from_time_t(seconds);
}

json renderTable(const ResourceInfo& info,
                 const std::vector<const json*>& objects,
                 IncludeObject include,
                 std::chrono::system_clock::time_point now,
                 const json& list_metadata) {
  json columns;
  std::function<json(const json&)> cells;
  if (info.group.empty() && info.resource == "pods") {
    columns = podColumns();
    cells = [now](const json& pod) { return podCells(pod, now); };
  } else if (info.group.empty() && info.resource == "namespaces") {
    columns = json::array(
        {nameColumn(), column("Status", "string", "The status of the namespace"), ageColumn()});
    cells = [now](const json& object) {
      return json::array({stringAt(object, ".metadata.name"),
                          stringAt(object, ".status.phase", "Active"),
                          age(object, now)});
    };
  } else if (info.group.empty() && info.resource == "secrets") {
    columns = json::array({nameColumn(),
                           column("Type", "string", "The type of the secret"),
                           column("Data", "string", "The number of items in the secret"),
                           ageColumn()});
    cells = [now](const json& object) {
      return json::array({stringAt(object, ".metadata.name"),
                          stringAt(object, ".type", "Opaque"),
                          static_cast<int64_t>(countKeys(object, "data")),
                          age(object, now)});
    };
  } else if (info.group.empty() && info.resource == "configmaps") {
    columns =
        json::array({nameColumn(), column("Data", "string", "The number of items"), ageColumn()});
    cells = [now](const json& object) {
      return json::array(
          {stringAt(object, ".metadata.name"),
           static_cast<int64_t>(countKeys(object, "data") + countKeys(object, "binaryData")),
           age(object, now)});
    };
  } else if (info.group.empty() && info.resource == "services") {
    columns = json::array({nameColumn(),
                           column("Type", "string", "The type of the service"),
                           column("Cluster-IP", "string", "The cluster IP of the service"),
                           column("External-IP", "string", "The external IPs of the service"),
                           column("Port(s)", "string", "The ports of the service"),
                           ageColumn(),
                           column("Selector", "string", "The pod selector", 1)});
    cells = [now](const json& object) {
      std::string selector;
      const json selector_labels = object.value("/spec/selector"_json_pointer, json::object());
      for (const auto& [key, value] : selector_labels.items()) {
        selector += (selector.empty() ? "" : ",") + key + "=" +
                    (value.is_string() ? value.get<std::string>() : value.dump());
      }
      return json::array({stringAt(object, ".metadata.name"),
                          stringAt(object, ".spec.type", "ClusterIP"),
                          stringAt(object, ".spec.clusterIP", "<none>"),
                          "<none>",
                          servicePorts(object),
                          age(object, now),
                          selector.empty() ? "<none>" : selector});
    };
  } else if (info.group.empty() && info.resource == "events") {
    columns = json::array({column("Last Seen", "string", "Time of the last occurrence"),
                           column("Type", "string", "Type of the event"),
                           column("Reason", "string", "Reason of the event"),
                           column("Object", "string", "The object the event is about"),
                           column("Message", "string", "The event's message"),
                           nameColumn()});
    columns.back()["priority"] = 1;
    cells = [now](const json& object) {
      std::string last = stringAt(object, ".lastTimestamp", stringAt(object, ".eventTime"));
      auto when = parseTimestamp(last);
      return json::array(
          {when ? humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *when))
                : "<unknown>",
           stringAt(object, ".type"),
           stringAt(object, ".reason"),
           [&] {
             std::string kind = stringAt(object, ".involvedObject.kind");
             for (char& c : kind) {
               c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
             }
             return kind + "/" + stringAt(object, ".involvedObject.name");
           }(),
           stringAt(object, ".message"),
           stringAt(object, ".metadata.name")});
    };
  } else if (info.group == "coordination.k8s.io" && info.resource == "leases") {
    columns =
        json::array({nameColumn(), column("Holder", "string", "The lease holder"), ageColumn()});
    cells = [now](const json& object) {
      return json::array({stringAt(object, ".metadata.name"),
                          stringAt(object, ".spec.holderIdentity"),
                          age(object, now)});
    };
  } else if (info.custom) {
    columns = json::array({nameColumn()});
    json definitions = info.printer_columns;
    if (definitions.empty()) {
      definitions = json::array(
          {{{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}}});
    }
    for (const json& definition : definitions) {
      columns.push_back(column(definition.value("name", ""),
                               definition.value("type", "string"),
                               definition.value("description", ""),
                               definition.value("priority", 0),
                               definition.value("format", "")));
    }
    cells = [now, definitions](const json& object) {
      json row = json::array({stringAt(object, ".metadata.name")});
      for (const json& definition : definitions) {
        row.push_back(customCell(object, definition, now));
      }
      return row;
    };
  } else {
    columns = json::array(
        {nameColumn(),
         column("Created At", "date", "CreationTimestamp is the time this object was created.")});
    cells = [](const json& object) {
      return json::array(
          {stringAt(object, ".metadata.name"), stringAt(object, ".metadata.creationTimestamp")});
    };
  }

  json rows = json::array();
  for (const json* object : objects) {
    json row = {{"cells", cells(*object)}};
    if (include == IncludeObject::Object) {
      row["object"] = *object;
    } else if (include == IncludeObject::Metadata) {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", object->value("metadata", json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", list_metadata},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace kprof::testing
