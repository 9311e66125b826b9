"""Applies each case's patch with python3-jsonpatch, an implementation independent of kprof's,
and compares the result with the whole expected pod. Input: a JSON file holding a list of
{"name", "pod", "patch", "expected"}. Exit status 1 names every case that differs."""
import json
import sys

import jsonpatch

failed = []
cases = json.load(open(sys.argv[1]))
for case in cases:
    result = jsonpatch.apply_patch(case["pod"], case["patch"])
    if result != case["expected"]:
        failed.append(case["name"])
print(f"jsonpatch {jsonpatch.__version__}: {len(cases) - len(failed)} of {len(cases)} cases match")
for name in failed:
    print(f"differs: {name}")
sys.exit(1 if failed else 0)
