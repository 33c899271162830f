// The HTML of `rwpsim report`: one self-contained file (uPlot and the data inlined, nothing fetched).
// The page draws the heatmap on a canvas itself, the WSS and stall charts with uPlot, and leaves
// what it drew in window.__rwpsim for the browser test.
import type { ReportData } from "./report.ts"

export interface ReportAssets {
  /** uPlot's IIFE bundle (uPlot.iife.min.js) and stylesheet. */
  readonly uplotJs: string
  readonly uplotCss: string
}

/** JSON safe inside a <script> element. */
function embed(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: #57606a; } .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; }
.pass { background: #1a7f37; } .fail { background: #cf222e; } .unknown { background: #6e7781; }
table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; color: #57606a; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: flex; gap: 32px; flex-wrap: wrap; } .legend span { margin-right: 14px; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
#heatmap { border: 1px solid #d0d7de; image-rendering: pixelated; } #tip { min-height: 1.4em; color: #57606a; }
.held { color: #1a7f37; } .violated { color: #cf222e; font-weight: 600; } .na { color: #6e7781; }
`

// The page's own script: plain ES2020, no imports.
const APP = `
(function () {
  const D = JSON.parse(document.getElementById("rwpsim-data").textContent);
  const out = { ready: false, heatmap: null, wss: null, stalls: null, invariants: [] };
  window.__rwpsim = out;
  const $ = (id) => document.getElementById(id);
  const time = (ns) => ns < 1e3 ? ns + " ns" : ns < 1e6 ? (ns / 1e3).toFixed(3) + " us" : ns < 1e9 ? (ns / 1e6).toFixed(3) + " ms" : (ns / 1e9).toFixed(3) + " s";

  // ---- heatmap -------------------------------------------------------------------------------
  const cols = D.columns.length, rows = D.rows, per = D.pagesPerRow;
  const hm = { cols, rows, cellsWithAccess: 0, cellsWithHot: 0, cellsWithEvict: 0, cellsWithRefault: 0, maxAccessed: 0 };
  const canvas = $("heatmap");
  if (cols > 0 && rows > 0) {
    const cw = Math.max(3, Math.min(64, Math.floor(960 / cols))), ch = Math.max(2, Math.min(12, Math.floor(384 / rows)));
    canvas.width = cols * cw; canvas.height = rows * ch;
    const g = canvas.getContext("2d");
    g.fillStyle = "#ffffff"; g.fillRect(0, 0, canvas.width, canvas.height);
    for (let c = 0; c < cols; c++) {
      const col = D.columns[c];
      for (let r = 0; r < rows; r++) {
        const a = Math.min(1, col.accessed[r] / per), h = Math.min(1, col.hot[r] / per);
        const ev = Math.min(1, col.evicted[r] / per), rf = Math.min(1, col.refaulted[r] / per);
        const x = c * cw, y = r * ch;
        if (col.accessed[r] > 0) {
          hm.cellsWithAccess++; hm.maxAccessed = Math.max(hm.maxAccessed, col.accessed[r]);
          const k = 0.15 + 0.85 * a;
          g.fillStyle = "rgb(" + Math.round(247 - 239 * k) + "," + Math.round(251 - 203 * k) + "," + Math.round(255 - 148 * k) + ")";
          g.fillRect(x, y, cw, ch);
        }
        const bw = Math.max(1, Math.floor(cw / 3));
        if (col.hot[r] > 0) { hm.cellsWithHot++; g.fillStyle = "#2da44e"; g.fillRect(x + cw - bw, y + ch * (1 - h), bw, Math.max(1, ch * h)); }
        if (col.evicted[r] > 0) { hm.cellsWithEvict++; g.fillStyle = "#cf222e"; g.fillRect(x, y + ch - Math.max(1, Math.round(ch * ev)), Math.max(1, cw - bw), Math.max(1, Math.round(ch * ev))); }
        if (col.refaulted[r] > 0) { hm.cellsWithRefault++; g.fillStyle = "#8250df"; g.fillRect(x, y, Math.max(1, Math.floor(cw / 4)), Math.max(1, Math.round(ch * rf))); }
      }
    }
    canvas.addEventListener("mousemove", (m) => {
      const c = Math.floor(m.offsetX / cw), r = Math.floor(m.offsetY / ch), col = D.columns[c];
      if (!col || r >= rows) return;
      const what = D.kind === "workload" ? "cycle " + c + " (scan at " + time(col.t) + ")" : "events up to seq " + col.t;
      $("tip").textContent = what + ", pages " + r * per + ".." + ((r + 1) * per - 1) + ": " + col.accessed[r] + " accessed, " + col.hot[r] + " judged hot, " + col.evicted[r] + " evicted, " + col.refaulted[r] + " faulted back";
    });
  } else {
    canvas.width = 1; canvas.height = 1; $("heatmap-note").textContent = "No page accesses in this trace.";
  }
  out.heatmap = hm;

  // ---- WSS over time ----------------------------------------------------------------------------
  const w = D.wss;
  if (w.t.length > 0 && typeof uPlot === "function") {
    const xs = w.t.map((t) => t / 1e9);
    new uPlot({ width: 900, height: 260, title: "working set per cycle (pages)", scales: { x: { time: false } },
      axes: [{ label: "virtual time (s)" }, { label: "pages" }],
      series: [{ label: "t (s)" }, { label: "true WSS", stroke: "#0969da", width: 2 },
        { label: "estimated WSS", stroke: "#bf8700", width: 2, dash: [6, 4] }, { label: "resident", stroke: "#8250df", width: 1 }] },
      [xs, w.truth, w.estimated, w.resident], $("wss"));
    out.wss = { points: xs.length, truth: w.truth, estimated: w.estimated };
  } else {
    $("wss").textContent = "No tracker cycles in this trace (a step script has none).";
    out.wss = { points: 0, truth: [], estimated: [] };
  }

  // ---- stalls -------------------------------------------------------------------------------------
  const s = D.stalls;
  if (s.total > 0 && typeof uPlot === "function") {
    const idx = s.counts.map((_, i) => i);
    new uPlot({ width: 900, height: 220, title: "stalls: " + s.total + " episodes, longest " + time(s.max), scales: { x: { time: false, range: [-0.5, s.counts.length - 0.5] } },
      axes: [{ label: "stall length (bucket from)", values: (u, v) => v.map((i) => Number.isInteger(i) && i >= 0 ? (i === 0 ? "0-1 ns" : time(Math.pow(2, i))) : "") }, { label: "episodes" }],
      series: [{ label: "bucket" }, { label: "episodes", fill: "rgba(207,34,46,0.5)", stroke: "#cf222e", paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }] },
      [idx, s.counts], $("stalls"));
    out.stalls = { bars: s.counts.filter((n) => n > 0).length, total: s.total, max: s.max };
  } else {
    $("stalls").textContent = "No vCPU was ever blocked or paused.";
    out.stalls = { bars: 0, total: 0, max: 0 };
  }

  // ---- invariants --------------------------------------------------------------------------------
  const tb = $("invariants");
  for (const inv of D.invariants) {
    const tr = document.createElement("tr");
    const status = inv.violations > 0 ? "violated " + inv.violations + "x" : D.kind === "script" ? "not checked (a script plays the VMM)" : "held";
    const cls = inv.violations > 0 ? "violated" : D.kind === "script" ? "na" : "held";
    const first = inv.first ? time(inv.first.t) + (inv.first.page >= 0 ? ", page " + inv.first.page : "") + ": " + inv.first.message : "";
    for (const [text, c] of [[inv.name, ""], [status, cls], [first, ""]]) { const td = document.createElement("td"); td.textContent = text; if (c) td.className = c; tr.appendChild(td); }
    tr.dataset.invariant = inv.name; tr.dataset.status = cls; tb.appendChild(tr);
    out.invariants.push({ name: inv.name, status: cls, violations: inv.violations });
  }
  out.ready = true;
})();
`

export function renderReport(d: ReportData, assets: ReportAssets): string {
  const verdict = d.end.ok === true ? "pass" : d.end.ok === false ? "fail" : "unknown"
  const metrics = Object.entries(d.end.metrics)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td class="num">${esc(String(v))}</td></tr>`)
    .join("")
  const errors =
    d.errors.length === 0
      ? ""
      : `<h2>Errors</h2><ul>${d.errors.map((e) => `<li>${(e.t / 1e6).toFixed(3)} ms: ${esc(e.message)}</li>`).join("")}</ul>`
  const what =
    d.kind === "workload"
      ? `one column per tracker cycle (${d.columns.length}), one row per ${d.pagesPerRow} guest page${d.pagesPerRow > 1 ? "s" : ""} (${d.rows} rows, ${d.pages} pages)`
      : `a step script: one column per ${Math.ceil(d.events / Math.max(1, d.columns.length))} events, one row per ${d.pagesPerRow} page(s) of the first mapping`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>rwpsim report: ${esc(d.header.scenario)}</title>
<style>${assets.uplotCss}</style><style>${STYLE}</style></head>
<body>
<h1>${esc(d.header.scenario)} <span class="badge ${verdict}" id="verdict">${verdict.toUpperCase()}</span></h1>
<div class="sub">seed ${d.header.seed} · rwpsim ${esc(d.header.rwpsim)} · ${d.events} events · ${d.tracker === null ? "no tracker" : `tracker ${esc(d.tracker)}`} · virtual time ${(d.end.t / 1e9).toFixed(3)} s</div>
<h2>Page accesses and the tracker's verdicts</h2>
<div class="sub">${what}. Blue: share of the row's pages the guest accessed (ground truth); green bar: share the tracker judged accessed (hot); red: evicted (judged cold); purple: faulted back.</div>
<div class="legend"><span><i class="sw" style="background:#08306b"></i>accessed</span><span><i class="sw" style="background:#2da44e"></i>judged hot</span><span><i class="sw" style="background:#cf222e"></i>evicted</span><span><i class="sw" style="background:#8250df"></i>faulted back</span></div>
<canvas id="heatmap"></canvas><div id="tip"></div><div id="heatmap-note" class="sub"></div>
<h2>True and estimated working set</h2><div id="wss"></div>
<h2>Stall times</h2><div id="stalls"></div>
<div class="grid"><div><h2>Invariants</h2><table><thead><tr><th>invariant</th><th>result</th><th>first violation</th></tr></thead><tbody id="invariants"></tbody></table></div>
<div><h2>Metrics</h2><table id="metrics">${metrics}</table></div></div>
${errors}
<script id="rwpsim-data" type="application/json">${embed(d)}</script>
<script>${assets.uplotJs}</script>
<script>${APP}</script>
</body></html>
`
}
