#!/usr/bin/env bash
# Latency and throughput of POST /mutate-pods over keep-alive TLS, side by side with nginx serving
# a static body of the webhook's response size over TLS (the floor), with wrk on loopback.
#   bench/webhook/run.sh [build-dir] [seconds]     (build-dir: a Release build, default build/bench)
# Paced runs: 10 connections, each pausing after every response, aimed at 500 and 1,000
# requests/s (wrk reports what it achieved); then an unpaced run with 32 connections for the
# maximum. Both servers get the same certificate, cores and client.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/bench}
seconds=${2:-15}

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || { echo "run.sh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
  fi
done
cmake --build "$build" --target kprof-webhook-bench-server >/dev/null

work=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/webhook/make_review.py "$work/review.json"
mkfifo "$work/stdin"
"$build/bench/kprof-webhook-bench-server" "$work" <"$work/stdin" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
exec 3>"$work/stdin"  # the server runs until this closes
for _ in $(seq 1 50); do grep -q '^port ' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
kprof_port=$(awk '/^port /{print $2}' "$work/server.out")
curl -sk -X POST -H 'Content-Type: application/json' --data-binary @"$work/review.json" \
  "https://127.0.0.1:$kprof_port/mutate-pods" >"$work/response.json"
grep -q '"patch"' "$work/response.json" || { echo "run.sh: the webhook did not answer with a patch" >&2; exit 1; }

nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/static"
cp "$work/response.json" "$work/nginx/static/mutate-pods"
chmod -R a+rX "$work"  # nginx workers run as an unprivileged user
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/webhook.crt;
    ssl_certificate_key $work/webhook.key;
    # The static module refuses POST (405); error_page re-serves the file as GET with 200.
    location = /mutate-pods {
      root $work/nginx/static;
      default_type application/json;
      error_page 405 =200 \$uri;
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" &
nginx_pid=$!
sleep 1
nginx_bytes=$(curl -sk -X POST --data-binary @"$work/review.json" "https://127.0.0.1:$nginx_port/mutate-pods" | tee "$work/nginx.body" | wc -c)
cmp -s "$work/nginx.body" "$work/response.json" || { echo "run.sh: nginx does not serve the same body:"; head -c 300 "$work/nginx.body"; cat "$work/nginx/error.log"; exit 1; } >&2
echo "response body: kprof $(wc -c <"$work/response.json") bytes, nginx $nginx_bytes bytes; request $(wc -c <"$work/review.json") bytes"

measure() {  # name port connections delay_ms
  KPROF_REVIEW="$work/review.json" KPROF_DELAY_MS=$4 \
    wrk -t2 -c"$3" -d"${seconds}s" --latency -s bench/webhook/post.lua "https://127.0.0.1:$2/mutate-pods" \
    >"$work/wrk.out"
  local rate p50 p99 max
  rate=$(awk '/Requests\/sec/{print $2}' "$work/wrk.out")
  p50=$(awk '$1=="50%"{print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%"{print $2}' "$work/wrk.out")
  max=$(awk '/Latency/ && !/Distribution/{print $4; exit}' "$work/wrk.out")
  printf '| %-6s | %-22s | %9s | %8s | %8s | %8s |\n' "$1" "$5" "$rate" "$p50" "$p99" "$max"
}

echo "| server | load                   | req/s     | p50      | p99      | max      |"
echo "|--------|------------------------|-----------|----------|----------|----------|"
for target in "kprof $kprof_port" "nginx $nginx_port"; do
  set -- $target
  measure "$1" "$2" 10 19 "paced ~500/s (10 conn)"
done
for target in "kprof $kprof_port" "nginx $nginx_port"; do
  set -- $target
  measure "$1" "$2" 10 9 "paced ~1000/s (10 conn)"
done
for target in "kprof $kprof_port" "nginx $nginx_port"; do
  set -- $target
  measure "$1" "$2" 32 0 "unpaced (32 conn)"
done
