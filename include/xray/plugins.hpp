// xray/plugins.hpp: the EC2, ECS, EKS and Elastic Beanstalk plugins.
//
//   config.plugins = {xray::plugins::ec2(), xray::plugins::ecs()};
//
// Each plugin detects its environment once, on the recorder's background thread, within the budget
// of `config.plugin_budget` (1 s): `configure()` never waits for it. Segments sent after detection
// carry `aws.ec2`, `aws.ecs`, `aws.eks` or `aws.elastic_beanstalk` and the most specific `origin`.
// A plugin that is not in its environment, fails or runs out of time contributes nothing.
//
// Every endpoint and path can be overridden (the defaults follow the environment variables listed
// for each plugin), so tests point them at loopback servers and temporary files.
//
// Thread safety: plugin objects are immutable and may be shared by several recorders.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "xray/export.hpp"
#include "xray/plugin.hpp"

namespace xray::plugins {

// Instance metadata (IMDSv2, falling back to IMDSv1): instance_id, instance_size, ami_id,
// availability_zone. Environment: IMDS_ENDPOINT (host[:port], default 169.254.169.254),
// AWS_EC2_METADATA_DISABLED=true skips it.
struct Ec2Options {
  std::string endpoint;  // empty: IMDS_ENDPOINT or 169.254.169.254
  std::chrono::milliseconds connect_timeout{100};
};
XRAY_EXPORT std::shared_ptr<const Plugin> ec2(Ec2Options options = {});

// Task metadata endpoint v4 (v3 fallback): container, container_id, container_arn, task_arn,
// task_family, cluster_arn, launch_type, availability_zone, and cloudwatch_logs for awslogs.
// Environment: ECS_CONTAINER_METADATA_URI_V4, else ECS_CONTAINER_METADATA_URI.
struct EcsOptions {
  std::string metadata_uri;  // empty: from the environment
  std::string cgroup_path = "/proc/self/cgroup";
  std::string mountinfo_path = "/proc/self/mountinfo";
  std::string hostname;  // empty: gethostname()
  std::chrono::milliseconds connect_timeout{100};
};
XRAY_EXPORT std::shared_ptr<const Plugin> ecs(EcsOptions options = {});

// Enabled by the service-account token file: pod, container_id, cluster_name (from
// AWS_XRAY_EKS_CLUSTER_NAME, else the amazon-cloudwatch/cluster-info config map read from the API
// server at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT over verified TLS).
struct EksOptions {
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string cluster_name;  // empty: AWS_XRAY_EKS_CLUSTER_NAME, else the config map
  std::string api_server_url;  // empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
  std::string cgroup_path = "/proc/self/cgroup";
  std::string mountinfo_path = "/proc/self/mountinfo";
  std::string hostname;  // empty: gethostname()
  std::chrono::milliseconds connect_timeout{100};
};
XRAY_EXPORT std::shared_ptr<const Plugin> eks(EksOptions options = {});

// /var/elasticbeanstalk/xray/environment.conf: environment_name, version_label, deployment_id.
struct ElasticBeanstalkOptions {
  std::string config_path = "/var/elasticbeanstalk/xray/environment.conf";
};
XRAY_EXPORT std::shared_ptr<const Plugin> elastic_beanstalk(ElasticBeanstalkOptions options = {});

}  // namespace xray::plugins
