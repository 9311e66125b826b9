#!/usr/bin/python3
"""The webhook's output run by a real container runtime: an AdmissionReview for pod.json goes over
TLS to the webhook, the returned JSONPatch is applied (python3-jsonpatch), the mutated pod runs
under `podman kube play`, and the injected kprof-agent sidecar (ebpf mode) must ship profiles of
the app's hot function to an ingest endpoint.

What podman 4.3 cannot do is adapted here, and only that (docs/podman-e2e.md):
- no API server: the sidecar's operator URL and projected token are replaced by a static
  Pyroscope destination (KPROF_PYROSCOPE_URL) pointing at this script's ingest recorder;
- projected serviceAccountToken volumes become emptyDirs;
- podman's downward API supports metadata.name only: the namespace and node name become literals;
- podman applies its default seccomp profile, which refuses bpf(), unless the pod carries the
  old seccomp annotation; the mutated pod asks for Unconfined in the sidecar's securityContext,
  which podman ignores, so the annotation is added.

  podman_e2e.py BUILD_DIR        (a build with kprof, kprof-throughput-workload and
                                  kprof-webhook-bench-server); exit 0 on success, 77 when not root.
"""
import gzip
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

import jsonpatch

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, CONTAINERS_CONF=os.path.join(HERE, "containers.conf"))
HOT_FUNCTION = b"mix("


def log(message):
    print(f"podman-e2e: {message}", flush=True)


def podman(*args, check=True, timeout=120):
    return subprocess.run(["podman", *args], env=ENV, check=check, timeout=timeout,
                          capture_output=True, text=True)


def shared_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = set()
    for line in out.splitlines():
        for part in line.split():
            if part.startswith("/"):
                libs.add(part)
    return sorted(libs)


def build_image(name, binaries, work, entrypoint=None):
    """A FROM-scratch image holding the binaries at / and the libraries they load."""
    files = {}
    for binary in binaries:
        files["/" + os.path.basename(binary)] = binary
        for lib in shared_libraries(binary):
            files[lib] = lib
    digest = hashlib.sha256(json.dumps(entrypoint).encode())
    for target in sorted(files):
        digest.update(target.encode())
        digest.update(open(files[target], "rb").read())
    tag = f"localhost/{name}:{digest.hexdigest()[:12]}"
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    root = os.path.join(work, name)
    for target, source in files.items():
        os.makedirs(os.path.dirname(root + target), exist_ok=True)
        shutil.copy2(source, root + target, follow_symlinks=True)
    os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
    tar = os.path.join(work, name + ".tar")
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
    changes = ["--change", f"ENTRYPOINT {json.dumps(entrypoint)}"] if entrypoint else []
    podman("import", *changes, tar, tag)
    log(f"built {tag}")
    return tag


class Recorder(http.server.BaseHTTPRequestHandler):
    uploads = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Recorder.uploads.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def profile_bytes(body):
    """The decompressed pprof inside an ingest body (multipart or raw gzip)."""
    start = body.find(b"\x1f\x8b")
    if start < 0:
        return b""
    try:
        return zlib.decompressobj(wbits=31).decompress(body[start:])
    except zlib.error:
        return b""


def main():
    if os.geteuid() != 0:
        log("SKIPPED: needs root for podman and eBPF")
        return 77
    build = os.path.abspath(sys.argv[1])
    kprof = os.path.join(build, "agent/cli/kprof")
    app = os.path.join(build, "bench/kprof-throughput-workload")
    webhook = os.path.join(build, "bench/kprof-webhook-bench-server")
    work = tempfile.mkdtemp(prefix="kprof-podman-")
    webhook_proc = None
    recorder = None
    pod_file = os.path.join(work, "pod.json")
    try:
        # The agent image runs kprof; the webhook passes the subcommand ("agent") as args.
        agent_image = build_image("kprof-e2e-agent", [kprof], work, entrypoint=["/kprof"])
        app_image = build_image("kprof-e2e-app", [app], work)

        # The webhook, with the agent image and a pre-1.29 cluster (podman runs no native sidecars).
        webhook_proc = subprocess.Popen([webhook, work, agent_image, "28"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        port = int(webhook_proc.stdout.readline().split()[1])
        pod = json.load(open(os.path.join(HERE, "pod.json")))
        pod["spec"]["containers"][0]["image"] = app_image
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                  "request": {"uid": "e2e-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                              "resource": {"group": "", "version": "v1", "resource": "pods"},
                              "namespace": "shop", "operation": "CREATE", "object": pod}}
        context = ssl.create_default_context(cafile=os.path.join(work, "ca.crt"))
        request = urllib.request.Request(f"https://127.0.0.1:{port}/mutate-pods",
                                         data=json.dumps(review).encode(),
                                         headers={"Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, context=context, timeout=10))
        response = answer["response"]
        assert response["uid"] == "e2e-1" and response["allowed"] is True, response
        import base64
        patch = json.loads(base64.b64decode(response["patch"]))
        mutated = jsonpatch.apply_patch(pod, patch)
        agent = next(c for c in mutated["spec"]["containers"] if c["name"] == "kprof-agent")
        assert mutated["spec"].get("shareProcessNamespace") is True, "ebpf mode shares the PID namespace"
        assert set(agent["securityContext"]["capabilities"]["add"]) == {"BPF", "PERFMON", "SYS_PTRACE"}
        log(f"webhook injected {agent['name']} ({agent['image']}), {len(patch)} patch operations")

        # The ingest endpoint the sidecar ships to.
        recorder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=recorder.serve_forever, daemon=True).start()
        ingest = f"http://127.0.0.1:{recorder.server_address[1]}"

        # Adaptations for podman (see the docstring).
        agent["env"] = [e for e in agent["env"]
                        if e["name"] not in ("KPROF_OPERATOR_URL", "KPROF_OPERATOR_TOKEN_FILE")]
        agent["env"] += [{"name": "KPROF_PYROSCOPE_URL", "value": ingest},
                         {"name": "KPROF_UPLOAD_INTERVAL_SECONDS", "value": "5"}]
        # podman's downward API knows metadata.name only: the others become their literal values.
        literal = {"metadata.namespace": "shop", "spec.nodeName": "podman"}
        for container in mutated["spec"]["containers"]:
            for variable in container.get("env", []):
                field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                if field in literal:
                    variable.pop("valueFrom")
                    variable["value"] = literal[field]
        for volume in mutated["spec"]["volumes"]:
            if "projected" in volume:
                volume.pop("projected")
                volume["emptyDir"] = {}
        mutated["metadata"].setdefault("annotations", {})[
            "seccomp.security.alpha.kubernetes.io/pod"] = "unconfined"
        json.dump(mutated, open(pod_file, "w"), indent=1)

        podman("pod", "rm", "-f", "checkout-e2e", check=False)
        played = podman("kube", "play", "--network", "host", pod_file, check=False, timeout=120)
        if played.returncode != 0:
            log("podman kube play failed:\n" + played.stdout + played.stderr)
            return 1
        log("pod running; waiting for profiles")
        deadline = time.time() + 60
        while time.time() < deadline:
            for path, body in list(Recorder.uploads):
                data = profile_bytes(body)
                if HOT_FUNCTION in data:
                    log(f"profile with the app's hot function arrived: {path[:160]}")
                    assert "service_name" not in path or "checkout" in path
                    return 0
            time.sleep(1)
        logs = podman("logs", "checkout-e2e-kprof-agent", check=False)
        log(f"no profile with {HOT_FUNCTION!r} in 60 s; {len(Recorder.uploads)} uploads. Agent log:\n"
            + (logs.stdout + logs.stderr)[-3000:])
        return 1
    finally:
        podman("pod", "rm", "-f", "-t", "2", "checkout-e2e", check=False)
        if webhook_proc:
            webhook_proc.stdin.close()
            webhook_proc.wait(timeout=10)
        if recorder:
            recorder.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
