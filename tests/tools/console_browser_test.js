// The xray-local console in a real browser: starts xray-local and the helloworld example three
// times (upstream /call -> downstream /helloworld, and a second upstream instance whose downstream
// is a closed port, so its /call fails with 502), sends requests, then loads the console in
// headless Chromium and checks what a person would see in the rendered page: the map's
// client -> upstream -> downstream nodes and edge counts, the timeline's downstream segment under the
// upstream's remote subsegment, the failing call shown as a fault. Screenshots go to OUT_DIR.
//
//   node console_browser_test.js XRAY_LOCAL HELLOWORLD OUT_DIR
//
// Chromium is Debian's `chromium` (scripts/lib/setup.sh installs it), or $XRAY_CHROMIUM. Without it
// the test skips (exit 77), unless XRAY_REQUIRE_CHROMIUM is set. Every process it starts is stopped
// by its PID.
"use strict";

const { spawn, execFileSync } = require("child_process");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");

const [xrayLocal, helloworld, outDir] = process.argv.slice(2);
if (!xrayLocal || !helloworld || !outDir) {
  console.error("usage: node console_browser_test.js XRAY_LOCAL HELLOWORLD OUT_DIR");
  process.exit(2);
}

function findChromium() {
  const candidates = [process.env.XRAY_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((c) => c && fs.existsSync(c));
}
const chromium = findChromium();
if (!chromium) {
  console.error("console_browser_test: no chromium (apt-get install chromium, or set XRAY_CHROMIUM)");
  process.exit(process.env.XRAY_REQUIRE_CHROMIUM ? 1 : 77);
}

const children = [];
function stopAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, "SIGTERM"); } catch (e) { /* already gone */ }
    }
  }
}
process.on("exit", stopAll);

// Starts a program; resolves with its first line matching `pattern` (stdout or stderr).
function start(file, args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: Object.assign({}, process.env, env), stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${path.basename(file)} did not start: ${seen}`)), 15000);
    const onData = (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) { clearTimeout(timer); resolve(match); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${path.basename(file)} exited ${code}: ${seen}`)); });
  });
}

function get(port, target, headers) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port, path: target, headers: headers || {} }, (response) => {
      let body = "";
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    request.on("error", reject);
    request.setTimeout(10000, () => request.destroy(new Error(`GET ${target} timed out`)));
  });
}

async function eventually(what, condition, seconds = 15) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await condition();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A port nobody listens on: bound, then closed.
function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function chromiumArgs() {
  return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
          "--no-first-run", "--window-size=1400,900", "--virtual-time-budget=5000",
          `--user-data-dir=${path.join(outDir, "chromium-profile")}`];
}

function dumpDom(url) {
  return execFileSync(chromium, [...chromiumArgs(), "--dump-dom", url],
                      { encoding: "utf8", timeout: 60000, stdio: ["ignore", "pipe", "ignore"] });
}

function screenshot(url, file) {
  const target = path.join(outDir, file);
  fs.rmSync(target, { force: true });
  execFileSync(chromium, [...chromiumArgs(), `--screenshot=${target}`, url],
               { timeout: 60000, stdio: "ignore" });
  if (!fs.existsSync(target) || fs.statSync(target).size < 1000) throw new Error(`no screenshot ${target}`);
  console.log(`screenshot: ${target}`);
}

// Attributes of every start tag of `tag` whose attributes contain `marker`.
function tags(dom, tag, marker) {
  const found = [];
  const re = new RegExp(`<${tag}\\s([^>]*)>`, "g");
  let match;
  while ((match = re.exec(dom)) !== null) {
    if (marker && !match[1].includes(marker)) continue;
    const attributes = {};
    const attr = /([\w-]+)="([^"]*)"/g;
    let a;
    while ((a = attr.exec(match[1])) !== null) {
      attributes[a[1]] = a[2].replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
    }
    found.push(attributes);
  }
  return found;
}

let failures = 0;
function check(what, condition, detail) {
  if (condition) {
    console.log(`ok: ${what}`);
  } else {
    failures += 1;
    console.error(`FAIL: ${what}${detail ? `\n  ${detail}` : ""}`);
  }
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const started = await start(xrayLocal, ["--port", "0", "--http", "127.0.0.1:0", "--quiet"], {},
                              /console on http:\/\/127\.0\.0\.1:(\d+)\//);
  const consolePort = Number(started[1]);
  const daemon = Number(/udp 127\.0\.0\.1:(\d+)/.exec(started.input)[1]);
  const console_ = `http://127.0.0.1:${consolePort}/`;
  const env = { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon}` };
  const listening = /listening on port (\d+)/;
  const down = Number((await start(helloworld, ["--port", "0"],
    Object.assign({ AWS_XRAY_TRACING_NAME: "helloworld-downstream" }, env), listening))[1]);
  const up = Number((await start(helloworld, ["--port", "0", "--downstream", `http://127.0.0.1:${down}/helloworld`],
    Object.assign({ AWS_XRAY_TRACING_NAME: "helloworld-upstream" }, env), listening))[1]);
  const nowhere = await closedPort();
  const broken = Number((await start(helloworld, ["--port", "0", "--downstream", `http://127.0.0.1:${nowhere}/helloworld`],
    Object.assign({ AWS_XRAY_TRACING_NAME: "helloworld-upstream" }, env), listening))[1]);

  // Sampled=1: the upstream segment is recorded whatever the sampling rules say.
  const sampled = { "X-Amzn-Trace-Id": "Sampled=1" };
  for (let i = 0; i < 3; ++i) {
    const reply = await get(up, "/call", sampled);
    check(`upstream /call ${i + 1} answers 200`, reply.status === 200, reply.body);
  }
  const failed = await get(broken, "/call", sampled);
  check("the broken upstream's /call answers 502", failed.status === 502, failed.body);

  // Everything has arrived once the map holds both service edges with their counts.
  const map = await eventually("the service map", async () => {
    const m = JSON.parse((await get(consolePort, "/api/service-map")).body);
    const count = (id) => (m.edges.find((e) => e.id === id) || {}).count;
    return count("client -> service:helloworld-upstream|") === 4 &&
           count("service:helloworld-upstream| -> service:helloworld-downstream|") === 3 ? m : null;
  });
  const faultEdge = map.edges.find((e) => e.to === `remote:127.0.0.1:${nowhere}`);

  // 1. The map, as drawn.
  let dom = dumpDom(console_);
  check("the page finished loading its data", /<body[^>]*data-loaded="true"/.test(dom));
  const nodes = tags(dom, "g", 'class="node');
  const names = nodes.map((n) => n["data-name"]).sort();
  check("the map shows Client, helloworld-upstream and helloworld-downstream",
        ["Client", "helloworld-downstream", "helloworld-upstream"].every((n) => names.includes(n)), names.join(", "));
  const edges = tags(dom, "g", 'class="edge');
  const edge = (from, to) => edges.find((e) => e["data-from"] === from && e["data-to"] === to);
  const entry = edge("client", "service:helloworld-upstream|");
  const call = edge("service:helloworld-upstream|", "service:helloworld-downstream|");
  check("client -> upstream edge with 4 requests", entry && entry["data-count"] === "4", JSON.stringify(entry));
  check("upstream -> downstream edge with 3 requests", call && call["data-count"] === "3", JSON.stringify(call));
  check("the edge labels show the counts", dom.includes(">4 req ·") && dom.includes(">3 req ·"));
  check("the failed call's edge is drawn as a fault",
        faultEdge && (edge("service:helloworld-upstream|", faultEdge.to) || {}).class === "edge health-fault",
        JSON.stringify(edges));
  const upstreamNode = nodes.find((n) => n["data-name"] === "helloworld-upstream");
  check("the upstream node's ring shows its fault", upstreamNode && upstreamNode["data-health"] === "fault",
        JSON.stringify(upstreamNode));
  const rows = tags(dom, "tr", 'class="trace');
  check("the trace list shows the 4 traces", rows.length === 4, `${rows.length} rows`);
  check("one trace is listed as a fault", rows.filter((r) => r.class.includes("status-fault")).length === 1);
  screenshot(console_, "xray-local-map.png");

  // 2. A fault filter, as a link would set it.
  dom = dumpDom(`${console_}#/?status=fault`);
  const faultRows = tags(dom, "tr", 'class="trace');
  check("filtering by fault lists only the failed call", faultRows.length === 1 && faultRows[0].class.includes("status-fault"),
        JSON.stringify(faultRows));
  check("the failed call shows status 502", /502 fault/.test(dom));

  // 3. A successful call's timeline.
  const list = JSON.parse((await get(consolePort, "/api/traces?service=helloworld-downstream")).body);
  const traceId = list.traces[0].id;
  dom = dumpDom(`${console_}#/trace/${traceId}`);
  const timeline = tags(dom, "div", 'class="row');
  const upstreamRow = timeline.findIndex((r) => r["data-name"] === "helloworld-upstream");
  const downstreamRow = timeline.findIndex((r) => r["data-name"] === "helloworld-downstream");
  check("the timeline shows both services' segments", upstreamRow >= 0 && downstreamRow >= 0,
        JSON.stringify(timeline));
  if (upstreamRow >= 0 && downstreamRow >= 0) {
    const remote = timeline.find((r) => r["data-id"] === timeline[downstreamRow]["data-parent"]);
    check("the downstream segment's parent is a row of the timeline", !!remote, JSON.stringify(timeline));
    if (remote) {
      const remoteRow = timeline.indexOf(remote);
      check("the downstream segment sits directly under the upstream's remote subsegment",
            remoteRow === downstreamRow - 1 &&
            Number(timeline[downstreamRow]["data-depth"]) === Number(remote["data-depth"]) + 1 &&
            remote["data-kind"] === "subsegment" && timeline[downstreamRow]["data-kind"] === "segment",
            JSON.stringify(timeline));
      check("the remote subsegment is under the upstream segment",
            Number(remote["data-depth"]) > Number(timeline[upstreamRow]["data-depth"]) && remoteRow > upstreamRow);
      check("the row is labelled remote", dom.includes('<span class="ns">remote</span>'));
    }
  }
  check("the details panel shows the selected segment's HTTP request", dom.includes("<h3>HTTP</h3>") && dom.includes("/call"));
  screenshot(`${console_}#/trace/${traceId}`, "xray-local-trace.png");

  // 4. The failed call's timeline.
  const faultList = JSON.parse((await get(consolePort, "/api/traces?status=fault")).body);
  dom = dumpDom(`${console_}#/trace/${faultList.traces[0].id}`);
  const faultTimeline = tags(dom, "div", 'class="row');
  check("the failed call's segment is a fault in the timeline",
        faultTimeline.some((r) => r["data-name"] === "helloworld-upstream" && r["data-status"] === "fault"),
        JSON.stringify(faultTimeline));
  check("the timeline flags it FAULT", dom.includes(">FAULT</span>"));
  screenshot(`${console_}#/trace/${faultList.traces[0].id}`, "xray-local-fault.png");
}

main().then(() => {
  stopAll();
  if (failures) {
    console.error(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log("all console checks passed");
  process.exit(0);
}, (error) => {
  stopAll();
  console.error(`FAIL: ${error.stack || error}`);
  process.exit(1);
});
