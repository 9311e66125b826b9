// Decodes pprof files with the independent npm decoder `pprof-format` and prints what kprof's
// interop test compares, as one JSON object per file: {"<path>": {...}, ...}.
//
//   node tests/interop/pprof_format_dump.mjs profile.pb.gz [more.pb ...]
//
// Values are printed as decimal strings, since int64 totals can exceed JavaScript's safe integers.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

// The decoder is installed under tests/tools (scripts/install-deps.sh), beside this folder.
const toolsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools');
const { Profile } = createRequire(join(toolsDir, 'package.json'))('pprof-format');

function summarize(path) {
  let bytes = readFileSync(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = gunzipSync(bytes);
  }
  const profile = Profile.decode(new Uint8Array(bytes));
  const str = (index) => profile.stringTable.strings[Number(index)];

  const totals = profile.sampleType.map(() => 0n);
  for (const sample of profile.sample) {
    sample.value.forEach((value, i) => {
      totals[i] += BigInt(value);
    });
  }

  const labels = new Set();
  for (const sample of profile.sample) {
    for (const label of sample.label) {
      if (Number(label.str) !== 0) {
        labels.add(`${str(label.key)}=${str(label.str)}`);
      } else {
        const unit = Number(label.numUnit) !== 0 ? ` ${str(label.numUnit)}` : '';
        labels.add(`${str(label.key)}=${BigInt(label.num)}${unit}`);
      }
    }
  }

  // Function names as samples reach them: through location lines, not just the function table.
  const functionsById = new Map(profile.function.map((f) => [BigInt(f.id), f]));
  const locationsById = new Map(profile.location.map((l) => [BigInt(l.id), l]));
  const functions = new Set();
  for (const sample of profile.sample) {
    for (const id of sample.locationId) {
      for (const line of locationsById.get(BigInt(id)).line) {
        const fn = functionsById.get(BigInt(line.functionId));
        if (fn !== undefined) {
          functions.add(str(fn.name));
        }
      }
    }
  }

  return {
    sampleTypes: profile.sampleType.map((t, i) => ({
      type: str(t.type),
      unit: str(t.unit),
      total: totals[i].toString(),
    })),
    defaultSampleType: str(profile.defaultSampleType),
    periodType: profile.periodType
      ? { type: str(profile.periodType.type), unit: str(profile.periodType.unit) }
      : null,
    period: BigInt(profile.period).toString(),
    timeNanos: BigInt(profile.timeNanos).toString(),
    durationNanos: BigInt(profile.durationNanos).toString(),
    sampleCount: profile.sample.length,
    functions: [...functions].sort(),
    labels: [...labels].sort(),
    mappings: profile.mapping.map((m) => ({
      filename: str(m.filename),
      buildId: str(m.buildId),
    })),
    comments: profile.comment.map(str),
  };
}

const out = {};
for (const path of process.argv.slice(2)) {
  out[path] = summarize(path);
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
