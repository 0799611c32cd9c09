# Shared set-up for scripts/test.sh and scripts/demo.sh: makes sure the Debian 12 packages the
# build needs are installed, with apt-get as root or through sudo. Sourced, not run.

XRAY_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev nlohmann-json3-dev libssl-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

xray_missing_packages() {
  local missing=() package
  for package in "${XRAY_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  echo "${missing[@]}"
}

xray_install_dependencies() {
  local missing
  missing=$(xray_missing_packages)
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
