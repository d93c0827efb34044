/// The dashboard's only script and style sheet, served from `/assets/`: hand-written, no libraries, nothing
/// fetched from elsewhere. The script refreshes the runs table, and draws the curves of one run (live from the
/// event stream `/api/run/events`, or polling `/api/run/curves`) or of several, overlaid, as SVG.
enum DashboardAssets {
    static let style = """
    body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
    header { background: #2f4b6e; color: #fff; padding: 8px 16px; }
    header a { color: #fff; margin-right: 14px; text-decoration: none; font-weight: bold; }
    main { padding: 12px 16px; max-width: 1400px; }
    h1 { font-size: 20px; margin: 6px 0 12px; } h2 { font-size: 16px; margin: 20px 0 8px; border-bottom: 1px solid #ddd; }
    table { border-collapse: collapse; background: #fff; font-size: 13px; }
    th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
    th[data-key] { background: #eef2f7; } th[data-key] a { color: inherit; text-decoration: none; } th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .status-running { color: #1a7f37; font-weight: bold; } .status-stopped { color: #b35900; } .status-finished { color: #555; }
    .controls { margin: 8px 0; } .controls label { margin-right: 14px; }
    .charts { display: flex; flex-wrap: wrap; gap: 12px; }
    svg.chart { background: #fff; border: 1px solid #ddd; }
    figure { display: inline-block; margin: 6px; } figure img { max-width: 100%; width: 560px; border: 1px solid #ddd; background: #fff; }
    pre { background: #fff; border: 1px solid #ddd; padding: 8px; overflow: auto; max-height: 400px; font-size: 12px; }
    .warn { color: #b00020; } .muted { color: #777; } .best { font-weight: bold; }
    .report img { max-width: 560px; } .report table { margin: 6px 0; }
    dl.summary { display: grid; grid-template-columns: max-content auto max-content auto max-content auto; gap: 4px 12px; font-size: 14px; }
    dl.summary dt { font-weight: bold; } dl.summary dd { margin: 0; }
    """

    static let script = #"""
    "use strict";
    const palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#7f7f7f"];
    const chartTitles = { loss: "Loss", metric: "Validation metric", optimizer: "Learning rate and gradient norm",
                          alignment: "Alignment stage (MoNA / ORCA): losses", "alignment-norms": "Alignment stage: norms, ratios, scales",
                          knowledge: "Source knowledge: probe accuracies", geometry: "Source knowledge: representation geometry" };
    const chartOrder = ["loss", "metric", "alignment", "alignment-norms", "knowledge", "geometry", "optimizer"];
    const hidden = new Set();  // series names hidden by a click on their legend entry
    const svgNS = "http://www.w3.org/2000/svg";

    function el(name, attrs, text) {
      const e = document.createElementNS(svgNS, name);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      return e;
    }
    function fmt(x, digits) {
      if (x === null || x === undefined || !isFinite(x)) return "—";
      return Number(x).toFixed(digits === undefined ? 4 : digits);
    }
    function duration(s) {
      if (s === null || s === undefined) return "—";
      if (s < 60) return s.toFixed(1) + " s";
      if (s < 3600) return (s / 60).toFixed(1) + " min";
      return (s / 3600).toFixed(2) + " h";
    }
    function ticks(lo, hi, n) {
      if (!(hi > lo)) { hi = lo + 1; lo = lo - 1; }
      const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
      const out = [];
      for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
      return out;
    }

    // One SVG line chart; `series` = [{name, x: [], y: []}]. Nulls break a line. A click on a legend entry hides
    // or shows its series (the axes fit what is shown).
    function drawChart(svg, title, all) {
      const series = all.filter(s => !hidden.has(s.name));
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const W = 560, H = 320, L = 62, R = 12, T = 30, B = 52 + 16 * Math.ceil(all.length / 2);
      svg.setAttribute("viewBox", `0 0 ${W} ${H + B - 44}`);
      svg.setAttribute("width", W); svg.setAttribute("height", H + B - 44);
      let xs = [], ys = [], points = 0;
      for (const s of series) for (let i = 0; i < s.x.length; i++) {
        if (s.x[i] !== null && s.y[i] !== null) { xs.push(s.x[i]); ys.push(s.y[i]); points++; }
      }
      svg.setAttribute("data-points", points);
      svg.appendChild(el("text", { x: W / 2, y: 18, "text-anchor": "middle", "font-size": 14, "font-weight": "bold" }, title));
      all.forEach((s, k) => {
        const color = palette[k % palette.length], off = hidden.has(s.name);
        const lx = L + (k % 2) * (W - L) / 2, ly = H + 6 + 16 * Math.floor(k / 2);
        const entry = el("g", { class: "legend", cursor: "pointer", opacity: off ? 0.35 : 1 });
        entry.appendChild(el("rect", { x: lx, y: ly - 9, width: 12, height: 4, fill: color }));
        entry.appendChild(el("text", { x: lx + 16, y: ly - 4, "font-size": 11 }, s.name.length > 44 ? s.name.slice(0, 43) + "…" : s.name));
        entry.addEventListener("click", () => { off ? hidden.delete(s.name) : hidden.add(s.name); drawChart(svg, title, all); });
        svg.appendChild(entry);
      });
      if (points === 0) { svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#777" }, "no data yet")); return; }
      let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
      if (x1 === x0) { x1 = x0 + 1; }
      if (y1 === y0) { y1 = y0 + Math.max(1e-6, Math.abs(y0) * 0.05); y0 = y0 - Math.max(1e-6, Math.abs(y0) * 0.05); }
      const pad = (y1 - y0) * 0.04; y0 -= pad; y1 += pad;
      const px = x => L + (x - x0) / (x1 - x0) * (W - L - R), py = y => T + (1 - (y - y0) / (y1 - y0)) * (H - T - 44);
      for (const t of ticks(y0, y1, 5)) {
        if (t < y0 || t > y1) continue;
        svg.appendChild(el("line", { x1: L, x2: W - R, y1: py(t), y2: py(t), stroke: "#eee" }));
        svg.appendChild(el("text", { x: L - 4, y: py(t) + 4, "text-anchor": "end", "font-size": 10 }, String(+t.toPrecision(4))));
      }
      for (const t of ticks(x0, x1, 6)) {
        if (t < x0 || t > x1) continue;
        svg.appendChild(el("text", { x: px(t), y: H - 28, "text-anchor": "middle", "font-size": 10 }, String(+t.toPrecision(6))));
      }
      svg.appendChild(el("rect", { x: L, y: T, width: W - L - R, height: H - T - 44, fill: "none", stroke: "#999" }));
      svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - 12, "text-anchor": "middle", "font-size": 11 }, "step"));
      series.forEach(s => {
        const k = all.indexOf(s);
        let d = "", pen = false;
        for (let i = 0; i < s.x.length; i++) {
          if (s.x[i] === null || s.y[i] === null) { pen = false; continue; }
          d += (pen ? "L" : "M") + px(s.x[i]).toFixed(1) + " " + py(s.y[i]).toFixed(1) + " "; pen = true;
        }
        const color = palette[k % palette.length];
        svg.appendChild(el("path", { d: d, fill: "none", stroke: color, "stroke-width": 1.6, class: "series", "data-name": s.name }));
        if (s.x.length <= 40) for (let i = 0; i < s.x.length; i++) if (s.x[i] !== null && s.y[i] !== null)
          svg.appendChild(el("circle", { cx: px(s.x[i]), cy: py(s.y[i]), r: 2.2, fill: color }));
      });
    }

    function groupCharts(container, runs) {
      const groups = {};
      for (const r of runs) for (const s of r.series) {
        (groups[s.chart] = groups[s.chart] || []).push({ name: (runs.length > 1 ? r.label + " · " : "") + s.name, x: s.x, y: s.y });
      }
      for (const chart of chartOrder) {
        if (!groups[chart]) continue;
        let svg = container.querySelector(`svg[data-chart="${chart}"]`);
        if (!svg) { svg = el("svg", { class: "chart", "data-chart": chart }); container.appendChild(svg); }
        drawChart(svg, chartTitles[chart], groups[chart]);
      }
      if (!container.querySelector("svg")) container.textContent = "No metrics logged yet.";
      else if (container.firstChild && container.firstChild.nodeType === 3) container.removeChild(container.firstChild);
    }

    // Ids are paths: keep their slashes readable in URLs, as the server writes them.
    function idParam(id) { return encodeURIComponent(id).replace(/%2F/g, "/"); }

    async function getJSON(url) {
      const r = await fetch(url, { cache: "no-store" });
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    }

    // The same thinning as the server's: first and last points, and each bucket's lowest and highest value.
    function thin(x, y, limit) {
      const n = x.length;
      if (limit < 4 || n <= limit) return [x, y];
      const buckets = Math.floor((limit - 2) / 2), inner = n - 2, ox = [x[0]], oy = [y[0]];
      for (let b = 0; b < buckets; b++) {
        const start = 1 + Math.floor(b * inner / buckets), end = 1 + Math.floor((b + 1) * inner / buckets);
        if (start >= end) continue;
        let lo = start, hi = start;
        for (let i = start; i < end; i++) {
          if (y[i] !== null && (y[lo] === null || y[i] < y[lo])) lo = i;
          if (y[i] !== null && (y[hi] === null || y[i] > y[hi])) hi = i;
        }
        for (const i of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) { ox.push(x[i]); oy.push(y[i]); }
      }
      ox.push(x[n - 1]); oy.push(y[n - 1]);
      return [ox, oy];
    }

    // Run page: live curves from the server's event stream (a snapshot, then the points of each appended line),
    // or, when streams are unavailable (refused when too many are open, no EventSource, ?live=poll), the whole
    // curves document every 2 s while the run is going. #charts records how: data-live (sse, poll, ended, gone),
    // data-updates (updates applied) and data-first-points (loss points in the first look).
    async function runPage(main) {
      const id = main.dataset.id, charts = document.getElementById("charts"), max = 800;
      let series = new Map(), records = 0, status = main.dataset.status;
      charts.dataset.updates = "0";
      function show() {
        groupCharts(charts, [{ label: id, series: Array.from(series.values()) }]);
        const loss = charts.querySelector('svg[data-chart="loss"]');
        if (loss && charts.dataset.firstPoints === undefined) charts.dataset.firstPoints = loss.getAttribute("data-points");
        const s = document.getElementById("status");
        if (s) { s.textContent = status; s.className = "status-" + status; }
        const count = document.getElementById("records");
        if (count) count.textContent = records;
      }
      function gone(message) {
        const note = document.getElementById("gone");
        if (note) note.textContent = "The run cannot be read any more (deleted?): " + message;
      }
      function snapshot(d) {
        series = new Map();
        for (const s of d.series) series.set(s.name, s);
        records = d.records; status = d.status;
        show();
      }
      function append(d) {
        for (const s of d.series) {
          let cur = series.get(s.name);
          if (!cur) { cur = { chart: s.chart, stage: s.stage, split: s.split, key: s.key, name: s.name, points: 0, x: [], y: [] }; series.set(s.name, cur); }
          for (let i = 0; i < s.x.length; i++) { cur.x.push(s.x[i] === null ? cur.points + i : s.x[i]); cur.y.push(s.y[i]); }
          cur.points += s.points;
          if (cur.x.length > 2 * max) [cur.x, cur.y] = thin(cur.x, cur.y, max);
        }
        records += d.records;
        charts.dataset.updates = String(Number(charts.dataset.updates) + 1);
        show();
      }
      async function poll() {
        charts.dataset.live = "poll";
        async function tick() {
          try {
            const d = await getJSON("/api/run/curves?max=" + max + "&id=" + idParam(id));
            snapshot(d);
            charts.dataset.updates = String(Number(charts.dataset.updates) + 1);
            return d.status === "running" || !d.complete;
          } catch (e) {
            charts.setAttribute("data-error", String(e));
            gone(e.message);
            return false;
          }
        }
        if (await tick()) {
          const timer = setInterval(async () => { if (!(await tick())) clearInterval(timer); }, 2000);
        }
      }
      if (!window.EventSource || main.dataset.live === "poll") return poll();
      const source = new EventSource("/api/run/events?max=" + max + "&id=" + idParam(id));
      charts.dataset.live = "connecting";
      source.addEventListener("snapshot", e => { charts.dataset.live = "sse"; snapshot(JSON.parse(e.data)); });
      source.addEventListener("records", e => append(JSON.parse(e.data)));
      source.addEventListener("status", e => { const d = JSON.parse(e.data); status = d.status; show(); });
      source.addEventListener("end", e => { source.close(); charts.dataset.live = "ended"; status = JSON.parse(e.data).status; show(); });
      source.addEventListener("gone", e => { source.close(); charts.dataset.live = "gone"; gone(JSON.parse(e.data).error); });
      // A refused or failed stream is closed by the browser (a dropped one reconnects by itself, resuming
      // from the last event id): poll instead.
      source.onerror = () => { if (source.readyState === EventSource.CLOSED && charts.dataset.live !== "poll") poll(); };
    }

    async function comparePage(main) {
      const ids = JSON.parse(main.dataset.ids), charts = document.getElementById("charts");
      async function tick() {
        const runs = [];
        for (const id of ids) {
          try { const d = await getJSON("/api/run/curves?max=500&id=" + idParam(id)); d.label = id; runs.push(d); } catch (e) { }
        }
        groupCharts(charts, runs);
        return runs.some(r => r.status === "running");
      }
      if (await tick()) setInterval(tick, 3000);
    }

    // Runs page: the server sorts, filters and pages (column links, the filter form); the rows of the page shown
    // are refreshed from /api/runs with the same query every 3 s.
    function runsPage(main) {
      const table = document.getElementById("runs"), body = table.tBodies[0], form = document.getElementById("filters");
      for (const select of form.querySelectorAll("select")) select.addEventListener("change", () => form.submit());
      document.getElementById("compare").addEventListener("click", () => {
        const ids = Array.from(body.querySelectorAll("input:checked")).map(c => "run=" + idParam(c.value));
        if (ids.length) location.href = "/compare?" + ids.join("&");
      });
      function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
      async function refresh() {
        let data;
        try { data = await getJSON(main.dataset.api); } catch (e) { return; }
        const checked = new Set(Array.from(body.querySelectorAll("input:checked")).map(c => c.value));
        while (body.rows.length) body.deleteRow(0);
        for (const r of data.runs) {
          const row = body.insertRow();
          row.dataset.id = r.id; row.dataset.status = r.status;
          const box = document.createElement("input"); box.type = "checkbox"; box.value = r.id; box.checked = checked.has(r.id);
          row.insertCell().appendChild(box);
          const a = document.createElement("a"); a.href = "/run?id=" + idParam(r.id); a.textContent = r.name;
          row.insertCell().appendChild(a);
          cell(row, r.task || "?"); cell(row, r.body || "?"); cell(row, r.method || "?"); cell(row, r.seed || "?");
          cell(row, r.status, "status-" + r.status);
          cell(row, (r.metric ? r.metric + " " : "") + fmt(r.best_validation), "num"); cell(row, fmt(r.test), "num");
          cell(row, duration(r.seconds), "num"); cell(row, r.step === null ? "—" : String(r.step), "num");
        }
        document.getElementById("run-count").textContent = data.total;
        document.getElementById("run-range").textContent = (data.runs.length ? data.offset + 1 : 0) + "–" + (data.offset + data.runs.length);
      }
      setInterval(refresh, 3000);
    }

    const main = document.querySelector("main");
    if (main && main.dataset.page === "run") runPage(main);
    if (main && main.dataset.page === "compare") comparePage(main);
    if (main && main.dataset.page === "runs") runsPage(main);
    """#
}
