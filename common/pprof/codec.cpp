#include "common/pprof/codec.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <zlib.h>

#include "common/pprof/id_index.hpp"

namespace kprof::pprof {
namespace {

// RAII owners so every return path releases zlib's state.
struct Deflater {
  z_stream stream{};
  bool ready = false;
  ~Deflater() {
    if (ready) {
      deflateEnd(&stream);
    }
  }
};

struct Inflater {
  z_stream stream{};
  bool ready = false;
  ~Inflater() {
    if (ready) {
      inflateEnd(&stream);
    }
  }
};

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper instead of zlib's

std::string zlibMessage(const z_stream& stream, int rc) {
  return stream.msg != nullptr ? std::string(stream.msg) : "zlib error " + std::to_string(rc);
}

// validate()'s walk over one profile. Messages are only formatted on failure: validation runs on
// every decode, over every sample.
class Validator {
 public:
  explicit Validator(const Profile& profile) : profile_(profile) {}

  Status run() {
    if (profile_.string_table_size() == 0 || !profile_.string_table(0).empty()) {
      return fail(ErrorCode::Parse, "string_table[0] must be the empty string");
    }
    for (int i = 0; i < profile_.sample_type_size(); ++i) {
      const auto& type = profile_.sample_type(i);
      if (!inTable(type.type()) || !inTable(type.unit())) {
        return badString("sample_type " + std::to_string(i),
                         inTable(type.type()) ? "unit" : "type",
                         inTable(type.type()) ? type.unit() : type.type());
      }
    }
    const auto& period_type = profile_.period_type();
    const std::pair<const char*, int64_t> header_strings[] = {
        {"period_type type", period_type.type()},
        {"period_type unit", period_type.unit()},
        {"drop_frames", profile_.drop_frames()},
        {"keep_frames", profile_.keep_frames()},
        {"default_sample_type", profile_.default_sample_type()},
        {"doc_url", profile_.doc_url()},
    };
    for (const auto& [field, index] : header_strings) {
      if (!inTable(index)) {
        return badString(field, "", index);
      }
    }
    for (int i = 0; i < profile_.comment_size(); ++i) {
      if (!inTable(profile_.comment(i))) {
        return badString("comment " + std::to_string(i), "", profile_.comment(i));
      }
    }

    auto mappings = IdIndex::of(profile_.mapping(), "mapping");
    if (!mappings) {
      return mappings.error();
    }
    for (const auto& mapping : profile_.mapping()) {
      for (auto [field, index] :
           {std::pair{"filename", mapping.filename()}, std::pair{"build_id", mapping.build_id()}}) {
        if (!inTable(index)) {
          return badString("mapping " + std::to_string(mapping.id()), field, index);
        }
      }
    }

    auto functions = IdIndex::of(profile_.function(), "function");
    if (!functions) {
      return functions.error();
    }
    for (const auto& function : profile_.function()) {
      for (auto [field, index] : {std::pair{"name", function.name()},
                                  std::pair{"system_name", function.system_name()},
                                  std::pair{"filename", function.filename()}}) {
        if (!inTable(index)) {
          return badString("function " + std::to_string(function.id()), field, index);
        }
      }
    }

    auto locations = IdIndex::of(profile_.location(), "location");
    if (!locations) {
      return locations.error();
    }
    for (const auto& location : profile_.location()) {
      if (location.mapping_id() != 0 && !mappings->find(location.mapping_id())) {
        return fail(ErrorCode::Parse,
                    "location " + std::to_string(location.id()) + ": mapping id " +
                        std::to_string(location.mapping_id()) + " not found");
      }
      for (const auto& line : location.line()) {
        if (line.function_id() != 0 && !functions->find(line.function_id())) {
          return fail(ErrorCode::Parse,
                      "location " + std::to_string(location.id()) + ": function id " +
                          std::to_string(line.function_id()) + " not found");
        }
      }
    }

    for (int i = 0; i < profile_.sample_size(); ++i) {
      const auto& sample = profile_.sample(i);
      if (sample.value_size() != profile_.sample_type_size()) {
        return fail(ErrorCode::Parse,
                    "sample " + std::to_string(i) + ": has " + std::to_string(sample.value_size()) +
                        " values but the profile has " +
                        std::to_string(profile_.sample_type_size()) + " sample types");
      }
      for (uint64_t location_id : sample.location_id()) {
        if (!locations->find(location_id)) {
          return fail(ErrorCode::Parse,
                      "sample " + std::to_string(i) + ": location id " +
                          std::to_string(location_id) + " not found");
        }
      }
      for (const auto& label : sample.label()) {
        for (auto [field, index] : {std::pair{"key", label.key()},
                                    std::pair{"str", label.str()},
                                    std::pair{"num_unit", label.num_unit()}}) {
          if (!inTable(index)) {
            return badString("sample " + std::to_string(i) + " label", field, index);
          }
        }
      }
    }
    return ok();
  }

 private:
  bool inTable(int64_t index) const { return index >= 0 && index < profile_.string_table_size(); }

  // "function 2 name: string index 1000 out of range (string table has 40 entries)"
  Unexpected badString(const std::string& element, std::string_view field, int64_t index) const {
    std::string what = element;
    if (!field.empty()) {
      what += " ";
      what += field;
    }
    return fail(ErrorCode::Parse,
                what + ": string index " + std::to_string(index) +
                    " out of range (string table has " +
                    std::to_string(profile_.string_table_size()) + " entries)");
  }

  const Profile& profile_;
};

}  // namespace

Result<std::string> encode(const Profile& profile) {
  size_t size = profile.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return fail(ErrorCode::ResourceExhausted,
                "profile of " + std::to_string(size) + " bytes exceeds the 2 GiB protobuf limit");
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    // Only maps are ordered differently without this; the profile has none today, but the
    // golden tests and content hashes rely on stable bytes whatever the schema grows.
    coded.SetSerializationDeterministic(true);
    if (!profile.SerializeToCodedStream(&coded)) {
      return fail(ErrorCode::Internal, "protobuf serialization failed");
    }
  }
  return bytes;
}

Result<std::string> encodeGzip(const Profile& profile) {
  auto raw = encode(profile);
  if (!raw) {
    return raw.error();
  }
  return gzip(*raw);
}

Result<std::string> gzip(std::string_view bytes) {
  if (bytes.size() > UINT_MAX) {
    return fail(ErrorCode::ResourceExhausted, "input too large to gzip in one piece");
  }
  Deflater deflater;
  // deflateInit2 without a gz_header writes mtime 0, no name and OS "unix": deterministic bytes.
  // Best speed, as Go's runtime/pprof does: on a 10,000-sample profile it costs ~40% less CPU than
  // the default level for ~8% more bytes (docs/benchmarks.md), and the agent pays it every upload.
  int rc = deflateInit2(
      &deflater.stream, Z_BEST_SPEED, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    return fail(ErrorCode::Internal, "deflateInit2: " + zlibMessage(deflater.stream, rc));
  }
  deflater.ready = true;
  std::string out(deflateBound(&deflater.stream, static_cast<uLong>(bytes.size())), '\0');
  deflater.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  deflater.stream.avail_in = static_cast<uInt>(bytes.size());
  deflater.stream.next_out = reinterpret_cast<Bytef*>(out.data());
  deflater.stream.avail_out = static_cast<uInt>(out.size());
  // deflateBound's room lets one Z_FINISH call complete the stream.
  rc = deflate(&deflater.stream, Z_FINISH);
  if (rc != Z_STREAM_END) {
    return fail(ErrorCode::Internal, "deflate: " + zlibMessage(deflater.stream, rc));
  }
  out.resize(deflater.stream.total_out);
  return out;
}

bool isGzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

Result<std::string> gunzip(std::string_view compressed, size_t max_bytes) {
  if (compressed.size() > UINT_MAX) {
    return fail(ErrorCode::ResourceExhausted, "compressed input too large");
  }
  Inflater inflater;
  z_stream& stream = inflater.stream;
  int rc = inflateInit2(&stream, kGzipWindowBits);
  if (rc != Z_OK) {
    return fail(ErrorCode::Internal, "inflateInit2: " + zlibMessage(stream, rc));
  }
  inflater.ready = true;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());

  // The buffer grows by doubling but never past max_bytes + 1: one byte over proves the limit is
  // exceeded without ever holding more than the limit allows.
  const size_t cap = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  std::string out;
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap) {
        return fail(
            ErrorCode::ResourceExhausted,
            "gzip stream decompresses to more than " + std::to_string(max_bytes) + " bytes");
      }
      out.resize(std::min(cap, std::max<size_t>(out.size() * 2, 64 * 1024)));
    }
    size_t room = std::min<size_t>(out.size() - produced, UINT_MAX);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    rc = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    if (rc == Z_STREAM_END) {
      if (stream.avail_in == 0) {
        break;
      }
      // Concatenated gzip members form one stream (gzip(1) and Go read them so); anything else
      // after the end is corruption.
      std::string_view rest(reinterpret_cast<const char*>(stream.next_in), stream.avail_in);
      if (!isGzip(rest)) {
        return fail(ErrorCode::Parse, "unexpected bytes after the end of the gzip stream");
      }
      inflateReset(&stream);
      continue;
    }
    if (rc == Z_OK) {
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
      return fail(ErrorCode::Parse, "truncated gzip stream");
    }
    if (rc == Z_BUF_ERROR) {
      continue;  // out of output room; the loop grows the buffer
    }
    return fail(ErrorCode::Parse, "corrupt gzip stream: " + zlibMessage(stream, rc));
  }
  if (produced > max_bytes) {
    return fail(ErrorCode::ResourceExhausted,
                "gzip stream decompresses to more than " + std::to_string(max_bytes) + " bytes");
  }
  out.resize(produced);
  return out;
}

Result<Profile> decode(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.empty()) {
    return fail(ErrorCode::Parse, "empty input is not a profile");
  }
  std::string decompressed;
  std::string_view serialized = bytes;
  if (isGzip(bytes)) {
    auto inflated = gunzip(bytes, limits.max_decoded_bytes);
    if (!inflated) {
      return inflated.error();
    }
    decompressed = std::move(*inflated);
    serialized = decompressed;
  } else if (bytes.size() > limits.max_decoded_bytes) {
    return fail(ErrorCode::ResourceExhausted,
                "profile of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                    std::to_string(limits.max_decoded_bytes));
  }
  if (serialized.size() > static_cast<size_t>(INT_MAX)) {
    return fail(ErrorCode::ResourceExhausted, "profile exceeds the 2 GiB protobuf limit");
  }
  Profile profile;
  if (!profile.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return fail(ErrorCode::Parse, "not a pprof profile: malformed protobuf");
  }
  Status valid = validate(profile);
  if (!valid) {
    return valid.error().wrap("invalid profile");
  }
  return profile;
}

Status validate(const Profile& profile) {
  return Validator(profile).run();
}

}  // namespace kprof::pprof
