// xray-local console: the service map, the trace list and one trace's timeline, drawn from the
// JSON API (/api/service-map, /api/traces, /api/traces/{id}, /api/stats). Plain JavaScript, no
// libraries; it polls every 2 seconds while "live" is ticked (a held-open connection would keep
// headless browsers from ever finishing the page load).
"use strict";

const POLL_MS = 2000;
const state = {
  filters: { service: "", status: "", annotation: "", q: "", window: "" },
  node: "",    // service-map node id filtering the list
  edge: "",    // service-map edge id filtering the list
  traceId: "", // the trace shown, from the location hash
  selected: "", // entity id selected in the timeline
  trace: null,
};

// --- small helpers -------------------------------------------------------------------------

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function ms(value) {
  if (value === undefined || value === null) return "";
  if (value >= 1000) return (value / 1000).toFixed(2) + " s";
  return value.toFixed(value < 10 ? 2 : 1) + " ms";
}

function percent(share) {
  return (share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0) + "%";
}

function clock(epochSeconds) {
  if (!epochSeconds) return "";
  const d = new Date(epochSeconds * 1000);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function statusClass(entity) {
  if (entity.fault) return "fault";
  if (entity.throttle) return "throttle";
  if (entity.error) return "error";
  return "ok";
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + "s"}`;
}

function text(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

// --- statistics ----------------------------------------------------------------------------

async function refreshStats() {
  const stats = await api("/api/stats");
  const box = document.getElementById("stats");
  const ingest = stats.ingest || {};
  const store = stats.store || {};
  const problems = Object.entries(ingest.problems || {}).filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind.replace(/_/g, " ")}: ${n}`).join(", ");
  const unknown = Object.keys((ingest.unknown_fields || {}).names || {}).join(", ");
  box.replaceChildren(...[
    el("span", { class: "stat", id: "stat-traces" }, `${store.traces} traces`),
    el("span", { class: "stat", id: "stat-documents" }, `${store.documents} documents`),
    el("span", { class: "stat" + (ingest.rejected ? " bad" : ""), id: "stat-rejected",
                 title: problems || "no bad datagrams" }, `${ingest.rejected || 0} bad datagrams`),
    stats.listening && stats.listening.dropped_by_kernel ? el("span", { class: "stat bad", id: "stat-dropped",
      title: `the receive buffer (${stats.listening.receive_buffer} bytes) was full: datagrams lost before xray-local read them` },
      `${stats.listening.dropped_by_kernel} dropped`) : null,
    store.evicted_traces ? el("span", { class: "stat", id: "stat-evicted",
      title: `memory bound: ${store.max_traces} traces, ${(store.max_bytes / 1048576).toFixed(0)} MiB` },
      `${store.evicted_traces} evicted`) : null,
    ingest.unknown_fields && ingest.unknown_fields.documents ? el("span", { class: "stat", id: "stat-unknown",
      title: `unknown fields: ${unknown}` }, `${ingest.unknown_fields.documents} with unknown fields`) : null,
    stats.forward ? el("span", { class: "stat" + (stats.forward.errors ? " bad" : ""),
      title: `forwarding to ${stats.forward.target}` },
      `forwarded ${stats.forward.sent}` + (stats.forward.errors ? `, ${stats.forward.errors} failed` : "")) : null,
  ].filter(Boolean));
}

// --- service map ---------------------------------------------------------------------------

function windowQuery() {
  const seconds = Number(state.filters.window);
  return seconds > 0 ? `since=${Date.now() / 1000 - seconds}` : "";
}

// Columns by distance from the client node (longest path, cycles cut), rows within a column.
function layout(map) {
  const depth = new Map(map.nodes.map((n) => [n.id, n.kind === "client" ? 0 : 1]));
  for (let pass = 0; pass < map.nodes.length; ++pass) {
    let changed = false;
    for (const e of map.edges) {
      const next = (depth.get(e.from) || 0) + 1;
      if (e.from !== e.to && next > (depth.get(e.to) || 0) && next <= map.nodes.length) {
        depth.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = new Map();
  for (const n of map.nodes) {
    const d = depth.get(n.id);
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d).push(n);
  }
  const positions = new Map();
  const colWidth = 230, rowHeight = 140;
  let rows = 1;
  for (const [d, nodes] of columns) {
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    rows = Math.max(rows, nodes.length);
    nodes.forEach((n, i) => positions.set(n.id, { x: 110 + d * colWidth, y: 80 + i * rowHeight }));
  }
  const width = 110 + Math.max(...[...columns.keys()], 0) * colWidth + 130;
  return { positions, width, height: 40 + rows * rowHeight };
}

// The health ring: arcs for ok, error, throttle and fault in proportion, as the X-Ray console.
function ring(node, radius) {
  const parts = [["ok", node.ok], ["error", node.errors], ["throttle", node.throttles], ["fault", node.faults]];
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  const circumference = 2 * Math.PI * radius;
  if (!total) {
    return [svg("circle", { class: "ring", r: radius, stroke: "#aab7b8" })];
  }
  let offset = 0;
  const arcs = [];
  for (const [kind, n] of parts) {
    if (!n) continue;
    const length = (n / total) * circumference;
    arcs.push(svg("circle", {
      class: `ring ring-${kind}`, r: radius, stroke: `var(--${kind})`,
      "stroke-dasharray": `${length} ${circumference - length}`,
      "stroke-dashoffset": String(-offset), transform: "rotate(-90)",
    }));
    offset += length;
  }
  return arcs;
}

function drawMap(map) {
  const box = document.getElementById("map");
  if (!map.nodes.length) {
    box.replaceChildren(el("p", { class: "hint", id: "map-empty" },
      "No traces yet. Point an instrumented service at this daemon (AWS_XRAY_DAEMON_ADDRESS)."));
    return;
  }
  const { positions, width, height } = layout(map);
  const radius = 30;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
                            "aria-label": "service map", height: String(height) });
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "8", markerHeight: "8", orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#879596" }))));
  for (const e of map.edges) {
    const a = positions.get(e.from), b = positions.get(e.to);
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y, length = Math.hypot(dx, dy) || 1;
    const x1 = a.x + (dx / length) * (radius + 6), y1 = a.y + (dy / length) * (radius + 6);
    const x2 = b.x - (dx / length) * (radius + 8), y2 = b.y - (dy / length) * (radius + 8);
    const label = `${e.count} req · ${ms(e.average_ms)}`;
    const shares = [["error", e.error_share], ["throttle", e.throttle_share], ["fault", e.fault_share]]
      .filter(([, s]) => s > 0).map(([k, s]) => `${percent(s)} ${k}`).join(" · ");
    const group = svg("g", {
      class: `edge health-${e.health}` + (state.edge === e.id ? " selected" : ""),
      "data-id": e.id, "data-from": e.from, "data-to": e.to, "data-count": String(e.count),
      onclick: () => selectGraphFilter("edge", e.id),
    },
      svg("title", {}, `${label}${shares ? " · " + shares : ""}`),
      svg("line", { x1, y1, x2, y2, "marker-end": "url(#arrow)" }),
      svg("line", { class: "hit", x1, y1, x2, y2 }),
      svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, class: "edge-label" }, label),
      shares ? svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 + 10, class: `edge-shares ${e.health}` }, shares) : null);
    root.append(group);
  }
  for (const n of map.nodes) {
    const p = positions.get(n.id);
    const numbers = n.kind === "client" ? "" : `${ms(n.average_ms)} · ${n.count} req`;
    const type = n.kind === "service" ? (n.type || "service") : n.kind === "aws" ? n.type : n.kind;
    const group = svg("g", {
      class: `node kind-${n.kind} health-${n.health}` + (state.node === n.id ? " selected" : ""),
      transform: `translate(${p.x},${p.y})`, "data-id": n.id, "data-name": n.name,
      "data-health": n.health, onclick: () => selectGraphFilter("node", n.id),
    },
      svg("title", {}, `${n.name} (${type}): ${n.count} requests, ${n.ok} ok, ${n.errors} errors, ` +
                       `${n.throttles} throttled, ${n.faults} faults`),
      svg("circle", { class: "disc", r: radius - 4 }),
      ...ring(n, radius),
      svg("text", { y: radius + 16, class: "name" }, n.name),
      svg("text", { y: radius + 30, class: "type" }, type),
      numbers ? svg("text", { y: 4, class: "numbers" }, n.kind === "client" ? "" : `${n.count}`) : null,
      numbers ? svg("text", { y: radius + 44, class: "numbers" }, numbers) : null);
    root.append(group);
  }
  box.replaceChildren(root);
}

async function refreshMap() {
  drawMap(await api("/api/service-map?" + windowQuery()));
}

function selectGraphFilter(kind, id) {
  const same = state[kind] === id;
  state.node = "";
  state.edge = "";
  if (!same) state[kind] = id;
  showGraphFilter();
  if (state.traceId) location.hash = "#/";
  refreshAll();
}

function showGraphFilter() {
  const chip = document.getElementById("graph-filter");
  const id = state.node || state.edge;
  chip.hidden = !id;
  if (!id) return;
  const shown = id.replace(/service:|\|$/g, "").replace(/\|/g, " ");
  chip.replaceChildren(`${state.node ? "node" : "edge"}: ${shown} `,
    el("button", { type: "button", title: "remove", onclick: () => selectGraphFilter(state.node ? "node" : "edge", id) }, "×"));
}

// --- trace list ----------------------------------------------------------------------------

function listQuery() {
  const params = new URLSearchParams();
  for (const key of ["service", "status", "annotation", "q"]) {
    if (state.filters[key]) params.set(key, state.filters[key].trim());
  }
  const seconds = Number(state.filters.window);
  if (seconds > 0) params.set("since", String(Date.now() / 1000 - seconds));
  if (state.node) params.set("node", state.node);
  if (state.edge) params.set("edge", state.edge);
  params.set("limit", "200");
  return params.toString();
}

async function refreshTraces() {
  const list = await api("/api/traces?" + listQuery());
  const body = document.querySelector("#traces tbody");
  document.getElementById("traces-count").textContent =
    `${list.matched} of ${list.total} traces` + (list.matched > list.traces.length ? `, newest ${list.traces.length} shown` : "");
  const services = new Set();
  body.replaceChildren(...list.traces.map((t) => {
    (t.services || []).forEach((s) => services.add(s));
    const cls = t.status_class;
    return el("tr", { class: `trace status-${cls}`, "data-id": t.id, onclick: () => { location.hash = `#/trace/${t.id}`; } },
      el("td", { title: t.id }, clock(t.start_time)),
      el("td", {}, t.in_progress ? "in progress" : ms(t.duration_ms)),
      el("td", {}, t.method || ""),
      el("td", { class: "url", title: t.url || "" }, t.url || ""),
      el("td", { class: `status-badge ${cls}` }, t.status === null || t.status === undefined ? cls : `${t.status} ${cls === "ok" ? "" : cls}`),
      el("td", {}, t.service || ""),
      el("td", {}, Object.entries(t.annotations || {}).map(([k, v]) => el("span", { class: "annotation" }, `${k}=${text(v)}`))));
  }));
  const datalist = document.getElementById("services");
  const known = new Set([...datalist.options].map((o) => o.value));
  for (const s of services) if (!known.has(s)) datalist.append(el("option", { value: s }));
}

// --- one trace -----------------------------------------------------------------------------

// Depth-first rows: [entity, depth, isSegment].
function flatten(roots) {
  const rows = [];
  const visit = (entity, depth) => {
    const isSegment = depth === 0 && entity.type !== "subsegment";
    rows.push([entity, depth, isSegment]);
    for (const child of entity.subsegments || []) visit(child, depth + 1);
  };
  // A downstream segment (parent_id = a remote subsegment's id) is drawn under that subsegment.
  const ids = new Map();
  const index = (entity) => { ids.set(entity.id, entity); (entity.subsegments || []).forEach(index); };
  roots.forEach(index);
  const placed = new Set();
  const visitWithDownstream = (entity, depth) => {
    const isSegment = entity.type !== "subsegment" && (depth === 0 || placed.has(entity.id));
    rows.push([entity, depth, isSegment]);
    for (const child of entity.subsegments || []) visitWithDownstream(child, depth + 1);
    for (const root of roots) {
      if (root !== entity && root.type !== "subsegment" && root.parent_id === entity.id && !placed.has(root.id)) {
        placed.add(root.id);
        visitWithDownstream(root, depth + 1);
      }
    }
  };
  for (const root of roots) {
    const underParent = root.type !== "subsegment" && root.parent_id && ids.has(root.parent_id) && root.parent_id !== root.id;
    if (underParent) continue;  // placed under its caller's subsegment
    visitWithDownstream(root, 0);
  }
  // Anything not reached (a parent cycle): at the top level.
  const reached = new Set(rows.map(([e]) => e));
  for (const root of roots) if (!reached.has(root)) visit(root, 0);
  return rows;
}

function drawTrace(trace) {
  const summary = trace.summary;
  document.getElementById("trace-title").textContent = `Trace ${trace.id}`;
  document.getElementById("trace-facts").replaceChildren(
    `${clock(summary.start_time)} · ${summary.in_progress ? "in progress" : ms(summary.duration_ms)} · `,
    el("span", { class: summary.status_class }, summary.status_class),
    ` · ${plural(summary.segments, "segment")}, ${plural(summary.entities, "entity", "entities")} in ${plural(trace.documents, "document")}` +
    ` · services: ${(summary.services || []).join(", ")}`);
  const rows = flatten(trace.roots);
  let start = Infinity, end = -Infinity;
  for (const [e] of rows) {
    if (typeof e.start_time === "number") start = Math.min(start, e.start_time);
    if (typeof e.end_time === "number") end = Math.max(end, e.end_time);
    if (typeof e.start_time === "number") end = Math.max(end, e.start_time);
  }
  const total = Math.max(end - start, 1e-6);
  const box = document.getElementById("timeline");
  const axis = el("div", { class: "axis" }, ...[0, 0.25, 0.5, 0.75, 1].map((f) => el("span", {}, ms(f * total * 1000))));
  box.replaceChildren(axis, ...rows.map(([e, depth, isSegment]) => {
    const open = e.in_progress === true || typeof e.end_time !== "number";
    const s = typeof e.start_time === "number" ? e.start_time : start;
    const f = open ? end : e.end_time;
    const left = ((s - start) / total) * 100;
    const width = Math.max(((f - s) / total) * 100, 0.2);
    const cls = statusClass(e);
    const flags = [e.fault && "FAULT", e.throttle && "THROTTLE", e.error && !e.throttle && "ERROR"].filter(Boolean);
    const http = e.http || {};
    const status = http.response && http.response.status;
    return el("div", {
      class: `row ${isSegment ? "segment" : "subsegment"} status-${cls}` + (state.selected === e.id ? " selected" : ""),
      "data-id": e.id, "data-name": e.name, "data-depth": String(depth), "data-kind": isSegment ? "segment" : "subsegment",
      "data-parent": e.parent_id || "", "data-status": cls,
      onclick: () => { state.selected = e.id; drawTrace(trace); },
    },
      el("div", { class: "label", style: `padding-left:${8 + depth * 16}px`, title: e.name },
        e.name,
        e.namespace ? el("span", { class: "ns" }, e.namespace) : null,
        isSegment && e.origin ? el("span", { class: "ns" }, e.origin) : null,
        status ? el("span", { class: "ns" }, String(status)) : null,
        ...flags.map((flag) => el("span", { class: `flag ${cls}` }, flag))),
      el("div", { class: "track" },
        el("div", { class: `bar ${cls}` + (open ? " open" : ""), style: `left:${left}%;width:${width}%` }),
        // After the bar, or inside its right end when the bar reaches the right edge.
        el("span", { class: "duration" + (left + width > 80 ? " inside" : ""),
                     style: left + width > 80 ? `right:${Math.max(100 - left - width, 0)}%;margin-right:4px`
                                              : `left:${left + width}%;margin-left:4px` },
          open ? "in progress" : ms((f - s) * 1000))));
  }));
  const chosen = rows.find(([e]) => e.id === state.selected) || rows[0];
  if (chosen) drawDetails(chosen[0], chosen[2]);
}

function definitionList(pairs) {
  return el("dl", {}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))]));
}

function section(title, ...content) {
  return [el("h3", {}, title), ...content];
}

function drawDetails(e, isSegment) {
  const box = document.getElementById("details");
  const parts = [];
  const duration = typeof e.end_time === "number" && typeof e.start_time === "number" ? ms((e.end_time - e.start_time) * 1000) : "in progress";
  parts.push(el("h3", { id: "details-title" }, `${isSegment ? "Segment" : "Subsegment"} ${e.name}`));
  parts.push(definitionList([
    ["id", e.id], ["parent", e.parent_id], ["trace", e.trace_id], ["namespace", e.namespace], ["origin", e.origin],
    ["user", e.user], ["start", clock(e.start_time)], ["duration", duration],
    ["status", statusClass(e)], ["in progress", e.in_progress ? "yes" : ""],
    ["service version", e.service && e.service.version], ["resource ARN", e.resource_arn],
    ["sampling rule", e.aws && e.aws.xray && e.aws.xray.sampling_rule_name],
  ]));
  if (e.http) {
    const request = e.http.request || {}, response = e.http.response || {};
    parts.push(...section("HTTP", definitionList([
      ["method", request.method], ["url", request.url], ["user agent", request.user_agent],
      ["client ip", request.client_ip], ["x-forwarded-for", request.x_forwarded_for ? "yes" : ""],
      ["traced", request.traced ? "yes" : ""], ["status", response.status],
      ["content length", response.content_length]])));
  }
  if (e.aws) parts.push(...section("AWS", el("pre", {}, JSON.stringify(e.aws, null, 2))));
  if (e.sql) parts.push(...section("SQL", el("pre", {}, JSON.stringify(e.sql, null, 2))));
  if (e.annotations && Object.keys(e.annotations).length) {
    parts.push(...section("Annotations", definitionList(Object.entries(e.annotations).map(([k, v]) => [k, text(v)]))));
  }
  if (e.metadata) parts.push(...section("Metadata", el("pre", {}, JSON.stringify(e.metadata, null, 2))));
  if (e.cause) {
    if (typeof e.cause === "string") {
      parts.push(...section("Exceptions", el("p", {}, `recorded on exception ${e.cause}`)));
    } else {
      const exceptions = e.cause.exceptions || [];
      parts.push(...section("Exceptions",
        e.cause.working_directory ? el("p", { class: "hint" }, `working directory ${e.cause.working_directory}`) : null,
        ...exceptions.map((x) => el("div", { class: "exception" },
          el("strong", {}, `${x.type || "exception"}: ${x.message || ""}`),
          x.remote ? el("span", { class: "hint" }, " (remote)") : null,
          el("div", { class: "stack" }, (x.stack || []).map((f) =>
            el("div", {}, `at ${f.label || "?"} (${f.path || "?"}:${f.line === undefined ? "?" : f.line})`)),
            x.truncated ? el("div", {}, `… ${x.truncated} more frames`) : null)))));
    }
  }
  const raw = Object.assign({}, e);
  if (raw.subsegments) raw.subsegments = `[${raw.subsegments.length} subsegments, shown in the timeline]`;
  parts.push(...section("Raw JSON", el("pre", { id: "raw-json" }, JSON.stringify(raw, null, 2))));
  box.replaceChildren(...parts);
}

async function refreshTrace() {
  try {
    const trace = await api(`/api/traces/${encodeURIComponent(state.traceId)}`);
    state.trace = trace;
    drawTrace(trace);
  } catch (error) {
    document.getElementById("trace-title").textContent = `Trace ${state.traceId}`;
    document.getElementById("trace-facts").textContent = "Not held: never received, or evicted to stay within the memory bound.";
    document.getElementById("timeline").replaceChildren();
    document.getElementById("details").replaceChildren();
  }
}

// --- routing and polling -------------------------------------------------------------------

function route() {
  const match = /^#\/trace\/(.+)$/.exec(location.hash);
  state.traceId = match ? decodeURIComponent(match[1]) : "";
  if (!match) {
    // #/?service=...&status=... preselects filters (links, tests).
    const query = location.hash.indexOf("?") >= 0 ? location.hash.slice(location.hash.indexOf("?") + 1) : "";
    const params = new URLSearchParams(query);
    const form = document.getElementById("filters");
    for (const key of Object.keys(state.filters)) {
      if (params.has(key)) { state.filters[key] = params.get(key); form.elements[key].value = params.get(key); }
    }
    if (params.has("node")) { state.node = params.get("node"); state.edge = ""; }
    if (params.has("edge")) { state.edge = params.get("edge"); state.node = ""; }
    showGraphFilter();
  }
  if (state.traceId !== (state.trace && state.trace.id)) state.selected = "";
  document.getElementById("overview").hidden = !!state.traceId;
  document.getElementById("trace-view").hidden = !state.traceId;
  refreshAll();
}

let refreshing = false;
async function refreshAll() {
  if (refreshing) return;
  refreshing = true;
  try {
    const work = [refreshStats()];
    if (state.traceId) work.push(refreshTrace());
    else work.push(refreshMap(), refreshTraces());
    await Promise.all(work);
    document.body.dataset.loaded = "true";
  } catch (error) {
    document.getElementById("traces-count").textContent = `console cannot reach xray-local: ${error.message}`;
  } finally {
    refreshing = false;
  }
}

function start() {
  const form = document.getElementById("filters");
  const changed = () => {
    for (const key of Object.keys(state.filters)) state.filters[key] = form.elements[key].value;
    refreshAll();
  };
  form.addEventListener("input", changed);
  form.addEventListener("submit", (event) => { event.preventDefault(); changed(); });
  form.addEventListener("reset", () => setTimeout(() => { state.node = ""; state.edge = ""; showGraphFilter(); changed(); }, 0));
  window.addEventListener("hashchange", route);
  setInterval(() => {
    // A finished trace does not change: poll it only while it is in progress.
    if (!document.getElementById("live").checked) return;
    if (state.traceId && state.trace && state.trace.id === state.traceId && !state.trace.summary.in_progress) {
      refreshStats().catch(() => {});
      return;
    }
    refreshAll();
  }, POLL_MS);
  route();
}

start();
