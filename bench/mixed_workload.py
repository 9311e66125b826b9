"""A CPU-bound workload with a realistic spread of stacks, for the footprint benchmark.

kprof-demo-workload has two hot functions, so its profiles are as small as profiles get. A service
runs many code paths; this script cycles through JSON, regular expressions, hashing, compression,
sorting, decimal arithmetic and recursion of varying depth, so the interpreter's native stacks (what
the eBPF sampler sees of a Python process) differ from sample to sample.

    python3 bench/mixed_workload.py SECONDS
"""
import decimal
import hashlib
import json
import random
import re
import sys
import time
import zlib

WORDS = [f"word{i}" for i in range(500)]


def json_round_trip(rng):
    doc = {w: [rng.random() for _ in range(5)] for w in rng.sample(WORDS, 40)}
    return len(json.loads(json.dumps(doc, sort_keys=True)))


def regex_scan(rng):
    text = " ".join(rng.choice(WORDS) for _ in range(400))
    return len(re.findall(r"word(\d*7\d*)\b", text))


def hash_and_compress(rng):
    data = bytes(rng.getrandbits(8) for _ in range(4000))
    return len(zlib.compress(hashlib.sha256(data).digest() * 200, 6))


def sort_records(rng):
    records = [(rng.choice(WORDS), rng.random()) for _ in range(3000)]
    return sorted(records, key=lambda r: (r[0], -r[1]))[0][1]


def decimal_math(rng):
    total = decimal.Decimal(0)
    for _ in range(300):
        total += decimal.Decimal(rng.random()).sqrt()
    return float(total)


def recurse(depth, rng):
    if depth == 0:
        return rng.choice((json_round_trip, regex_scan, sort_records))(rng)
    return recurse(depth - 1, rng) + 1


TASKS = [json_round_trip, regex_scan, hash_and_compress, sort_records, decimal_math,
         lambda rng: recurse(rng.randint(1, 30), rng)]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    rng = random.Random(42)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rng.choice(TASKS)(rng)


if __name__ == "__main__":
    main()
