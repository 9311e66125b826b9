// Turning profiles into bytes and back. Encoding is deterministic (same profile, same bytes), so
// golden tests can compare bytes and uploads can be deduplicated by hash. Decoding accepts raw or
// gzipped bytes from anyone: it bounds memory, never crashes, and returns only profiles that
// pass validate(), so readers may follow every index and id without checking.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/core/result.hpp"
#include "common/pprof/profile_builder.hpp"

namespace kprof::pprof {

struct DecodeLimits {
  // Most bytes of serialized profile accepted, after decompression. Decoded objects take a small
  // constant factor more memory than this. 64 MiB is far above what an agent uploads per interval
  // and small enough that a gzip bomb cannot take a process down.
  size_t max_decoded_bytes = size_t{64} << 20;
};

// The serialized profile, fields in field-number order.
Result<std::string> encode(const Profile& profile);

// gzip of encode(): what `go tool pprof` and Pyroscope expect on disk and on the wire. The gzip
// header carries no file name and mtime 0, so the bytes depend only on the profile (and zlib).
Result<std::string> encodeGzip(const Profile& profile);

// gzip of arbitrary bytes at zlib's best-speed level, as encodeGzip does it.
Result<std::string> gzip(std::string_view bytes);

// Decompresses a gzip stream (several members are concatenated), failing with ResourceExhausted
// as soon as the output would pass `max_bytes`.
Result<std::string> gunzip(std::string_view compressed, size_t max_bytes);

// True when `bytes` start with the gzip magic number.
bool isGzip(std::string_view bytes);

// Decodes a profile from serialized or gzipped bytes and validates it.
// Errors: Parse (malformed or invalid), ResourceExhausted (over limits.max_decoded_bytes).
Result<Profile> decode(std::string_view bytes, const DecodeLimits& limits = {});

// Checks what the format requires of a profile: string_table[0] == "", every string index in
// range, nonzero unique ids, every referenced mapping/location/function id present, and one value
// per sample type in every sample. The Error names the first offending element.
Status validate(const Profile& profile);

}  // namespace kprof::pprof
