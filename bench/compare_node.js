// compare_node.js: the request of bench/request_bench.cpp on the official Node SDK
// (aws-xray-sdk-core), for bench/compare_node.sh, which installs the SDK and runs this file.
//
//   node compare_node.js receive <port-file>
//       A UDP receiver on 127.0.0.1 (port chosen by the OS, written to <port-file>) that reads and
//       discards every datagram; on SIGTERM it prints the number it read and exits.
//   node compare_node.js request <sdk-dir> <sampled 0|1> [min-ms-per-run] [runs]
//       The request: a segment from an upstream `Root=...;Sampled=<0|1>` header, three subsegments
//       with one string annotation each, all closed (a sampled segment is sent on close to
//       AWS_XRAY_DAEMON_ADDRESS). Prints `ns_per_request=<median of the runs>`, `requests=<all
//       made, warm-up included>` and the runs.
//
// As in request_bench, the upstream header is parsed once, outside the loop. Requests run in
// batches with the event loop turned between batches, so that the SDK's UDP sends (which complete
// on the event loop) are part of the time and do not pile up in memory.
'use strict';

const dgram = require('dgram');
const fs = require('fs');
const path = require('path');

const kUpstreamRoot = '1-5759e988-bd862e3fe1be46a994272793';
const kBatch = 500;

function receive(portFile) {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => { received += 1; });
  socket.on('error', (error) => {
    process.stderr.write(`receiver: ${error.message}\n`);
    process.exit(1);
  });
  socket.bind(0, '127.0.0.1', () => {
    try {
      socket.setRecvBufferSize(8 << 20);
    } catch (error) {  // capped by net.core.rmem_max: the default buffer still works
    }
    // Written under a temporary name and renamed, so the script never reads half a number.
    fs.writeFileSync(`${portFile}.tmp`, String(socket.address().port));
    fs.renameSync(`${portFile}.tmp`, portFile);
  });
  process.on('SIGTERM', () => {
    process.stdout.write(`received=${received}\n`);
    process.exit(0);
  });
}

function turnEventLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}

async function request(sdkDir, sampled, minMs, runs) {
  const AWSXRay = require(path.join(sdkDir, 'node_modules', 'aws-xray-sdk-core'));
  const { Segment } = AWSXRay;
  const upstream = AWSXRay.utils.processTraceData(`Root=${kUpstreamRoot};Sampled=${sampled}`);
  const notTraced = upstream.sampled === '0';
  const names = ['validate', 'query', 'render'];

  const one = () => {
    const segment = new Segment('request', upstream.root, upstream.parent);
    if (notTraced) segment.notTraced = true;  // what the SDK's middleware does for Sampled=0
    for (const name of names) {
      const subsegment = segment.addNewSubsegment(name);
      subsegment.addAnnotation('step', name);
      subsegment.close();
    }
    segment.close();
  };

  // One timed run: whole batches until at least minMs have passed.
  const run = async () => {
    let count = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(minMs) * 1000000n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < kBatch; i += 1) one();
      count += kBatch;
      await turnEventLoop();
      now = process.hrtime.bigint();
    }
    return { ns: Number(now - start) / count, count };
  };

  const warmUp = await run();  // the JIT compiles the request path
  const results = [];
  for (let i = 0; i < runs; i += 1) results.push(await run());
  await turnEventLoop();  // the last batch's sends
  const requests = results.reduce((sum, r) => sum + r.count, warmUp.count);
  const sorted = results.map((r) => r.ns).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  process.stdout.write(`ns_per_request=${median.toFixed(0)}\n`);
  process.stdout.write(`requests=${requests}\n`);
  process.stdout.write(
    `runs=${results.map((r) => `${r.ns.toFixed(0)}ns/${r.count}`).join(',')}\n`);
}

function main(argv) {
  const [mode, ...rest] = argv;
  if (mode === 'receive' && rest.length === 1) {
    receive(rest[0]);
  } else if (mode === 'request' && rest.length >= 2 && (rest[1] === '0' || rest[1] === '1')) {
    const minMs = rest.length > 2 ? Number(rest[2]) : 2000;
    const runs = rest.length > 3 ? Number(rest[3]) : 3;
    request(rest[0], rest[1], minMs, runs).catch((error) => {
      process.stderr.write(`${error.stack || error}\n`);
      process.exit(1);
    });
  } else {
    process.stderr.write('usage: compare_node.js receive <port-file> | ' +
                         'request <sdk-dir> <sampled 0|1> [min-ms-per-run] [runs]\n');
    process.exit(2);
  }
}

main(process.argv.slice(2));
