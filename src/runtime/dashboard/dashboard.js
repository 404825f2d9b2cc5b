// The dashboard of a Mini Dynamo node (served at /dashboard, embedded in the binary).
// Plain JS, nothing from outside: it polls this node's /cluster, /ring and /metrics, every other
// node's /cluster (they answer with Access-Control-Allow-Origin: *), and /inspect/{key} on demand.
"use strict";

(() => {
  const POLL_MS = 1000;
  const METRICS_RETRY_MS = 10000;  // while this node has no /metrics
  const WINDOW_S = 300;            // what the page keeps: the charts' widest span
  const MIN_SPAN_S = 60;           // the narrowest, while the page has less
  const LATENCY_WINDOW_S = 10;     // each latency point: the requests of the 10 s before it
  const FETCH_TIMEOUT_MS = 2500;
  const SEVERITY = { up: 0, suspect: 1, down: 2 };
  // Owners' colours: green and red come last, so that a small ring is not read as statuses.
  const MEMBER_COLOURS = ["#4e79a7", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
                          "#bab0ac", "#59a14f", "#e15759"];
  const OP_COLOURS = { get: "#4e79a7", put: "#f28e2b", delete: "#b07aa1" };
  const QUANTILE_COLOURS = { p50: "#59a14f", p99: "#e15759" };

  const $ = (id) => document.getElementById(id);

  // An element with attributes ("class", "data-*", anything else as is) and children (nodes or text).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }

  function short(id) {
    return id && id.length > 14 ? id.slice(0, 13) + "…" : id || "";
  }

  function badge(status, text) {
    return el("span", { class: `badge status-${status}` }, text || status);
  }

  function swatch(colour, label) {
    const box = el("span", { class: "swatch" });
    box.style.background = colour;
    return el("li", {}, box, label);
  }

  async function fetchWithTimeout(url) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      return await fetch(url, { signal: abort.signal, cache: "no-store" });
    } catch (e) {
      throw new Error(e.name === "AbortError" ? `no answer within ${FETCH_TIMEOUT_MS} ms` : "unreachable");
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchJson(url) {
    const response = await fetchWithTimeout(url);
    const body = await response.json();
    if (!response.ok && !body.replicas) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  function setBanner(text) {
    $("banner").textContent = text;
    $("banner").hidden = !text;
  }

  // ---- Nodes: every node's view of every node ----

  const views = new Map();  // address -> {cluster} or {error}
  let self = null;          // this node's /cluster
  let ring = null;          // this node's /ring

  async function pollCluster() {
    try {
      self = await fetchJson("/cluster");
      views.set(self.address, { cluster: self });
      await Promise.all(self.nodes.filter((n) => !n.self).map(async (n) => {
        try {
          views.set(n.address, { cluster: await fetchJson(`${location.protocol}//${n.address}/cluster`) });
        } catch (e) {
          views.set(n.address, { error: e.message });
        }
      }));
      for (const address of views.keys()) {
        if (!self.nodes.some((n) => n.address === address)) views.delete(address);
      }
      if (!ring || ring.version !== self.ring_version) await loadRing(self.ring_version);
      setBanner("");
    } catch (e) {
      setBanner(`This node does not answer /cluster (${e.message}); retrying every second.`);
    }
    if (self) renderNodes();
    setTimeout(pollCluster, POLL_MS);
  }

  // What `observer` (a node entry of this node's /cluster) says of the node at `address`.
  function seen(observer, address) {
    const view = views.get(observer.address);
    if (!view || view.error) return { status: "unreachable", text: "?", title: view ? view.error : "not asked yet" };
    const entry = view.cluster.nodes.find((n) => n.address === address);
    if (!entry) return { status: "unreachable", text: "unknown", title: "not a member in its ring" };
    const phi = entry.self || entry.status === "down" ? "" : ` φ ${Number(entry.phi).toFixed(1)}`;
    return { status: entry.status, text: entry.self ? "self" : entry.status + phi, title: `reachable: ${entry.reachable}` };
  }

  // The worst status the other reachable nodes report; the node's own word when none can say.
  function summary(node) {
    let worst = null;
    for (const observer of self.nodes) {
      if (observer.address === node.address) continue;
      const s = seen(observer, node.address).status;
      if (s in SEVERITY && (worst === null || SEVERITY[s] > SEVERITY[worst])) worst = s;
    }
    if (worst !== null) return worst;
    const own = views.get(node.address);
    return own && own.cluster ? "up" : "unreachable";
  }

  function renderNodes() {
    $("serving").textContent = `Served by ${self.address} (${self.node_id}), ring version ${self.ring_version}, ` +
      `${self.nodes.length} nodes. Updated ${new Date().toLocaleTimeString()}.`;
    const header = el("tr", {}, el("th", { scope: "col" }, "Node"), el("th", { scope: "col" }, "Zone"),
      el("th", { scope: "col" }, "Role"), el("th", { scope: "col" }, "Status"), el("th", { scope: "col" }, "Browser"),
      self.nodes.map((o) => el("th", { scope: "col", class: "observer" }, `seen by ${o.address}`,
        views.get(o.address) && views.get(o.address).error ? el("small", {}, " (no answer)") : null)));
    const rows = self.nodes.map((node) => {
      const status = summary(node);
      const reached = views.get(node.address) && views.get(node.address).cluster;
      return el("tr", { "data-node": node.address },
        el("th", { scope: "row" }, node.address, el("br"), el("small", { title: node.node_id }, short(node.node_id))),
        el("td", {}, node.zone || "–"),
        el("td", { class: `role role-${node.role}`, "data-node": node.address, "data-role": node.role }, node.role),
        el("td", { class: `summary status-${status}`, "data-node": node.address, "data-status": status }, status),
        el("td", { class: `browser status-${reached ? "up" : "unreachable"}`, "data-node": node.address,
                   "data-status": reached ? "reachable" : "unreachable" }, reached ? "reachable" : "unreachable"),
        self.nodes.map((observer) => {
          const s = seen(observer, node.address);
          return el("td", { class: `cell status-${s.status}`, title: s.title, "data-observer": observer.address,
                            "data-node": node.address, "data-status": s.status }, s.text);
        }));
    });
    $("nodes-matrix").replaceChildren(el("thead", {}, header), el("tbody", {}, rows));
    renderStats();
    renderTransfers();
  }

  // The change of owners under way (a join, leave, remove or replace): each partition's transfer
  // to a member that becomes one of its replicas, as this node knows its progress.
  function renderTransfers() {
    const transfers = self.transfers || [];
    const departures = (self.departures || []).map((d) => `${d.node} ${d.kind}s` +
      (d.replacement ? ` (replaced by ${d.replacement})` : ""));
    const done = transfers.filter((t) => t.done).length;
    const keys = transfers.reduce((sum, t) => sum + t.keys, 0);
    $("transfers-summary").textContent = self.changing
      ? `Owners are changing: ${done} of ${transfers.length} transfers done, ${keys} keys moved so far.`
      : "No change of owners under way.";
    $("transfers-departures").textContent = departures.length ? `Departures asked for: ${departures.join("; ")}.` : "";
    const header = el("tr", {}, ["Partition", "From", "To", "Keys", "State"].map((h) => el("th", { scope: "col" }, h)));
    const rows = transfers.map((t) => el("tr", { "data-partition": t.partition },
      el("td", { class: "number" }, String(t.partition)), el("td", {}, t.from), el("td", {}, t.to),
      el("td", { class: "number" }, String(t.keys)),
      el("td", { class: `transfer-${t.done ? "done" : "under-way"}` }, t.done ? "done" : "under way")));
    $("transfers").replaceChildren(el("thead", {}, header), el("tbody", {}, rows));
    $("transfers").hidden = transfers.length === 0;
  }

  function renderStats() {
    const columns = [
      ["ring version", (c) => c.ring_version],
      ["hints pending", (c) => c.nodes.reduce((sum, n) => sum + n.pending_hints, 0)],
      ["hints stored / delivered", (c) => `${c.counters.hints_stored} / ${c.counters.hints_delivered}`],
      ["AAE exchanges (in sync)", (c) => `${c.counters.aae_exchanges} (${c.counters.aae_exchanges_in_sync})`],
      ["AAE segments differing", (c) => c.counters.aae_segments_differing],
      ["AAE objects sent", (c) => c.counters.aae_objects_sent],
      ["read repairs", (c) => c.counters.read_repairs],
      ["tombstones held", (c) => c.tombstones],
      ["tombstones reaped", (c) => c.counters.tombstones_reaped],
      ["transfer keys sent / received", (c) => `${c.counters.transfer_keys_sent} / ${c.counters.transfer_keys_received}`],
      ["client requests", (c) => c.counters.client_requests],
    ];
    const header = el("tr", {}, el("th", { scope: "col" }, "Node"), columns.map(([name]) => el("th", { scope: "col" }, name)));
    const rows = self.nodes.map((node) => {
      const view = views.get(node.address);
      return el("tr", { "data-node": node.address }, el("th", { scope: "row" }, node.address),
        columns.map(([, value]) => el("td", { class: "number" }, view && view.cluster ? value(view.cluster) : "–")));
    });
    $("node-stats").replaceChildren(el("thead", {}, header), el("tbody", {}, rows));
  }

  // ---- Ring: partitions coloured by owner, preference lists on hover ----

  async function loadRing(version) {
    ring = await fetchJson("/ring");
    ring.version = version;
    renderRing();
  }

  function memberColour(index) {
    return index < MEMBER_COLOURS.length ? MEMBER_COLOURS[index] : `hsl(${(index * 137.5) % 360} 55% 55%)`;
  }

  function arcPath(p, q) {
    const point = (r, a) => `${(r * Math.cos(a)).toFixed(3)} ${(r * Math.sin(a)).toFixed(3)}`;
    const gap = q > 1 ? Math.min(0.004, Math.PI / q / 4) : 0;
    const a0 = (2 * Math.PI * p) / q - Math.PI / 2 + gap;
    const a1 = (2 * Math.PI * (p + 1)) / q - Math.PI / 2 - gap - (q === 1 ? 1e-4 : 0);
    const large = a1 - a0 > Math.PI ? 1 : 0;
    return `M ${point(100, a0)} A 100 100 0 ${large} 1 ${point(100, a1)} L ${point(62, a1)} ` +
      `A 62 62 0 ${large} 0 ${point(62, a0)} Z`;
  }

  function describePartition(p) {
    const list = ring.owners[p].preference_list;
    return `Partition ${p}: ${list.map((m, i) => (i === 0 ? `${m} (owner)` : m)).join(", ")}`;
  }

  function renderRing() {
    const colourOf = new Map(ring.members.map((m, i) => [m, memberColour(i)]));
    const owned = new Map(ring.members.map((m) => [m, 0]));
    const arcs = ring.owners.map(({ partition, preference_list: list }) => {
      owned.set(list[0], owned.get(list[0]) + 1);
      const path = svg("path", { d: arcPath(partition, ring.partitions), fill: colourOf.get(list[0]) || "#999",
                                 "data-partition": partition, class: "arc" });
      const title = svg("title", {});
      title.textContent = describePartition(partition);
      path.append(title);
      return path;
    });
    const centre = svg("text", { x: 0, y: 5, "text-anchor": "middle", class: "ring-centre" });
    centre.textContent = `Q = ${ring.partitions}`;
    $("ring").replaceChildren(...arcs, centre);
    $("ring-summary").textContent = `${ring.partitions} partitions over ${ring.members.length} members ` +
      `(ring version ${ring.version}); each colour is a partition's owner, the first of its preference list.`;
    $("ring-legend").replaceChildren(...ring.members.map((m, i) =>
      swatch(colourOf.get(m), `${m}${ring.zones && ring.zones[i] ? ` (zone ${ring.zones[i]})` : ""}: ` +
                              `owns ${owned.get(m)} partitions`)));
  }

  function showPartition(event) {
    const p = event.target.getAttribute && event.target.getAttribute("data-partition");
    if (p !== null && p !== undefined && ring) $("ring-detail").textContent = describePartition(Number(p));
  }

  // ---- Traffic: /metrics (Prometheus text) every second, the last 5 minutes kept here ----

  // Prometheus text format: [{name, labels, value}] for every sample line.
  function parseMetrics(text) {
    const samples = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const raw of text.split("\n")) {
      const trimmed = raw.trim();
      if (!trimmed || trimmed.startsWith("#")) continue;
      const m = line.exec(trimmed);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || "").matchAll(label)) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      }
      samples.push({ name: m[1], labels, value: parseFloat(m[3].replace(/^\+?Inf$/, "Infinity")) });
    }
    return samples;
  }

  // The HTTP request counts by op, the latency buckets summed over ops and outcomes, and in flight.
  function summarise(samples) {
    const s = { count: { get: 0, put: 0, delete: 0 }, buckets: new Map(), inFlight: 0 };
    const family = "minidynamo_request_duration_seconds";
    for (const { name, labels, value } of samples) {
      if (name === "minidynamo_requests_in_flight") s.inFlight += value;
      if (labels.protocol !== "http") continue;
      if (name === `${family}_count`) s.count[labels.op] = (s.count[labels.op] || 0) + value;
      if (name === `${family}_bucket`) {
        const le = labels.le === "+Inf" ? Infinity : parseFloat(labels.le);
        s.buckets.set(le, (s.buckets.get(le) || 0) + value);
      }
    }
    return s;
  }

  // The q-quantile (seconds) of the requests between two summaries, as Prometheus's
  // histogram_quantile interpolates within a bucket; null when there were none.
  function quantile(q, before, after) {
    const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
    const delta = bounds.map((le) => Math.max(0, after.buckets.get(le) - ((before && before.buckets.get(le)) || 0)));
    const total = delta[delta.length - 1];
    if (!total) return null;
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (delta[i] < rank) continue;
      if (bounds[i] === Infinity) return i > 0 ? bounds[i - 1] : null;
      const lower = i > 0 ? bounds[i - 1] : 0;
      const below = i > 0 ? delta[i - 1] : 0;
      return lower + ((bounds[i] - lower) * (rank - below)) / Math.max(delta[i] - below, 1e-12);
    }
    return null;
  }

  const history = [];  // {t (ms), summary}
  let metricsProblem = null;

  async function pollMetrics() {
    let next = POLL_MS;
    try {
      const response = await fetchWithTimeout("/metrics");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      history.push({ t: Date.now(), summary: summarise(parseMetrics(await response.text())) });
      while (history.length && history[0].t < Date.now() - (WINDOW_S + LATENCY_WINDOW_S) * 1000) history.shift();
      metricsProblem = null;
    } catch (e) {
      metricsProblem = e.message;
      next = METRICS_RETRY_MS;
    }
    renderTraffic();
    setTimeout(pollMetrics, next);
  }

  // Points [t, value] of the series: per second of counts by op, and p50/p99 over a sliding window.
  function trafficSeries() {
    const rates = { get: [], put: [], delete: [] };
    const quantiles = { p50: [], p99: [] };
    let from = 0;
    for (let i = 1; i < history.length; i++) {
      const [a, b] = [history[i - 1], history[i]];
      const seconds = (b.t - a.t) / 1000;
      for (const op of Object.keys(rates)) {
        const d = b.summary.count[op] - a.summary.count[op];
        rates[op].push([b.t, d >= 0 && seconds > 0 ? d / seconds : null]);  // a drop: the node restarted
      }
      while (history[from + 1].t <= b.t - LATENCY_WINDOW_S * 1000) from++;
      for (const [name, q] of [["p50", 0.5], ["p99", 0.99]]) {
        const v = quantile(q, history[from].summary, b.summary);
        quantiles[name].push([b.t, v === null ? null : v * 1000]);
      }
    }
    return { rates, quantiles };
  }

  function renderTraffic() {
    const now = Date.now();
    const { rates, quantiles } = trafficSeries();
    const last = (points) => (points.length && points[points.length - 1][1] !== null ? points[points.length - 1][1] : 0);
    const summaryNode = $("traffic-summary");
    if (history.length < 2) {
      summaryNode.textContent = metricsProblem ? `This node's /metrics does not answer (${metricsProblem}); retrying.`
                                               : "Collecting samples…";
    } else {
      const first = history[0].summary;
      const latest = history[history.length - 1].summary;
      const total = Object.keys(latest.count).reduce((sum, op) => sum + latest.count[op] - first.count[op], 0);
      const ms = (q) => {
        const v = quantile(q, first, latest);
        return v === null ? "–" : `${(v * 1000).toFixed(v < 0.01 ? 2 : 1)} ms`;
      };
      const perOp = Object.keys(rates).map((op) => `${op} ${last(rates[op]).toFixed(1)}`).join(", ");
      summaryNode.textContent = `Now ${perOp} requests/s; ${latest.inFlight} in flight. Over the last ` +
        `${Math.round((history[history.length - 1].t - history[0].t) / 1000)} s: ${total} requests, p50 ${ms(0.5)}, ` +
        `p99 ${ms(0.99)}.`;
      summaryNode.setAttribute("data-requests", String(total));
    }
    summaryNode.setAttribute("data-samples", String(history.length));
    const span = chartSpan(now);
    drawChart($("throughput-chart"), Object.keys(rates).map((op) => ({ colour: OP_COLOURS[op], points: rates[op] })), now,
              span, "/s");
    drawChart($("latency-chart"), Object.keys(quantiles).map((q) => ({ colour: QUANTILE_COLOURS[q], points: quantiles[q] })),
              now, span, " ms");
    $("chart-span").textContent = span === 60 ? "minute" : span < 120 ? `${span} s` : `${span / 60} minutes`;
    $("throughput-chart").setAttribute("aria-label", `Requests per second now: ${
      Object.keys(rates).map((op) => `${op} ${last(rates[op]).toFixed(1)}`).join(", ")}`);
    $("latency-chart").setAttribute("aria-label", `Latency now: p50 ${last(quantiles.p50).toFixed(2)} ms, ` +
                                    `p99 ${last(quantiles.p99).toFixed(2)} ms`);
  }

  // The smallest of 1, 2, 5 times a power of ten at or above v.
  function niceCeiling(v) {
    if (!(v > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((m) => m * power).find((c) => c >= v);
  }

  // The charts' span: what the page has collected, from one to five minutes.
  function chartSpan(now) {
    const collected = history.length ? (now - history[0].t) / 1000 : 0;
    return Math.min(WINDOW_S, Math.max(MIN_SPAN_S, Math.ceil(collected / 30) * 30));
  }

  // Lines over the last `span` seconds, with a scale and a grid; null values break a line.
  function drawChart(canvas, series, now, span, unit) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(canvas);
    const pad = { left: 56, right: 12, top: 10, bottom: 22 };
    const start = now - span * 1000;
    const visible = (t) => t >= start;
    const max = niceCeiling(Math.max(0, ...series.flatMap((s) => s.points.filter(([t, v]) => visible(t) && v !== null)
                                                                     .map(([, v]) => v))));
    const x = (t) => pad.left + ((t - start) / (span * 1000)) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);

    ctx.font = `11px ${style.fontFamily}`;
    ctx.fillStyle = style.color;
    ctx.strokeStyle = style.getPropertyValue("--grid").trim() || "#ddd";
    ctx.lineWidth = 1;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
      ctx.lineTo(width - pad.right, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillText(`${Number(v.toPrecision(3))}${unit}`, pad.left - 6, y(v));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = [10, 15, 30, 60].find((s) => span / s <= 6);
    for (let ago = Math.floor(span / step) * step; ago >= 0; ago -= step) {
      const label = ago === 0 ? "now" : step < 60 ? `−${ago} s` : `−${ago / 60} min`;
      ctx.fillText(label, x(now - ago * 1000), height - pad.bottom + 6);
    }
    ctx.lineWidth = 1.75;
    for (const { colour, points } of series) {
      ctx.strokeStyle = colour;
      ctx.beginPath();
      let drawing = false;
      for (const [t, v] of points) {
        if (!visible(t) || v === null) {
          drawing = false;
          continue;
        }
        if (drawing) ctx.lineTo(x(t), y(v));
        else ctx.moveTo(x(t), y(v));
        drawing = true;
      }
      ctx.stroke();
    }
  }

  // ---- Key inspector: /inspect/{key}?N=&R= ----

  function fillQuorumChoices() {
    const members = self ? self.nodes.length : 3;
    const nSelect = $("inspect-n");
    const rSelect = $("inspect-r");
    const n = Number(nSelect.value) || Math.min(3, members);
    nSelect.replaceChildren(...Array.from({ length: members }, (_, i) => el("option", { value: i + 1 }, i + 1)));
    nSelect.value = String(Math.min(n, members));
    const r = Number(rSelect.value) || Math.min(2, Number(nSelect.value));
    rSelect.replaceChildren(...Array.from({ length: Number(nSelect.value) }, (_, i) => el("option", { value: i + 1 }, i + 1)));
    rSelect.value = String(Math.min(r, Number(nSelect.value)));
  }

  function clockText(clock) {
    const entries = Object.entries(clock || {});
    return entries.length ? `{${entries.map(([id, c]) => `${short(id)}: ${c}`).join(", ")}}` : "{}";
  }

  function clockNode(clock) {
    return el("code", { class: "clock", title: JSON.stringify(clock || {}) }, clockText(clock));
  }

  function siblingList(siblings, className) {
    if (!siblings || !siblings.length) return el("span", { class: "muted" }, "nothing stored");
    return el("ul", { class: "siblings" }, siblings.map((s) => el("li", { class: className },
      s.tombstone ? el("span", { class: "tombstone" }, "tombstone (deleted)") : el("code", { class: "value" }, JSON.stringify(s.value)),
      " ", clockNode(s.clock))));
  }

  function renderInspection(body) {
    const replicas = el("table", { id: "inspect-replicas" },
      el("thead", {}, el("tr", {}, ["#", "Replica", "Status", "Version vector", "Siblings (value, clock)"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, body.replicas.map((r, i) => el("tr", { "data-status": r.status, "data-address": r.address },
        el("td", {}, i + 1),
        el("th", { scope: "row" }, r.address, el("br"), el("small", { title: r.node_id }, short(r.node_id))),
        el("td", {}, badge(r.status === "ok" ? "up" : r.status === "missing" ? "suspect" : r.status === "error" ? "down" :
                                                                                        "unreachable", r.status)),
        el("td", {}, r.version_vector ? clockNode(r.version_vector) : "–"),
        el("td", {}, siblingList(r.siblings, "replica-sibling"))))));
    const read = body.read || { status: "unavailable", siblings: [] };
    const count = (read.siblings || []).length;
    const readBlock = el("div", { id: "inspect-read", "data-status": read.status, "data-siblings": count },
      el("h3", {}, `What a read at R=${body.R} answers: `, badge(read.status === "ok" ? "up" : read.status === "conflict" ?
                                                                   "suspect" : "unreachable", read.status)),
      read.status === "unavailable"
        ? el("p", {}, `Only ${read.replies ?? "some"} of the ${body.R} replies a read at R=${body.R} waits for came: ` +
                      "it would answer 503.")
        : siblingList(read.siblings, "read-sibling"),
      read.context ? el("p", {}, "Context: ", el("code", { class: "context" }, read.context)) : null,
      count > 1 ? el("p", { class: "callout" }, `${count} siblings: writes that did not see each other, all kept. ` +
        "The read returns them all; a client must merge them into one value and write that back with the read's " +
        "context, which replaces exactly these siblings.") : null);
    $("inspect-result").replaceChildren(
      el("p", {}, `Key `, el("code", {}, body.key), ` is in partition ${body.partition}; its N=${body.N} replicas, ` +
                  "in preference-list order, each with its own stored copy:"),
      el("div", { class: "scroll" }, replicas), readBlock);
  }

  async function inspect(event) {
    event.preventDefault();
    const key = $("inspect-key").value;
    if (!key) return;
    const query = `N=${encodeURIComponent($("inspect-n").value)}&R=${encodeURIComponent($("inspect-r").value)}`;
    $("inspect-result").replaceChildren(el("p", { class: "muted" }, `Asking for ${key}…`));
    try {
      renderInspection(await fetchJson(`/inspect/${encodeURIComponent(key)}?${query}`));
    } catch (e) {
      $("inspect-result").replaceChildren(el("p", { class: "error" }, `Could not inspect ${key}: ${e.message}`));
    }
  }

  // For tests: the pure parts.
  window.minidynamoDashboard = { parseMetrics, summarise, quantile };

  function start() {
    $("throughput-legend").replaceChildren(...Object.entries(OP_COLOURS).map(([op, c]) => swatch(c, op)));
    $("latency-legend").replaceChildren(...Object.entries(QUANTILE_COLOURS).map(([q, c]) => swatch(c, q)));
    $("ring").addEventListener("mouseover", showPartition);
    $("inspect-form").addEventListener("submit", inspect);
    $("inspect-n").addEventListener("change", fillQuorumChoices);
    fillQuorumChoices();
    pollCluster().then(fillQuorumChoices);
    pollMetrics();
    window.addEventListener("resize", renderTraffic);
  }

  start();
})();
