#!/usr/bin/env bash
# Compile-checks the aws-sdk-cpp adapter (AWSXRay::awssdk: include/xray/aws_sdk.hpp,
# integrations/awssdk/) against the headers of a real aws-sdk-cpp 1.11 installation, for machines
# where the adapter's target is not built because find_package(AWSSDK) fails (CI: aws-sdk-cpp is
# not packaged for Debian 12). Nothing is linked or run: it proves the adapter matches the SDK's
# types and virtual functions, not that it behaves.
#
# Usage: scripts/check_aws_sdk_adapter.sh [HEADERS_DIR]
#   HEADERS_DIR (default: $XRAY_AWS_SDK_INCLUDE) holds aws-sdk-cpp's headers as an installation
#   lays them out, aws/core/..., smithy/..., aws/crt/..., aws/common/... side by side (e.g.
#   /usr/local/include after installing aws-sdk-cpp with BUILD_ONLY=core), generated headers
#   (aws/core/SDKConfig.h, aws/crt/Config.h, aws/common/config.h) included.
# Extra compiler flags: CXXFLAGS (e.g. the -D definitions of the installation's
# aws-cpp-sdk-core target). Exits 0 when everything compiles, 1 when something does not, 2 when
# the headers are absent.
set -euo pipefail
cd "$(dirname "$0")/.."

headers=${1:-${XRAY_AWS_SDK_INCLUDE:-}}
if [ -z "$headers" ]; then
  echo "check_aws_sdk_adapter: no aws-sdk-cpp headers given: pass HEADERS_DIR or set" \
       "XRAY_AWS_SDK_INCLUDE (the include directory of an aws-sdk-cpp 1.11 installation)" >&2
  exit 2
fi
missing=()
for header in aws/core/VersionConfig.h aws/core/SDKConfig.h aws/core/monitoring/MonitoringInterface.h \
              aws/core/utils/threading/Executor.h aws/crt/Config.h aws/common/config.h; do
  [ -f "$headers/$header" ] || missing+=("$header")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_aws_sdk_adapter: $headers is not an aws-sdk-cpp include directory; missing:" \
       "${missing[*]}" >&2
  exit 2
fi
version=$(sed -n 's/^#define AWS_SDK_VERSION_STRING "\(.*\)"/\1/p' "$headers/aws/core/VersionConfig.h")
echo "check_aws_sdk_adapter: aws-sdk-cpp ${version:-(unknown version)} headers in $headers"

cxx=${CXX:-g++}
# The adapter's own flags (cmake/XRayWarnings.cmake); the SDK's headers are system headers, so
# their warnings are theirs.
flags=(-std=c++17 -fsyntax-only -Wall -Wextra -Wpedantic -Werror
       -Iinclude -Iintegrations -Isrc -isystem "$headers")
# shellcheck disable=SC2206  # CXXFLAGS is a list of flags
flags+=(${CXXFLAGS:-})

# The banner of xray/aws_sdk.hpp, as a consumer writes it.
usage=$(mktemp --suffix=.cpp)
trap 'rm -f "$usage"' EXIT
cat >"$usage" <<'EOF'
#include "xray/aws_sdk.hpp"

#include <aws/core/Aws.h>
#include <aws/core/client/ClientConfiguration.h>

#include <memory>

int main() {
  Aws::SDKOptions options;
  options.monitoringOptions.customizedMonitoringFactory_create_fn.push_back(
      xray::aws_sdk::monitoring_factory());
  xray::aws_sdk::MonitoringOptions with_bodies;
  with_bodies.read_response_body = true;
  options.monitoringOptions.customizedMonitoringFactory_create_fn.push_back(
      xray::aws_sdk::monitoring_factory(with_bodies));
  Aws::InitAPI(options);
  {
    Aws::Client::ClientConfiguration config;
    config.executor = std::make_shared<xray::aws_sdk::ContextPropagatingExecutor>(config.executor);
  }
  Aws::ShutdownAPI(options);
}
EOF

failed=0
for source in integrations/awssdk/*.cpp "$usage"; do
  name=$source
  [ "$source" = "$usage" ] && name="the usage in include/xray/aws_sdk.hpp"
  if "$cxx" "${flags[@]}" "$source"; then
    echo "ok: $name"
  else
    echo "FAILED: $name" >&2
    failed=1
  fi
done
exit $failed
