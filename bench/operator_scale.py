#!/usr/bin/env python3
"""Operator scale benchmark: 10,000 pods and 100 ProfilingPolicies on the fake API server.

Starts kprof-fake-apiserver on loopback with the pods and policies loaded, then kprof-operator
against it, and measures:
  - convergence: from starting the operator until every policy's status is correct
    (observedGeneration current, matchedPods right) and every selected pod carries its
    kprof.dev/policy label;
  - the operator's RSS then (VmRSS, VmHWM), and the same for a run with no pods, so
    (RSS(10k) - RSS(0)) / 10,000 is the memory per cached pod;
  - the informers' own estimate of their cache size (kprof_cache_bytes on /metrics).

    bench/operator_scale.py BUILD_DIR [--pods 10000] [--policies 100] [--namespaces 10]

Layout: NAMESPACES namespaces; in each, PODS/NAMESPACES pods spread over POLICIES/NAMESPACES
apps, and one policy per app selecting app=<name>, so each policy matches PODS/POLICIES pods.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_objects(path, pods, policies, namespaces, prelabeled):
    apps_per_ns = policies // namespaces
    pods_per_ns = pods // namespaces
    with open(path, "w") as out:
        for n in range(namespaces):
            ns = f"team-{n}"
            out.write(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": ns}}) + "\n")
            for a in range(apps_per_ns):
                out.write(json.dumps({
                    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfilingPolicy",
                    "metadata": {"name": f"app-{a}", "namespace": ns},
                    "spec": {"selector": {"matchLabels": {"app": f"app-{a}"}},
                             "environment": "bench"}}) + "\n")
            for p in range(pods_per_ns):
                app = f"app-{p % apps_per_ns}"
                labels = {"app": app, "pod-template-hash": "5d8f7c9b4"}
                if prelabeled:
                    # What the operator writes, as a previous run would have left it.
                    labels.update({"kprof.dev/env": "bench", "kprof.dev/version": f"1.{p % 7}",
                                   "kprof.dev/policy": app})
                out.write(json.dumps({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"{app}-{p:05d}", "namespace": ns,
                                 "labels": labels,
                                 "annotations": {"kprof.dev/injected": "true"}},
                    "spec": {"nodeName": f"node-{p % 50}",
                             "containers": [{"name": "app", "image": f"registry.local/{app}:1.{p % 7}",
                                             "ports": [{"containerPort": 8080}],
                                             "resources": {"requests": {"cpu": "100m"}}}]},
                    "status": {"phase": "Running", "podIP": f"10.0.{p // 250}.{p % 250}"}}) + "\n")


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def converged(api, expected_matched, pods):
    policies = json.loads(get(f"{api}/apis/kprof.dev/v1alpha1/profilingpolicies"))["items"]
    for policy in policies:
        status = policy.get("status") or {}
        if status.get("observedGeneration") != policy["metadata"].get("generation"):
            return False
        if status.get("matchedPods") != expected_matched:
            return False
    if pods == 0:
        return True
    # The reconciler writes a status only after its label patches went through, so this full list
    # runs once, as a check, when the statuses are already right.
    labeled = json.loads(get(f"{api}/api/v1/pods?labelSelector=kprof.dev%2Fpolicy"))
    return len(labeled["items"]) == pods


def status_of(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run(build, pods, policies, namespaces, timeout, prelabeled=False):
    scratch = tempfile.mkdtemp(prefix="kprof-scale-")
    objects = os.path.join(scratch, "objects.jsonl")
    write_objects(objects, pods, policies, namespaces, prelabeled)
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    fake = subprocess.Popen([f"{build}/tests/fake_apiserver/kprof-fake-apiserver",
                             "--port", str(api_port), objects],
                            stdout=subprocess.DEVNULL, stderr=open(f"{scratch}/api.log", "w"))
    operator = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(f"{api}/version")
                break
            except OSError:
                if time.monotonic() > deadline or fake.poll() is not None:
                    sys.exit(f"fake API server did not start; see {scratch}/api.log")
                time.sleep(0.1)
        kubeconfig = os.path.join(scratch, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "{api}"}}}}]
users: [{{name: anonymous, user: {{}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: anonymous}}}}]
current-context: fake
""")
        health = free_port()
        started = time.monotonic()
        operator = subprocess.Popen(
            [f"{build}/operator/cmd/kprof-operator", "--kubeconfig", kubeconfig,
             "--leader-elect=false", "--health-port", str(health),
             "--agent-api-port", str(free_port()), "--listen-host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=open(f"{scratch}/operator.log", "w"))
        expected = pods // policies
        while not converged(api, expected, pods):
            if operator.poll() is not None:
                sys.exit(f"operator exited; see {scratch}/operator.log")
            if time.monotonic() - started > timeout:
                sys.exit(f"not converged within {timeout} s; see {scratch}/operator.log")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        time.sleep(1)  # let the last events drain before reading memory
        rss, hwm = status_of(operator.pid, "VmRSS"), status_of(operator.pid, "VmHWM")
        metrics = get(f"http://127.0.0.1:{health}/metrics").decode()
        cache = {m.group(1): float(m.group(2)) for m in
                 re.finditer(r'kprof_cache_bytes\{resource="([a-z]+)"\} ([0-9.e+]+)', metrics)}
        return {"pods": pods, "policies": policies, "seconds": elapsed, "rss_kb": rss,
                "hwm_kb": hwm, "cache_bytes": cache}
    finally:
        for process in (operator, fake):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build")
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    empty = run(args.build, 0, args.policies, args.namespaces, args.timeout)
    restart = run(args.build, args.pods, args.policies, args.namespaces, args.timeout,
                  prelabeled=True)
    full = run(args.build, args.pods, args.policies, args.namespaces, args.timeout)
    per_pod = (full["rss_kb"] - empty["rss_kb"]) * 1024 / args.pods
    cached = full["cache_bytes"].get("pods", 0) / args.pods
    print("| measure | value |")
    print("|---|---|")
    print(f"| start to every status correct, {args.pods:,} pods already labeled (a restart) / "
          f"{args.policies} policies | {restart['seconds']:.2f} s |")
    print(f"| start to every status correct and every pod labeled, {args.pods:,} unlabeled pods "
          f"(first roll-out: {args.pods:,} label patches) / {args.policies} policies "
          f"| {full['seconds']:.2f} s |")
    print(f"| start to every status correct, 0 pods / {args.policies} policies "
          f"| {empty['seconds']:.2f} s |")
    restart_per_pod = (restart["rss_kb"] - empty["rss_kb"]) * 1024 / args.pods
    print(f"| operator VmRSS at convergence | restart {restart['rss_kb'] / 1024:.1f} MiB, "
          f"first roll-out {full['rss_kb'] / 1024:.1f} MiB, 0 pods {empty['rss_kb'] / 1024:.1f} MiB |")
    print(f"| operator VmHWM | restart {restart['hwm_kb'] / 1024:.1f} MiB, "
          f"first roll-out {full['hwm_kb'] / 1024:.1f} MiB |")
    print(f"| RSS per cached pod, (RSS - RSS(0 pods)) / pods | restart {restart_per_pod:,.0f} bytes, "
          f"first roll-out {per_pod:,.0f} bytes |")
    print(f"| pod cache's own estimate per pod (kprof_cache_bytes) | {cached:,.0f} bytes |")


if __name__ == "__main__":
    main()
