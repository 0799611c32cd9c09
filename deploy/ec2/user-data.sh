#!/bin/bash
# EC2 user data (Amazon Linux 2023; any systemd distribution with curl, unzip and the AWS CLI):
# installs the AWS X-Ray daemon and examples/helloworld, each as a systemd service, and starts both.
#
# The instance needs the profile of instance-role.yaml (AWSXRayDaemonWriteAccess, and read access
# to the bundle). Set ARTIFACT_URI to the bundle made as README.md shows: a .tar.gz with
# helloworld, helloworld.service, helloworld.env and xray-daemon.service at its top level.
set -euo pipefail
ARTIFACT_URI="s3://REPLACE-WITH-YOUR-BUCKET/helloworld/helloworld.tar.gz"
DAEMON_VERSION="3.x"   # the latest 3.x release; pin one (e.g. 3.3.12) for repeatable instances

# The region and architecture of this instance (IMDSv2).
token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
region=$(curl -sf -H "X-aws-ec2-metadata-token: $token" \
  http://169.254.169.254/latest/meta-data/placement/region)
case "$(uname -m)" in
  aarch64) flavour=linux-arm64 ;;
  *) flavour=linux ;;
esac

# 1. The daemon: the binary from the X-Ray assets bucket of this region.
command -v unzip >/dev/null || { dnf install -y unzip || apt-get install -y unzip; }
work=$(mktemp -d)
curl -sfo "$work/xray.zip" \
  "https://s3.${region}.amazonaws.com/aws-xray-assets.${region}/xray-daemon/aws-xray-daemon-${flavour}-${DAEMON_VERSION}.zip"
unzip -o -q "$work/xray.zip" -d "$work/xray"
install -m 0755 "$work/xray/xray" /usr/local/bin/xray
id xray >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin xray

# 2. The service and the units, from the bundle.
aws s3 cp --region "$region" "$ARTIFACT_URI" "$work/bundle.tar.gz"
mkdir -p "$work/bundle" /opt/helloworld /etc/helloworld
tar -xzf "$work/bundle.tar.gz" -C "$work/bundle"
install -m 0755 "$work/bundle/helloworld" /opt/helloworld/helloworld
install -m 0644 "$work/bundle/helloworld.env" /etc/helloworld/helloworld.env
install -m 0644 "$work/bundle/xray-daemon.service" /etc/systemd/system/xray-daemon.service
install -m 0644 "$work/bundle/helloworld.service" /etc/systemd/system/helloworld.service
id helloworld >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin helloworld
rm -rf "$work"

# 3. Start both; the daemon first, though the service does not depend on it being up.
systemctl daemon-reload
systemctl enable --now xray-daemon.service
systemctl enable --now helloworld.service
