#!/usr/bin/env node
// Checks deploy/ (the deployment files of every platform) and docs/walkthrough.md:
//   1. every file parses: JSON, YAML (CloudFormation short-form tags such as !Ref, !Sub, !GetAtt
//      included), shell (bash -n), JavaScript (compiled, not run), systemd units and env files;
//   2. CloudFormation templates pass cfn-lint (see README.md: the npm cfn-lint 1.9.7 validator, run
//      against the CloudFormation resource specification of @aws-cdk/cfnspec instead of the 2019
//      one it bundles);
//   3. Kubernetes manifests use only built-in kinds and validate against the Kubernetes schemas of
//      kubernetes-models, and have no field those schemas do not define (kubectl's strict mode);
//   4. the facts that must agree with the SDK: every environment variable named AWS_XRAY_* (and
//      the plugins' ones) is one the SDK reads (taken from src/, plugins/, include/ here), every
//      AWS_XRAY_DAEMON_ADDRESS value follows spec §1.3 and reaches a daemon that listens on UDP
//      2000 where the value says, the Envoy and Collector settings, the plugins' file paths;
//   5. relative links of the READMEs and the walkthrough lead to existing files.
// Usage: node check.js [--root DIR]  (DIR: a repository root; default: this repository)
//        node check.js --negative     (breaks copies of deploy/ on purpose: each must fail)
// Prints one line per check and "N passed, N failed"; exits 1 on any failure.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');
const { execFileSync } = require('child_process');

const HERE = __dirname;
const REPO = path.resolve(HERE, '../..');

function requireTools() {
  try {
    return {
      yaml: require('js-yaml'),
      cfnApi: loadCfnLint(),
    };
  } catch (e) {
    console.error(`deploy checks: npm tools missing (${e.message.split('\n')[0]});` +
                  ' run: npm ci --prefix tests/deploy (scripts/test.sh does)');
    process.exit(process.env.XRAY_REQUIRE_DEPLOY_TOOLS ? 1 : 77);
  }
}

// cfn-lint 1.9.7 reads data/aws_resources_specification.json (CloudFormation resource
// specification 2.29.0, March 2019): properties added since (Lambda Architectures, ...) would be
// reported as invalid. Give it the specification @aws-cdk/cfnspec ships instead (same format).
function loadCfnLint() {
  const specPath = require.resolve('cfn-lint/data/aws_resources_specification.json');
  const spec = require('@aws-cdk/cfnspec/spec/specification.json');
  require.cache[specPath] = { id: specPath, filename: specPath, loaded: true, exports: spec };
  // Every validation deep-merges the whole specification (merge-options) to add one `<Type>.Tag`
  // alias per resource type: 150 ms a template. Adding those keys directly is the same result.
  const resourcesSpec = require('cfn-lint/lib/resourcesSpec');
  const awsData = require('cfn-lint/lib/awsData');
  const extend = resourcesSpec.extendSpecification;
  resourcesSpec.extendSpecification = (extra) => {
    const keys = Object.keys(extra);
    if (keys.length !== 1 || keys[0] !== 'PropertyTypes') return extend(extra);
    Object.assign(awsData.awsResources.PropertyTypes, extra.PropertyTypes);
    return undefined;
  };
  const api = require('cfn-lint/lib/api');
  api.specificationVersion = spec.ResourceSpecificationVersion;
  return api;
}

// ---------------------------------------------------------------------------------------------
// YAML with CloudFormation's short-form tags: !Ref x -> {Ref: x}, !GetAtt a.b -> {Fn::GetAtt: [a, b]}.
function cfnSchema(yaml) {
  const functions = ['Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join',
                     'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or',
                     'Condition', 'Ref'];
  const types = [];
  for (const name of functions) {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    for (const kind of ['scalar', 'sequence', 'mapping']) {
      types.push(new yaml.Type(`!${name}`, {
        kind,
        construct: (data) => {
          if (name === 'GetAtt' && typeof data === 'string') {
            const dot = data.indexOf('.');
            return { [key]: [data.slice(0, dot), data.slice(dot + 1)] };
          }
          return { [key]: data };
        },
      }));
    }
  }
  return yaml.DEFAULT_SCHEMA.extend(types);
}

// ---------------------------------------------------------------------------------------------
// Spec §1.3, the daemon address grammar. Returns {udp: {host, port}, tcp: {...}} or throws.
function parseEndpoint(text) {
  const m = /^(\[[^\]]*\]|[^:\[\]]*):([0-9]{1,5})$/.exec(text);
  if (!m) throw new Error(`not host:port: "${text}"`);
  let host = m[1];
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`port out of range: "${text}"`);
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw new Error(`not an IPv6 address: "${text}"`);
  } else if (/^[0-9.]+$/.test(host)) {
    const parts = host.split('.');
    if (parts.length !== 4 || parts.some((p) => p === '' || Number(p) > 255 || p.length > 3)) {
      throw new Error(`not an IPv4 address: "${text}"`);
    }
  } else if (!/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    throw new Error(`not a host name (RFC 1123): "${text}"`);
  }
  return { host, port };
}

function isIPv6(text) {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || (text.match(/::/g) || []).length > 1) return false;
  let groups = text.split(':');
  if (text.includes('.')) {
    const v4 = groups.pop().split('.');
    if (v4.length !== 4 || v4.some((p) => p === '' || Number(p) > 255)) return false;
    groups.push('0', '0');
  }
  if (text.includes('::')) return groups.filter((g) => g !== '').length <= 7 &&
                                   groups.every((g) => g.length <= 4);
  return groups.length === 8 && groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g));
}

function parseDaemonAddress(value) {
  const text = value.trim();
  if (text === '') throw new Error('empty');
  const parts = text.split(/[ \t]+/);
  if (parts.length === 1) {
    if (/^(udp|tcp):/.test(text)) throw new Error(`"${text}": a prefixed endpoint needs its pair`);
    const endpoint = parseEndpoint(text);
    return { udp: endpoint, tcp: endpoint };
  }
  if (parts.length !== 2) throw new Error(`"${text}": at most two endpoints`);
  const result = {};
  for (const part of parts) {
    const m = /^(udp|tcp):(.*)$/.exec(part);
    if (!m) throw new Error(`"${text}": both endpoints need udp: / tcp:`);
    if (result[m[1]]) throw new Error(`"${text}": ${m[1]} twice`);
    result[m[1]] = parseEndpoint(m[2]);
  }
  return result;
}

// Spec §1.3 conformance vectors: the checker's parser must agree with the SDK's.
const ADDRESS_VECTORS = {
  valid: ['127.0.0.1:2000', '192.168.0.1:3000', 'localhost:2000', 'tcp:127.0.0.1:5000 udp:127.0.0.1:4000',
          'udp:127.0.0.2:2001 tcp:127.0.0.1:2000', 'tcp:localhost:2000 udp:localhost:2000',
          'XYZ:2000', 'udp:127.0.0.2:2001 tcp:127.0.a.1:2000', '[::1]:2000',
          'udp:[::1]:2000 tcp:[::1]:2001', ' 127.0.0.1:2000 '],
  invalid: ['udp:127.0.0.2:2001 udp:127.0.0.1:2000', 'tcp:localhost:2000 tcp:localhost:2000',
            'udp:1.2.1:2a tcp:127.0.0.1:2000', 'localhost:', 'udp:127.0.0.2:2001', 'tcp:192.168.0.1:3000',
            '192.168.0.1', ':8000', '8000', '127.0.0.2:8080 192.168.0.1:3000',
            'udp:127.0.0.2:8080 192.168.0.1:3000', '::1:2000', '[::1]', '1.2.1:2000', 'host:0',
            'host:65536', 'udp:h:1 tcp:h:2 x:h:3', ''],
};

// ---------------------------------------------------------------------------------------------
// What the SDK reads, from its source: the environment variables and the plugins' file paths.
function sdkFacts(root) {
  const names = new Set();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(cpp|hpp|h)$/.test(entry.name)) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\b(?:getenv|environment|read)\("([A-Z_][A-Z0-9_]*)"\)/g)) {
          names.add(m[1]);
        }
      }
    }
  };
  for (const dir of ['src', 'plugins', 'include']) walk(path.join(root, dir));
  const pluginsHeader = fs.readFileSync(path.join(root, 'include/xray/plugins.hpp'), 'utf8');
  const pathOf = (field) => {
    const m = new RegExp(`${field}\\s*=\\s*"([^"]+)"`).exec(pluginsHeader);
    if (!m) throw new Error(`include/xray/plugins.hpp: no default for ${field}`);
    return m[1];
  };
  return {
    env: names,
    beanstalkConf: pathOf('config_path'),
    eksToken: pathOf('token_path'),
  };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes: built-in kinds only, schema-valid, and no field the schema does not define.
function k8sModel(doc) {
  if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    throw new Error('no apiVersion/kind');
  }
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : [null, doc.apiVersion];
  const rel = `${group ? `${group}/` : ''}${version}/${doc.kind}`;
  let file;
  try {
    file = require.resolve(`kubernetes-models/${rel}`);
  } catch (e) {
    throw new Error(`${doc.apiVersion} ${doc.kind} is not a built-in Kubernetes kind`);
  }
  return { Model: require(file)[doc.kind], dts: file.replace(/\.js$/, '.d.ts') };
}

const interfaceCache = new Map();
function readInterface(dtsFile) {
  if (interfaceCache.has(dtsFile)) return interfaceCache.get(dtsFile);
  let result = null;
  if (fs.existsSync(dtsFile)) {
    const text = fs.readFileSync(dtsFile, 'utf8');
    const imports = {};
    for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
      const spec = m[2].startsWith('.') ? path.resolve(path.dirname(dtsFile), m[2])
                                        : path.join(HERE, 'node_modules', m[2]);
      imports[m[1]] = `${spec}.d.ts`;
    }
    const body = /export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)\n\}/.exec(text);
    if (body) {
      const props = {};
      // `"name"?: Type;` on one line; a map (`{ [key: string]: ... }`) spans lines: its keys are free.
      for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
        const ref = m[2].endsWith(';') && /(II\w+)/.exec(m[2]);
        props[m[1]] = ref && imports[ref[1]] ? imports[ref[1]] : null;
      }
      result = props;
    }
  }
  interfaceCache.set(dtsFile, result);
  return result;
}

function unknownFields(value, dtsFile, where, out) {
  const props = readInterface(dtsFile);
  if (!props || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, dtsFile, `${where}[${i}]`, out));
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!(key in props)) {
      out.push(`${where}.${key}: no such field`);
    } else if (props[key]) {
      unknownFields(child, props[key], `${where}.${key}`, out);
    }
  }
}

// ---------------------------------------------------------------------------------------------
function listFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

function run(root, tools, { quiet = false } = {}) {
  const { yaml, cfnApi } = tools;
  const schema = cfnSchema(yaml);
  const results = [];
  const check = (name, fn) => {
    try {
      const problems = fn() || [];
      results.push({ name, problems });
    } catch (e) {
      results.push({ name, problems: [e.message] });
    }
  };
  const deploy = path.join(root, 'deploy');
  const rel = (p) => path.relative(root, p);
  const files = listFiles(deploy);
  const parsed = new Map(); // file -> list of documents

  // 1. Everything parses.
  for (const file of files) {
    const base = path.basename(file);
    check(`parses: ${rel(file)}`, () => {
      const text = fs.readFileSync(file, 'utf8');
      if (base.endsWith('.json')) parsed.set(file, [JSON.parse(text)]);
      else if (/\.(ya?ml|config)$/.test(base)) {
        parsed.set(file, yaml.loadAll(text, null, { schema, filename: file }).filter((d) => d != null));
      } else if (base.endsWith('.sh')) execFileSync('bash', ['-n', file], { stdio: 'pipe' });
      else if (base.endsWith('.js')) new vm.Script(text, { filename: file }); // compiles, never runs
      else if (base.endsWith('.service')) parsed.set(file, [parseUnit(text)]);
      else if (base.endsWith('.env')) parsed.set(file, [parseEnvFile(text)]);
      else if (base === 'Procfile') {
        if (!/^web: \S/m.test(text)) throw new Error('no "web:" process');
      } else if (base === 'Dockerfile') {
        if (!/^FROM /m.test(text)) throw new Error('no FROM');
      } else if (!base.endsWith('.md')) throw new Error('unknown kind of file: add a check for it');
      return [];
    });
  }
  const docsOf = (file) => parsed.get(file) || [];
  const isCfn = (doc) => doc && typeof doc === 'object' && doc.Resources &&
                         (doc.AWSTemplateFormatVersion || Object.values(doc.Resources).some((r) => r && r.Type));
  const isK8s = (doc) => doc && typeof doc === 'object' && 'apiVersion' in doc && 'kind' in doc;

  // 2. CloudFormation templates: cfn-lint.
  const templates = files.filter((f) => docsOf(f).some(isCfn));
  for (const file of templates) {
    check(`cfn-lint: ${rel(file)}`, () => {
      const result = cfnApi.validateFile(file);
      const problems = [...result.errors.crit, ...result.errors.warn]
        .map((e) => `${e.resource}: ${e.message}`);
      if (!result.templateValid && problems.length === 0) problems.push('template not valid');
      return problems;
    });
  }

  // 3. Kubernetes manifests.
  for (const file of files) {
    docsOf(file).filter(isK8s).forEach((doc, i) => {
      check(`kubernetes: ${rel(file)} #${i + 1} ${doc.kind} ${doc.metadata && doc.metadata.name}`, () => {
        const { Model, dts } = k8sModel(doc);
        const problems = [];
        try {
          new Model(doc).validate();
        } catch (e) {
          problems.push(e.message);
        }
        unknownFields(doc, dts, doc.kind, problems);
        return problems;
      });
    });
  }

  // 4. Facts that must agree with the SDK.
  const facts = sdkFacts(root);
  check('daemon address parser agrees with spec §1.3 vectors', () => {
    const problems = [];
    for (const v of ADDRESS_VECTORS.valid) {
      try { parseDaemonAddress(v); } catch (e) { problems.push(`valid "${v}" rejected: ${e.message}`); }
    }
    for (const v of ADDRESS_VECTORS.invalid) {
      let ok = true;
      try { parseDaemonAddress(v); } catch (e) { ok = false; }
      if (ok) problems.push(`invalid "${v}" accepted`);
    }
    return problems;
  });
  check('the SDK reads the variables the files rely on', () => {
    const needed = ['AWS_XRAY_DAEMON_ADDRESS', 'AWS_XRAY_TRACING_NAME', 'AWS_XRAY_CONTEXT_MISSING',
                    'AWS_XRAY_LOG_LEVEL', 'AWS_XRAY_EKS_CLUSTER_NAME', 'ECS_CONTAINER_METADATA_URI_V4'];
    return needed.filter((n) => !facts.env.has(n)).map((n) => `${n}: not read in src/, plugins/ or include/`);
  });

  const envs = collectEnv(files, docsOf, rel);
  check('environment variable names', () => {
    const sdkPrefixed = /^(AWS_XRAY_|XRAY_SDK|AWS_EC2_METADATA|IMDS_|ECS_CONTAINER_METADATA)/;
    const problems = envs.filter((e) => sdkPrefixed.test(e.name) && !facts.env.has(e.name))
      .map((e) => `${e.where}: ${e.name} is not a variable the SDK reads`);
    if (!envs.some((e) => e.name === 'AWS_XRAY_DAEMON_ADDRESS')) problems.push('no AWS_XRAY_DAEMON_ADDRESS anywhere');
    // The prose too: every AWS_XRAY_* a README or the walkthrough names.
    for (const file of [...files.filter((f) => f.endsWith('.md')), path.join(root, 'docs/walkthrough.md')]) {
      if (!fs.existsSync(file)) continue;
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\b(AWS_XRAY_[A-Z0-9_]*[A-Z0-9])\b/g)) {
        if (!facts.env.has(m[1])) problems.push(`${rel(file)}: ${m[1]} is not a variable the SDK reads`);
      }
    }
    return problems;
  });
  check('AWS_XRAY_DAEMON_ADDRESS values (spec §1.3, port 2000)', () => {
    const problems = [];
    for (const e of envs.filter((x) => x.name === 'AWS_XRAY_DAEMON_ADDRESS')) {
      for (const value of e.values) {
        // Kubernetes dependent variables: $(HOST_IP) must be defined earlier in the same list.
        const expanded = String(value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name) => {
          const source = e.earlier.get(name);
          if (source === undefined) {
            problems.push(`${e.where}: $(${name}) is not defined before AWS_XRAY_DAEMON_ADDRESS`);
            return 'unresolved';
          }
          return source === 'status.hostIP' ? '10.0.0.1' : String(source);
        });
        try {
          const address = parseDaemonAddress(expanded);
          for (const proto of ['udp', 'tcp']) {
            if (address[proto].port !== 2000) problems.push(`${e.where}: "${value}" ${proto} port is not 2000`);
          }
          e.address = e.address || [];
          e.address.push(address);
        } catch (err) {
          problems.push(`${e.where}: "${value}": ${err.message}`);
        }
      }
    }
    return problems;
  });
  check('daemon containers listen on 2000/udp', () => daemonPortProblems(files, docsOf, rel));
  check('ECS: each address reaches the daemon container (awsvpc: 127.0.0.1; bridge: a link)',
        () => ecsReachability(files, docsOf, rel));
  check('EKS: hostPort and Service forms reach the DaemonSet', () => eksReachability(files, docsOf, rel, envs));
  check('EKS plugin: cluster-name variable and service-account token', () => {
    const problems = [];
    const deployments = files.filter((f) => rel(f).startsWith('deploy/eks/'))
      .flatMap((f) => docsOf(f).filter((d) => isK8s(d) && d.kind === 'Deployment'));
    if (deployments.length === 0) problems.push('no Deployment in deploy/eks');
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      if (pod.automountServiceAccountToken === false) problems.push(`${d.metadata.name}: token not mounted (${facts.eksToken})`);
      for (const c of pod.containers) {
        if (!(c.env || []).some((v) => v.name === 'AWS_XRAY_EKS_CLUSTER_NAME')) {
          problems.push(`${d.metadata.name}/${c.name}: no AWS_XRAY_EKS_CLUSTER_NAME`);
        }
      }
    }
    return problems;
  });
  check('Elastic Beanstalk: daemon on, environment.conf where the plugin reads it', () => {
    const problems = [];
    const eb = files.filter((f) => rel(f).startsWith('deploy/elastic-beanstalk/'));
    const al = eb.find((f) => rel(f) === 'deploy/elastic-beanstalk/amazon-linux/.ebextensions/xray.config');
    const settings = al && docsOf(al)[0] && docsOf(al)[0].option_settings;
    if (!settings || !settings['aws:elasticbeanstalk:xray'] ||
        settings['aws:elasticbeanstalk:xray'].XRayEnabled !== true) {
      problems.push('amazon-linux: aws:elasticbeanstalk:xray XRayEnabled is not true');
    }
    const compose = eb.find((f) => f.endsWith('docker-compose.yml'));
    const services = compose && docsOf(compose)[0] && docsOf(compose)[0].services;
    if (!services) return problems.concat('docker: no docker-compose.yml services');
    const dir = path.dirname(facts.beanstalkConf);
    const app = services.helloworld || {};
    if (!(app.volumes || []).some((v) => String(v).split(':')[1] === dir)) {
      problems.push(`docker: ${dir} is not mounted into the service`);
    }
    const readme = fs.readFileSync(path.join(deploy, 'elastic-beanstalk/README.md'), 'utf8');
    if (!readme.includes(facts.beanstalkConf)) problems.push(`README does not name ${facts.beanstalkConf}`);
    return problems;
  });
  check('Lambda: provided.al2023, active tracing, X-Ray permissions', () => {
    const file = path.join(deploy, 'lambda/template.yaml');
    const doc = docsOf(file)[0];
    const problems = [];
    const fns = Object.values(doc.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    if (fns.length !== 1) return ['expected one AWS::Lambda::Function'];
    const p = fns[0].Properties;
    if (p.Runtime !== 'provided.al2023') problems.push(`Runtime ${p.Runtime}`);
    if (p.Handler !== 'bootstrap') problems.push(`Handler ${p.Handler}`);
    if (!p.TracingConfig || p.TracingConfig.Mode !== 'Active') problems.push('TracingConfig.Mode is not Active');
    const vars = (p.Environment && p.Environment.Variables) || {};
    for (const name of ['AWS_XRAY_DAEMON_ADDRESS', 'AWS_XRAY_CONTEXT_MISSING', '_X_AMZN_TRACE_ID']) {
      if (name in vars) problems.push(`${name} is Lambda's to set`);
    }
    if (!JSON.stringify(doc).includes('AWSXRayDaemonWriteAccess')) problems.push('no AWSXRayDaemonWriteAccess');
    return problems;
  });
  check('IAM: the daemon roles have AWSXRayDaemonWriteAccess', () => {
    const problems = [];
    for (const file of templates) {
      const roles = Object.entries(docsOf(file)[0].Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
      const name = rel(file);
      const wanted = name.includes('/ec2/') ? 'InstanceRole' : name.includes('/ecs/') ? 'TaskRole' : null;
      if (!wanted) continue;
      const role = roles.find(([id]) => id === wanted);
      if (!role || !JSON.stringify(role[1]).includes('policy/AWSXRayDaemonWriteAccess')) {
        problems.push(`${name}: ${wanted} without AWSXRayDaemonWriteAccess`);
      }
    }
    return problems;
  });
  check('EC2: units, environment file and user data agree', () => {
    const ec2 = path.join(deploy, 'ec2');
    const daemon = docsOf(path.join(ec2, 'xray-daemon.service'))[0];
    const service = docsOf(path.join(ec2, 'helloworld.service'))[0];
    const env = docsOf(path.join(ec2, 'helloworld.env'))[0];
    const userData = fs.readFileSync(path.join(ec2, 'user-data.sh'), 'utf8');
    const problems = [];
    const exec = daemon.Service.ExecStart || '';
    const bind = /--bind (\S+)/.exec(exec);
    if (!bind) problems.push('xray-daemon.service: no --bind');
    else if (env.AWS_XRAY_DAEMON_ADDRESS !== bind[1]) {
      problems.push(`helloworld.env sends to ${env.AWS_XRAY_DAEMON_ADDRESS}, the daemon binds ${bind[1]}`);
    }
    const envFile = service.Service.EnvironmentFile;
    if (!userData.includes(envFile)) problems.push(`user-data.sh does not install ${envFile}`);
    for (const unit of ['xray-daemon.service', 'helloworld.service']) {
      if (!userData.includes(`enable --now ${unit}`)) problems.push(`user-data.sh does not start ${unit}`);
    }
    if (!/\/usr\/local\/bin\/xray\b/.test(exec) || !userData.includes('/usr/local/bin/xray')) {
      problems.push('the daemon unit and user data disagree on /usr/local/bin/xray');
    }
    return problems;
  });
  check('App Mesh: Envoy X-Ray settings and the daemon port', () => {
    const doc = docsOf(path.join(deploy, 'app-mesh/task-definition.json'))[0];
    const envoy = doc.containerDefinitions.find((c) => /aws-appmesh-envoy/.test(c.image));
    if (!envoy) return ['no App Mesh Envoy container'];
    const vars = Object.fromEntries((envoy.environment || []).map((v) => [v.name, v.value]));
    const problems = [];
    if (vars.ENABLE_ENVOY_XRAY_TRACING !== '1') problems.push('Envoy: ENABLE_ENVOY_XRAY_TRACING is not "1"');
    if (vars.XRAY_DAEMON_PORT !== '2000') problems.push('Envoy: XRAY_DAEMON_PORT is not "2000"');
    const values = docsOf(path.join(deploy, 'app-mesh/appmesh-controller-values.yaml'))[0];
    if (!values || !values.tracing || values.tracing.enabled !== true || values.tracing.provider !== 'x-ray' ||
        values.tracing.port !== 2000) {
      problems.push('appmesh-controller-values.yaml: tracing x-ray on port 2000 not set');
    }
    return problems;
  });
  check('OpenTelemetry Collector: awsxray receiver on 2000/udp, awsxray exporter, pipeline', () => {
    const doc = docsOf(path.join(deploy, 'otel-collector/collector.yaml'))[0];
    const problems = [];
    const receiver = doc.receivers && doc.receivers.awsxray;
    if (!receiver) return ['no awsxray receiver'];
    if (receiver.transport !== 'udp') problems.push('receiver transport is not udp');
    if (parseEndpoint(receiver.endpoint).port !== 2000) problems.push('receiver is not on port 2000');
    if (!receiver.proxy_server || parseEndpoint(receiver.proxy_server.endpoint).port !== 2000) {
      problems.push('no sampling proxy on TCP 2000');
    }
    if (!doc.exporters || !('awsxray' in doc.exporters)) problems.push('no awsxray exporter');
    const pipeline = doc.service && doc.service.pipelines && doc.service.pipelines.traces;
    if (!pipeline) return problems.concat('no traces pipeline');
    for (const [kind, list] of [['receivers', pipeline.receivers], ['processors', pipeline.processors || []],
                                ['exporters', pipeline.exporters]]) {
      for (const name of list) if (!doc[kind] || !(name in doc[kind])) problems.push(`pipeline ${kind}: ${name} undefined`);
    }
    if (!pipeline.receivers.includes('awsxray') || !pipeline.exporters.includes('awsxray')) {
      problems.push('the traces pipeline does not go from awsxray to awsxray');
    }
    return problems;
  });

  // 5. Links.
  const docs = files.filter((f) => f.endsWith('.md'));
  docs.push(path.join(root, 'docs/walkthrough.md'));
  check('relative links of deploy/**/README.md and docs/walkthrough.md', () => {
    const problems = [];
    for (const file of docs) {
      if (!fs.existsSync(file)) { problems.push(`${rel(file)}: missing`); continue; }
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        if (!target || /^[a-z]+:/.test(target)) continue;
        if (!fs.existsSync(path.resolve(path.dirname(file), target))) problems.push(`${rel(file)}: ${m[1]}`);
      }
    }
    for (const dir of fs.readdirSync(deploy, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      if (!fs.existsSync(path.join(deploy, dir.name, 'README.md'))) problems.push(`deploy/${dir.name}: no README.md`);
    }
    return problems;
  });

  let failed = 0;
  for (const r of results) {
    if (r.problems.length) failed++;
    if (!quiet) {
      console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${r.name}`);
      for (const p of r.problems) console.log(`       ${p}`);
    }
  }
  return { passed: results.length - failed, failed, results };
}

// systemd unit: [Section] then key=value lines.
function parseUnit(text) {
  const unit = {};
  let section = null;
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const s = /^\[([A-Za-z]+)\]$/.exec(t);
    if (s) { section = unit[s[1]] = unit[s[1]] || {}; return; }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(t);
    if (!kv || !section) throw new Error(`line ${i + 1}: not "Key=value" in a section`);
    section[kv[1]] = kv[2];
  });
  for (const needed of ['Unit', 'Service', 'Install']) if (!unit[needed]) throw new Error(`no [${needed}]`);
  if (!unit.Service.ExecStart) throw new Error('no ExecStart');
  return unit;
}

function parseEnvFile(text) {
  const env = {};
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    if (!kv) throw new Error(`line ${i + 1}: not NAME=value`);
    env[kv[1]] = kv[2];
  });
  return env;
}

// Every environment variable the files set: ECS (environment [{name, value}]), Kubernetes (env
// [{name, value|valueFrom}]), CloudFormation (Environment [{Name, Value}], Variables {...}),
// option_settings, compose environment, env files. Values under Fn::If count once per branch.
function collectEnv(files, docsOf, rel) {
  const out = [];
  const branches = (v) => (v && typeof v === 'object' && v['Fn::If']) ? [v['Fn::If'][1], v['Fn::If'][2]] : [v];
  const visit = (node, where) => {
    if (Array.isArray(node)) { node.forEach((n, i) => visit(n, where)); return; }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'environment' || key === 'env' || key === 'Environment') && Array.isArray(value)) {
        const earlier = new Map();
        for (const item of value) {
          if (!item || typeof item !== 'object') continue;
          const name = item.name || item.Name;
          let values = [];
          if ('value' in item) values = [item.value];
          else if ('Value' in item) values = branches(item.Value);
          else if (item.valueFrom && item.valueFrom.fieldRef) earlier.set(name, item.valueFrom.fieldRef.fieldPath);
          if (name) out.push({ name, values, where, earlier: new Map(earlier) });
          if (name && values.length && !earlier.has(name)) earlier.set(name, values[0]);
        }
      } else if ((key === 'Variables' || key === 'aws:elasticbeanstalk:application:environment' ||
                  key === 'environment') && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [name, v] of Object.entries(value)) {
          out.push({ name, values: typeof v === 'string' ? [v] : [], where, earlier: new Map() });
        }
      } else {
        visit(value, where);
      }
    }
  };
  for (const file of files) {
    docsOf(file).forEach((doc) => {
      if (file.endsWith('.env')) {
        for (const [name, v] of Object.entries(doc)) out.push({ name, values: [v], where: rel(file), earlier: new Map() });
      } else {
        visit(doc, rel(file));
      }
    });
  }
  return out;
}

const isDaemonImage = (image) => typeof image === 'string' && /aws-xray-daemon/.test(image);

function daemonPortProblems(files, docsOf, rel) {
  const problems = [];
  let daemons = 0;
  for (const file of files) {
    for (const doc of docsOf(file)) {
      const walk = (node) => {
        if (Array.isArray(node)) { node.forEach(walk); return; }
        if (!node || typeof node !== 'object') return;
        const image = node.image || node.Image;
        if (isDaemonImage(image)) {
          daemons++;
          const ports = node.portMappings || node.PortMappings || node.ports || node.expose || [];
          const udp2000 = ports.some((p) => typeof p === 'string'
            ? p === '2000/udp'
            : (p.containerPort || p.ContainerPort) === 2000 && /^udp$/i.test(p.protocol || p.Protocol || ''));
          if (!udp2000) problems.push(`${rel(file)}: daemon container ${node.name || node.Name || ''} without 2000/udp`);
        }
        Object.values(node).forEach(walk);
      };
      walk(doc);
    }
  }
  if (daemons === 0) problems.push('no daemon container found');
  return problems;
}

function ecsReachability(files, docsOf, rel) {
  const problems = [];
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    const doc = docsOf(file)[0];
    if (!doc || !Array.isArray(doc.containerDefinitions)) continue;
    const daemon = doc.containerDefinitions.find((c) => isDaemonImage(c.image));
    for (const c of doc.containerDefinitions) {
      const entry = (c.environment || []).find((v) => v.name === 'AWS_XRAY_DAEMON_ADDRESS');
      if (!entry) continue;
      if (!daemon) { problems.push(`${rel(file)}: ${c.name} sends to a daemon the task does not run`); continue; }
      const { udp } = parseDaemonAddress(entry.value);
      if (doc.networkMode === 'awsvpc') {
        if (!['127.0.0.1', 'localhost'].includes(udp.host)) problems.push(`${rel(file)}: awsvpc ${c.name} sends to ${udp.host}`);
      } else if (doc.networkMode === 'bridge') {
        if (udp.host !== daemon.name) problems.push(`${rel(file)}: bridge ${c.name} sends to ${udp.host}, the daemon is ${daemon.name}`);
        if (!(c.links || []).some((l) => l.split(':').pop() === udp.host)) problems.push(`${rel(file)}: ${c.name} has no link to ${udp.host}`);
      } else {
        problems.push(`${rel(file)}: network mode ${doc.networkMode} not checked`);
      }
    }
  }
  return problems;
}

function eksReachability(files, docsOf, rel, envs) {
  const problems = [];
  const docs = files.filter((f) => rel(f).startsWith('deploy/eks/')).flatMap((f) => docsOf(f));
  const daemonSet = docs.find((d) => d.kind === 'DaemonSet');
  if (!daemonSet) return ['no DaemonSet'];
  const pod = daemonSet.spec.template;
  const container = pod.spec.containers.find((c) => isDaemonImage(c.image));
  const hostUdp = (container.ports || []).some((p) => p.hostPort === 2000 && p.protocol === 'UDP');
  const services = docs.filter((d) => d.kind === 'Service' && d.spec.selector &&
    Object.entries(d.spec.selector).every(([k, v]) => pod.metadata.labels[k] === v) &&
    d.spec.ports.some((p) => p.port === 2000 && p.protocol === 'UDP'));
  const namespace = daemonSet.metadata.namespace || 'default';
  const names = new Set(services.flatMap((s) => [s.metadata.name, `${s.metadata.name}.${namespace}`,
    `${s.metadata.name}.${namespace}.svc`, `${s.metadata.name}.${namespace}.svc.cluster.local`]));
  let hostForm = 0;
  let dnsForm = 0;
  for (const e of envs.filter((x) => x.name === 'AWS_XRAY_DAEMON_ADDRESS' && x.where.startsWith('deploy/eks/'))) {
    for (const value of e.values) {
      const host = String(value).replace(/:2000$/, '');
      const ref = /^\$\((\w+)\)$/.exec(host);
      if (ref && e.earlier.get(ref[1]) === 'status.hostIP') {
        hostForm++;
        if (!hostUdp) problems.push(`${e.where}: ${value}, but the daemon has no hostPort 2000/UDP`);
      } else if (names.has(host)) {
        dnsForm++;
      } else {
        problems.push(`${e.where}: ${value} is neither the node address nor the daemon's Service`);
      }
    }
  }
  if (!hostForm) problems.push('no Deployment uses the status.hostIP form');
  if (!dnsForm) problems.push('no Deployment uses the Service DNS form');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Negative test: each mutation of a copy of deploy/ must make at least one check fail, with the
// named check among the failures.
const MUTATIONS = [
  ['ECS daemon port 2001', 'deploy/ecs/task-definition-awsvpc.json', (s) => s.replace('"containerPort": 2000', '"containerPort": 2001'), 'daemon containers listen on 2000/udp'],
  ['misspelt variable in prose', 'docs/walkthrough.md', (s) => s.replace('`AWS_XRAY_LOG_LEVEL`', '`AWS_XRAY_LOGLEVEL`'), 'environment variable names'],
  ['misspelt variable', 'deploy/eks/helloworld.yaml', (s) => s.replace('name: AWS_XRAY_TRACING_NAME', 'name: AWS_XRAY_TRACE_NAME'), 'environment variable names'],
  ['address without port', 'deploy/ec2/helloworld.env', (s) => s.replace('AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000', 'AWS_XRAY_DAEMON_ADDRESS=127.0.0.1'), 'AWS_XRAY_DAEMON_ADDRESS values'],
  ['bridge without link', 'deploy/ecs/task-definition-bridge.json', (s) => s.replace('"links": ["xray-daemon"],', ''), 'ECS: each address'],
  ['unknown CloudFormation property', 'deploy/lambda/template.yaml', (s) => s.replace('      MemorySize: 256', '      MemorySize: 256\n      TraceMode: Active'), 'cfn-lint: deploy/lambda/template.yaml'],
  ['broken GetAtt', 'deploy/ecs/task-definition.yaml', (s) => s.replace('!GetAtt TaskRole.Arn', '!GetAtt TaskRole.Name'), 'cfn-lint: deploy/ecs/task-definition.yaml'],
  ['unknown Kubernetes field', 'deploy/eks/xray-daemon.yaml', (s) => s.replace('      serviceAccountName: xray-daemon', '      serviceAcountName: xray-daemon'), 'kubernetes: deploy/eks/xray-daemon.yaml'],
  ['custom resource kind', 'deploy/eks/cluster-info-rbac.yaml', (s) => s.replace('kind: Role\n', 'kind: VirtualNode\n'), 'kubernetes: deploy/eks/cluster-info-rbac.yaml'],
  ['YAML syntax', 'deploy/otel-collector/collector.yaml', (s) => s.replace('receivers:\n', 'receivers:\n  - [\n'), 'parses: deploy/otel-collector/collector.yaml'],
  ['hostIP used before defined', 'deploy/eks/helloworld.yaml', (s) => s.replace('value: $(HOST_IP):2000', 'value: $(NODE_IP):2000'), 'AWS_XRAY_DAEMON_ADDRESS values'],
  ['Envoy tracing off', 'deploy/app-mesh/task-definition.json', (s) => s.replace('"ENABLE_ENVOY_XRAY_TRACING", "value": "1"', '"ENABLE_ENVOY_XRAY_TRACING", "value": "0"'), 'App Mesh'],
  ['Lambda tracing PassThrough', 'deploy/lambda/template.yaml', (s) => s.replace('Mode: Active', 'Mode: PassThrough'), 'Lambda:'],
  ['broken link', 'deploy/ecs/README.md', (s) => `${s}\n[x](no-such-file.json)\n`, 'relative links'],
];

function negative(tools) {
  let passed = 0;
  let failed = 0;
  // The unbroken copy first: it must pass, so that each mutation's failure is its own.
  for (const [label, file, mutate, expected] of [['unbroken copy', null, null, null], ...MUTATIONS]) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-negative-'));
    try {
      // Copies of what a mutation may touch; links to what it only reads.
      for (const entry of ['deploy', 'docs']) {
        fs.cpSync(path.join(REPO, entry), path.join(root, entry), { recursive: true });
      }
      for (const entry of ['src', 'plugins', 'include', 'examples', 'README.md']) {
        fs.symlinkSync(path.join(REPO, entry), path.join(root, entry));
      }
      if (file) {
        const target = path.join(root, file);
        if (!fs.realpathSync(target).startsWith(fs.realpathSync(root) + path.sep)) {
          throw new Error(`${file} is not a copy: the mutation would change the repository`);
        }
        const before = fs.readFileSync(target, 'utf8');
        const after = mutate(before);
        if (after === before) throw new Error(`the mutation does not apply to ${file}`);
        fs.writeFileSync(target, after);
      }
      const result = run(root, tools, { quiet: true });
      const failing = result.results.filter((r) => r.problems.length);
      if (!file) {
        if (failing.length) throw new Error(`fails: ${failing.map((r) => r.name).join('; ')}`);
        console.log(`ok   negative: ${label} passes`);
      } else {
        const hit = failing.find((r) => r.name.startsWith(expected));
        if (!hit) throw new Error(`no failing check "${expected}"`);
        console.log(`ok   negative: ${label} is caught: ${hit.name}: ${hit.problems[0].split('\n')[0]}`);
      }
      passed++;
    } catch (e) {
      console.log(`FAIL negative: ${label}: ${e.message}`);
      failed++;
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  return { passed, failed };
}

function main() {
  const args = process.argv.slice(2);
  const tools = requireTools();
  const started = Date.now();
  let result;
  if (args[0] === '--negative') {
    result = negative(tools);
  } else {
    const root = args[0] === '--root' ? path.resolve(args[1]) : REPO;
    result = run(root, tools);
  }
  console.log(`deploy checks (cfn-lint with resource specification ${tools.cfnApi.specificationVersion}, ` +
              `${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed ? 1 : 0);
}

main();
