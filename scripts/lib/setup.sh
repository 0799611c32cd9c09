# Shared set-up for scripts/test.sh, scripts/demo.sh and scripts/fuzz.sh: makes sure the Debian 12
# packages the build needs are installed, with apt-get as root or through sudo. Sourced, not run.

XRAY_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev nlohmann-json3-dev libssl-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The optional integrations, which CI builds and tests: gRPC interceptors and spdlog log correlation.
  libgrpc++-dev protobuf-compiler-grpc libspdlog-dev
)

# The plain build of scripts/test.sh only: headless Chromium for the xray-local console's browser
# test (ctest xray_local_console_browser).
XRAY_BROWSER_PACKAGES=(chromium)

# The fuzz targets only (scripts/fuzz.sh): clang and its runtimes (libFuzzer, ASan, UBSan), which
# --no-install-recommends would otherwise leave out.
XRAY_FUZZ_PACKAGES=(clang libclang-rt-14-dev)

# Prints the packages among the arguments (default: XRAY_PACKAGES) that are not installed.
xray_missing_packages() {
  local missing=() package
  [ $# -eq 0 ] && set -- "${XRAY_PACKAGES[@]}"
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  echo "${missing[@]}"
}

# Installs the missing packages among the arguments (default: XRAY_PACKAGES).
xray_install_dependencies() {
  local missing
  missing=$(xray_missing_packages "$@")
  [ -z "$missing" ] && return 0
  echo "installing: $missing"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" -eq 0 ]; then
    "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends $missing
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "${apt[@]}" update -qq && sudo "${apt[@]}" install -y -qq --no-install-recommends $missing
  else
    echo "error: missing packages and no root or sudo; run:" >&2
    echo "  sudo apt-get install -y $missing" >&2
    exit 1
  fi
}

# Test-only tools from npm (tests/dynalite: the DynamoDB the AWS-call tests and the demo use;
# tests/deploy: the linters and schemas that check deploy/). Installs node and npm from Debian
# when missing, then the pinned packages of each folder (package-lock.json) unless they are
# installed already.
xray_install_npm_test_tools() {
  if ! command -v npm >/dev/null 2>&1; then
    xray_install_dependencies nodejs npm
  fi
  local pinned installed
  pinned=$(sed -n 's/.*"dynalite": "\([0-9.]*\)".*/\1/p' tests/dynalite/package.json)
  installed=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' tests/dynalite/node_modules/dynalite/package.json 2>/dev/null || true)
  if [ "$installed" != "$pinned" ]; then
    echo "installing dynalite $pinned (npm ci --prefix tests/dynalite)"
    npm ci --prefix tests/dynalite --no-audit --no-fund --loglevel=error
  fi
  if ! node -e '
    const p = require("./tests/deploy/package.json");
    for (const [name, version] of Object.entries(p.dependencies)) {
      let installed;
      try { installed = require(`./tests/deploy/node_modules/${name}/package.json`).version; } catch (e) {}
      if (installed !== version) process.exit(1);
    }' 2>/dev/null; then
    echo "installing the deploy/ checkers (npm ci --prefix tests/deploy)"
    npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error
  fi
}

xray_install_fuzz_dependencies() {
  xray_install_dependencies "${XRAY_PACKAGES[@]}" "${XRAY_FUZZ_PACKAGES[@]}"
}
