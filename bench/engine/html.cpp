// SPDX-License-Identifier: Apache-2.0
// The HTML report: one self-contained page (Chart.js embedded, the data inline) that opens offline.
// After the charts are drawn the page appends <div id="render-status" data-charts=N data-points=M>
// so a headless browser (and the test) can tell that it rendered and the charts have data.
#include <string>

#include <fmt/format.h>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Text inside <script> must not contain "</" (it could close the element).
std::string script_safe(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

constexpr std::string_view kStyle = R"css(
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{margin-bottom:.2em} .meta{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.85em;margin-top:1em}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right} td:first-child,th:first-child{text-align:left}
tr.bad td{background:#fdd} .chart{margin:1em 0}
)css";

constexpr std::string_view kScript = R"js(
(function () {
  const palette = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f',
                   '#bcbd22','#17becf','#393b79','#637939','#8c6d31','#843c39','#7b4173','#3182bd'];
  const rows = REPORT.results;
  let points = 0;
  const charts = [];
  const common = {animation: false, responsive: false, plugins: {legend: {position: 'right'}}};

  // 1. Throughput vs size, log-log, one line per mechanism and placement.
  const groups = {};
  for (const r of rows) {
    if (r.pattern !== 'throughput' || r.bytes_per_s === null) continue;
    const key = r.mechanism + (r.placement === 'cross-cpu' ? '' : ' (' + r.placement + ')');
    (groups[key] = groups[key] || []).push({x: r.size, y: r.bytes_per_s});
  }
  const tpSets = Object.keys(groups).map((k, i) => {
    points += groups[k].length;
    return {label: k, data: groups[k].sort((a, b) => a.x - b.x), borderColor: palette[i % palette.length],
            backgroundColor: palette[i % palette.length], showLine: true, fill: false};
  });
  charts.push(new Chart(document.getElementById('chart-throughput'), {type: 'scatter',
    data: {datasets: tpSets},
    options: Object.assign({}, common, {scales: {
      x: {type: 'logarithmic', title: {display: true, text: 'message size (bytes)'}},
      y: {type: 'logarithmic', title: {display: true, text: 'bytes/s'}}}})}));

  // 2. Round-trip percentiles per mechanism (log scale).
  const rtt = rows.filter(r => r.pattern === 'rtt' && r.rtt_ns.p50 !== null)
                  .sort((a, b) => a.size - b.size || a.rtt_ns.p50 - b.rtt_ns.p50);
  const labels = rtt.map(r => r.mechanism + ' ' + r.size + ' B' + (r.placement === 'cross-cpu' ? '' : ' ' + r.placement));
  const qs = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']];
  const rttSets = qs.map(([k, name], i) => {
    const data = rtt.map(r => r.rtt_ns[k]);
    points += data.filter(v => v !== null).length;
    return {label: name + ' (ns)', data: data, backgroundColor: palette[i]};
  });
  charts.push(new Chart(document.getElementById('chart-rtt'), {type: 'bar',
    data: {labels: labels, datasets: rttSets},
    options: Object.assign({}, common, {scales: {y: {type: 'logarithmic', title: {display: true, text: 'round trip (ns)'}}}})}));

  // 3. CPU per message, both sides, at the smallest throughput size.
  const tp = rows.filter(r => r.pattern === 'throughput' && r.msgs_per_s !== null);
  const smallest = Math.min(...tp.map(r => r.size));
  const cpuRows = tp.filter(r => r.size === smallest);
  const cpuLabels = cpuRows.map(r => r.mechanism + (r.placement === 'cross-cpu' ? '' : ' ' + r.placement));
  const cpuSets = [['sender', 'sender'], ['receiver', 'receiver']].map(([k, name], i) => {
    const data = cpuRows.map(r => r.cpu_ns_per_msg[k]);
    points += data.filter(v => v !== null).length;
    return {label: name + ' CPU ns per message (' + smallest + ' B)', data: data, backgroundColor: palette[i + 2]};
  });
  charts.push(new Chart(document.getElementById('chart-cpu'), {type: 'bar',
    data: {labels: cpuLabels, datasets: cpuSets},
    options: Object.assign({}, common, {scales: {y: {type: 'logarithmic', title: {display: true, text: 'CPU ns per message'}}}})}));

  const status = document.createElement('div');
  status.id = 'render-status';
  status.dataset.charts = String(charts.length);
  status.dataset.points = String(points);
  status.textContent = 'rendered ' + charts.length + ' charts with ' + points + ' data points';
  document.body.appendChild(status);
})();
)js";

std::string opt_cell(const std::optional<double>& v, std::string (*f)(double)) { return v ? f(*v) : "n/a"; }

}  // namespace

std::string to_html(const Report& r, const std::string& chart_js) {
  std::string rows;
  for (const Row& row : r.results) {
    const bool bad = row.verified && !*row.verified;
    rows += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        bad ? " class=\"bad\"" : "", escape_html(row.mechanism), to_string(row.pattern), human_size(row.size),
        escape_html(row.placement), to_string(row.wait), opt_cell(row.msgs_per_s, human_count),
        opt_cell(row.bytes_per_s, human_bytes_per_s), opt_cell(row.p50, human_ns), opt_cell(row.p99, human_ns),
        opt_cell(row.p999, human_ns), opt_cell(row.cpu_sender, human_ns), opt_cell(row.cpu_receiver, human_ns),
        row.samples, row.verified ? (*row.verified ? "yes" : "NO") : "-", escape_html(row.limited.value_or("")));
  }
  std::string na;
  for (const auto& n : r.not_available) na += fmt::format("<li>{}: {}</li>", escape_html(n.mechanism), escape_html(n.reason));
  return fmt::format(
      R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ipckit bench</title>
<style>{style}</style>
<script>{chart}</script>
</head><body>
<h1>ipckit bench</h1>
<p class="meta">{model}, {cpus} CPUs, kernel {kernel}, clocksource {clock}, pinned to CPUs {a},{b}<br>
{compiler} ({type}) &middot; <code>{command}</code>{quick}</p>
<h2>Throughput vs message size</h2>
<canvas class="chart" id="chart-throughput" width="1100" height="460"></canvas>
<h2>Round-trip latency percentiles</h2>
<canvas class="chart" id="chart-rtt" width="1100" height="460"></canvas>
<h2>CPU per message</h2>
<canvas class="chart" id="chart-cpu" width="1100" height="420"></canvas>
<h2>All figures</h2>
<table><tr><th>mechanism</th><th>pattern</th><th>size</th><th>placement</th><th>wait</th><th>msgs/s</th><th>bytes/s</th>
<th>p50</th><th>p99</th><th>p99.9</th><th>cpu/msg sender</th><th>cpu/msg receiver</th><th>samples</th><th>verified</th><th>limited</th></tr>
{rows}</table>
<h2>Not available</h2><ul>{na}</ul>
<script>const REPORT = {data};</script>
<script>{script}</script>
</body></html>
)html",
      fmt::arg("style", kStyle), fmt::arg("chart", script_safe(chart_js)), fmt::arg("model", escape_html(r.machine.model)),
      fmt::arg("cpus", r.machine.cpus), fmt::arg("kernel", escape_html(r.machine.kernel)),
      fmt::arg("clock", escape_html(r.machine.clocksource)), fmt::arg("a", r.machine.pinned[0]),
      fmt::arg("b", r.machine.pinned[1]), fmt::arg("compiler", escape_html(r.build.compiler)),
      fmt::arg("type", escape_html(r.build.type)), fmt::arg("command", escape_html(r.command)),
      fmt::arg("quick", r.quick ? " &middot; quick run: indicative figures" : ""), fmt::arg("rows", rows),
      fmt::arg("na", na), fmt::arg("data", script_safe(to_json(r).dump())), fmt::arg("script", kScript));
}

}  // namespace ipckit::bench
