// SPDX-License-Identifier: Apache-2.0
// The HTML report (--html): one self-contained page (Chart.js embedded, the data inline) that opens
// offline, reads in a 1400-px window and prints. First the run (machine, kernel, build, command,
// date), then the headline (the summary's answers with their figures), then one chart per
// question, each a <canvas> of its own in the page source, then every figure in a table.
// After drawing, the page writes what it drew into data attributes: <div id="render-status"
// data-charts=N data-points=M>, on each canvas data-series-colors / data-series-labels (JSON
// lists), and on each headline answer data-json-value (the figure looked up in the page's own JSON
// copy), so a headless browser (and the test) can check the page without reading pixels.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/report.hpp"
#include "engine/report_detail.hpp"

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
:root{--ink:#1d2330;--muted:#5b6475;--line:#d5d9e0}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:20px 28px;color:var(--ink);max-width:1340px}
h1{margin:0 0 4px;font-size:26px} h2{margin:28px 0 6px;font-size:20px;border-bottom:1px solid var(--line);padding-bottom:3px}
h3{margin:14px 0 4px;font-size:15px}
.run{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px;color:var(--muted)}
.run b{color:var(--ink);font-weight:600} code{font-size:12px}
.warn{background:#fff4d6;border:1px solid #e5b94a;padding:6px 10px;margin:10px 0;font-size:14px}
#headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px;margin-top:10px}
.answer{border:1px solid var(--line);border-left:5px solid #2f6fdf;border-radius:4px;padding:8px 12px;background:#f7f9fc}
.answer .q{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.answer .m{font-size:20px;font-weight:650;margin:2px 0} .answer .fig{font-size:16px;font-weight:600;color:#2f6fdf}
.answer .t{font-size:13px;margin-top:4px}
.notes{font-size:14px} .caption{font-size:13px;color:var(--muted);margin:2px 0 6px}
.chart-block{margin:8px 0 18px;break-inside:avoid;page-break-inside:avoid}
.multiples{display:grid;grid-template-columns:1fr 1fr;gap:6px 18px}
canvas{display:block;max-width:100%}
table{border-collapse:collapse;font-size:11px;margin-top:8px}
td,th{border:1px solid var(--line);padding:2px 4px;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom}
th{background:#eef1f6;position:sticky;top:0} td.l,th.l{text-align:left}
tr.bad td{background:#fdd} tr.noisy td.spread{background:#fff0c2;font-weight:600}
@media print{body{max-width:none;padding:0} h2{break-after:avoid} .multiples{grid-template-columns:1fr 1fr}
 canvas{max-width:100%!important;height:auto!important} th{position:static} table{font-size:9px}}
)css";

constexpr std::string_view kScript = R"js(
(function () {
  const rows = REPORT.results;
  const families = FAMILIES;
  // Families grouped by colour: each a hue range; every series a colour of its own within it.
  const hues = {'baseline': [0, 0, 8], 'ipckit channel': [8, 40, 70], 'kernel stream / socket': [195, 250, 70],
                'kernel queue / shm': [95, 160, 60], 'peer library': [270, 320, 55]};
  const members = {};
  for (const r of rows) {
    const f = families[r.mechanism];
    members[f] = members[f] || [];
    if (!members[f].includes(r.mechanism)) members[f].push(r.mechanism);
  }
  function colour(mech, placement) {
    const f = families[mech];
    const list = members[f];
    const i = list.indexOf(mech), n = Math.max(list.length, 1);
    const [h0, h1, sat] = hues[f] || [0, 360, 60];
    const h = Math.round(h0 + (h1 - h0) * (i / n));
    let l = f === 'baseline' ? 20 + Math.round(50 * i / n) : (i % 2 ? 58 : 38);
    if (placement === 'same-cpu') l = Math.min(l + 18, 80);
    return 'hsl(' + h + ',' + sat + '%,' + l + '%)';
  }
  const markers = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross', 'dash'];
  const label = r => r.mechanism + (r.placement === 'cross-cpu' || r.placement === 'in-process' ? '' : ' (' + r.placement + ')');
  const bytesText = v => v >= 1048576 && v % 1048576 === 0 ? (v / 1048576) + ' MiB' : v >= 1024 && v % 1024 === 0 ? (v / 1024) + ' KiB' : v + ' B';
  const countText = v => v >= 1e9 ? (v / 1e9).toPrecision(3) + ' G' : v >= 1e6 ? (v / 1e6).toPrecision(3) + ' M' : v >= 1e3 ? (v / 1e3).toPrecision(3) + ' k' : String(Math.round(v));
  const logTicks = (fmtFn) => ({callback: function (v) {
    const e = Math.log10(v);
    return Math.abs(e - Math.round(e)) < 1e-9 || Math.abs(Math.log10(v / 2) - Math.round(Math.log10(v / 2))) < 1e-9 ||
           Math.abs(Math.log10(v / 5) - Math.round(Math.log10(v / 5))) < 1e-9 ? fmtFn(v) : '';
  }});
  const good = r => r.limited === null && r.verified !== null;
  let points = 0;
  const charts = [];
  function record(canvas, sets) {
    canvas.dataset.seriesColors = JSON.stringify(sets.map(s => s.colour));
    canvas.dataset.seriesLabels = JSON.stringify(sets.map(s => s.label));
  }
  const common = {animation: false, responsive: false, devicePixelRatio: 2,
                  plugins: {legend: {labels: {usePointStyle: true, boxWidth: 10, font: {size: 11}}}}};
  // Horizontal whiskers drawn over a horizontal bar chart: whisker[i] = [lo, hi] and dot[i].
  const overlay = {id: 'overlay', afterDatasetsDraw(chart) {
    const o = chart.config.options.overlay;
    if (!o) return;
    const ctx = chart.ctx, x = chart.scales.x, meta = chart.getDatasetMeta(0), area = chart.chartArea;
    ctx.save();
    // A whisker reaching below the axis minimum stops at the plot's edge, not over the labels.
    ctx.beginPath(); ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top); ctx.clip();
    meta.data.forEach((bar, i) => {
      const w = o.whisker[i];
      if (w && w[0] !== null && w[1] !== null && w[1] > w[0]) {
        const a = x.getPixelForValue(w[0]), b = x.getPixelForValue(w[1]);
        ctx.strokeStyle = o.whiskerColour || '#222'; ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(a, bar.y); ctx.lineTo(b, bar.y);
        ctx.moveTo(a, bar.y - 5); ctx.lineTo(a, bar.y + 5); ctx.moveTo(b, bar.y - 5); ctx.lineTo(b, bar.y + 5); ctx.stroke();
      }
      if (o.dot && o.dot[i] !== null) {
        ctx.fillStyle = o.dotColour[i]; ctx.strokeStyle = '#111'; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.arc(x.getPixelForValue(o.dot[i]), bar.y, 5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      }
    });
    ctx.restore();
  }};
  Chart.register(overlay);

  // 1. Messages per second at the smallest size: sorted horizontal bars, whiskers = min..max of repeats.
  const tp = rows.filter(r => r.pattern === 'throughput' && good(r) && r.msgs_per_s !== null);
  const small = tp.length ? Math.min(...tp.map(r => r.size)) : 0;
  const msgRows = tp.filter(r => r.size === small).sort((a, b) => b.msgs_per_s - a.msgs_per_s);
  const msgCanvas = document.getElementById('chart-msgs');
  if (msgCanvas) {
    const sets = msgRows.map(r => ({label: label(r), colour: colour(r.mechanism, r.placement)}));
    points += msgRows.length;
    const range = r => {
      const v = ((r.per_repeat || {}).msgs_per_s || []).filter(x => x !== null);
      return v.length > 1 ? [Math.min(...v), Math.max(...v)] : [null, null];
    };
    charts.push(new Chart(msgCanvas, {type: 'bar',
      data: {labels: msgRows.map(r => label(r) + (r.noisy ? '  (noisy)' : '')),
             datasets: [{label: 'msgs/s at ' + bytesText(small), data: msgRows.map(r => r.msgs_per_s),
                         backgroundColor: sets.map(s => s.colour), borderColor: '#333', borderWidth: 0.5}]},
      options: Object.assign({}, common, {indexAxis: 'y', overlay: {whisker: msgRows.map(range)},
        plugins: {legend: {display: false}},
        scales: {x: {type: 'logarithmic', title: {display: true, text: 'messages per second (log scale)'},
                     ticks: logTicks(v => countText(v) + '/s')},
                 y: {ticks: {autoSkip: false, font: {size: 11}}}}})}));
    record(msgCanvas, sets);
  }

  // 2. Bytes per second against message size, log-log in GB/s: small multiples, one per family.
  for (const canvas of document.querySelectorAll('canvas[data-family]')) {
    const fam = canvas.dataset.family;
    const groups = {};
    for (const r of rows) {
      if (r.pattern !== 'throughput' || !good(r) || r.bytes_per_s === null || families[r.mechanism] !== fam) continue;
      const k = label(r);
      (groups[k] = groups[k] || {r: r, pts: []}).pts.push({x: r.size, y: r.bytes_per_s / 1e9});
    }
    const keys = Object.keys(groups);
    const sizes = [...new Set(keys.flatMap(k => groups[k].pts.map(p => p.x)))].sort((a, b) => a - b);
    const sets = keys.map((k, i) => {
      const c = colour(groups[k].r.mechanism, groups[k].r.placement);
      points += groups[k].pts.length;
      return {label: k, colour: c, data: groups[k].pts.sort((a, b) => a.x - b.x), borderColor: c, backgroundColor: c,
              pointStyle: markers[i % markers.length], pointRadius: 5, showLine: true, fill: false, borderWidth: 2};
    });
    charts.push(new Chart(canvas, {type: 'scatter', data: {datasets: sets},
      options: Object.assign({}, common, {plugins: {legend: {position: 'bottom', labels: common.plugins.legend.labels},
                                                     title: {display: true, text: fam}},
        scales: {x: {type: 'logarithmic', title: {display: true, text: 'message size'},
                     // A tick at every size measured (log ticks would fall on powers of ten).
                     afterBuildTicks: axis => { axis.ticks = sizes.map(v => ({value: v})); },
                     ticks: {callback: v => bytesText(v)}},
                 y: {type: 'logarithmic', title: {display: true, text: 'GB/s (log scale)'},
                     ticks: logTicks(v => v >= 1 ? v + ' GB/s' : v >= 0.001 ? (v * 1000) + ' MB/s' : (v * 1e6) + ' kB/s')}}})}));
    record(canvas, sets);
  }

  // 3. Round trips: p50 dot, p90..p99.9 whisker, in microseconds on a log axis, one chart per size.
  for (const canvas of document.querySelectorAll('canvas[data-rtt-size]')) {
    const size = Number(canvas.dataset.rttSize);
    const rr = rows.filter(r => r.pattern === 'rtt' && r.size === size && good(r) && r.rtt_ns.p50 !== null)
                   .sort((a, b) => a.rtt_ns.p50 - b.rtt_ns.p50);
    const us = v => v === null ? null : v / 1000;
    const sets = rr.map(r => ({label: label(r), colour: colour(r.mechanism, r.placement)}));
    const lo = rr.map(r => us(r.rtt_ns.p90 !== null ? r.rtt_ns.p90 : r.rtt_ns.p50));
    const hi = rr.map(r => us(r.rtt_ns.p999 !== null ? r.rtt_ns.p999 : r.rtt_ns.p99 !== null ? r.rtt_ns.p99 : r.rtt_ns.p90));
    points += rr.length;
    const all = rr.flatMap(r => [r.rtt_ns.p50, r.rtt_ns.p999, r.rtt_ns.p99]).filter(v => v !== null).map(v => v / 1000);
    charts.push(new Chart(canvas, {type: 'bar',
      data: {labels: rr.map(r => label(r) + (r.noisy ? '  (noisy)' : '')),
             // An invisible bar per row carries the category; the overlay draws the dot and whisker.
             datasets: [{label: 'p50', data: rr.map(r => us(r.rtt_ns.p50)), backgroundColor: 'rgba(0,0,0,0)'}]},
      options: Object.assign({}, common, {indexAxis: 'y',
        overlay: {whisker: rr.map((r, i) => [lo[i], hi[i]]), dot: rr.map(r => us(r.rtt_ns.p50)), dotColour: sets.map(s => s.colour)},
        plugins: {legend: {display: false}, tooltip: {enabled: false}},
        scales: {x: {type: 'logarithmic', min: all.length ? Math.pow(10, Math.floor(Math.log10(Math.min(...all)))) : undefined,
                     max: all.length ? Math.pow(10, Math.ceil(Math.log10(Math.max(...all) * 1.05))) : undefined,
                     title: {display: true, text: 'round trip, \u00b5s (log scale): dot = p50, line = p90 to p99.9'},
                     ticks: logTicks(v => (v >= 1000 ? (v / 1000) + ' ms' : v + ' \u00b5s'))},
                 y: {ticks: {autoSkip: false, font: {size: 11}}}}})}));
    record(canvas, sets);
  }

  // 4. CPU per message at the smallest throughput size, both sides.
  const cpuCanvas = document.getElementById('chart-cpu');
  if (cpuCanvas) {
    const cr = msgRows.filter(r => r.cpu_ns_per_msg.sender !== null || r.cpu_ns_per_msg.receiver !== null)
                      .sort((a, b) => (a.cpu_ns_per_msg.sender || 0) + (a.cpu_ns_per_msg.receiver || 0) -
                                      (b.cpu_ns_per_msg.sender || 0) - (b.cpu_ns_per_msg.receiver || 0));
    const sides = [['sender', 'sender', '#3a6fd8'], ['receiver', 'receiver', '#e0892b']];
    const sets = sides.map(([k, name, c]) => {
      const data = cr.map(r => r.cpu_ns_per_msg[k]);
      points += data.filter(v => v !== null).length;
      return {label: name + ' CPU per message', colour: c, data: data, backgroundColor: c};
    });
    charts.push(new Chart(cpuCanvas, {type: 'bar', data: {labels: cr.map(label), datasets: sets},
      options: Object.assign({}, common, {indexAxis: 'y',
        scales: {x: {type: 'logarithmic', title: {display: true, text: 'CPU ns per message at ' + bytesText(small) + ' (log scale)'},
                     ticks: logTicks(v => v >= 1e6 ? (v / 1e6) + ' ms' : v >= 1000 ? (v / 1000) + ' \u00b5s' : v + ' ns')},
                 y: {ticks: {autoSkip: false, font: {size: 11}}}}})}));
    record(cpuCanvas, sets);
  }

  // The headline's figures, looked up in this page's JSON.
  for (const el of document.querySelectorAll('.answer')) {
    const d = el.dataset;
    const r = rows.find(x => x.mechanism === d.mechanism && x.pattern === d.pattern && String(x.size) === d.size && x.placement === d.placement);
    const path = d.figure.split('.');
    let v = r;
    for (const p of path) v = v === undefined || v === null ? v : v[p];
    el.dataset.jsonValue = v === undefined || v === null ? 'missing' : String(v);
  }

  const status = document.createElement('div');
  status.id = 'render-status';
  status.dataset.charts = String(charts.length);
  status.dataset.points = String(points);
  status.className = 'caption';
  status.textContent = 'rendered ' + charts.length + ' charts with ' + points + ' data points';
  document.body.appendChild(status);
  status.dataset.pageHeight = String(Math.ceil(document.documentElement.scrollHeight));
})();
)js";

std::string opt_cell(const std::optional<double>& v, std::string (*f)(double)) { return v ? f(*v) : "n/a"; }
std::string cpu_cell(const std::optional<double>& v) { return v ? fmt::format("{:.0f} ns", *v) : "-"; }

std::string slug(std::string_view s) {
  std::string out;
  for (char c : s) out += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '-';
  return out;
}

std::string load_text(const std::optional<LoadAverage>& l) {
  return l ? fmt::format("{:.2f} {:.2f} {:.2f}", l->one, l->five, l->fifteen) : std::string("n/a");
}

}  // namespace

std::string to_html(const Report& r, const std::string& chart_js) {
  // The run.
  std::string run;
  auto meta = [&](std::string_view k, const std::string& v) {
    run += fmt::format("<b>{}</b><span>{}</span>\n", k, v);
  };
  meta("date", escape_html(r.date.empty() ? "n/a" : r.date + " (UTC)"));
  meta("machine", escape_html(fmt::format("{} · {} · {} CPUs · pinned to CPUs {},{}", r.hostname, r.machine.model,
                                          r.machine.cpus, r.machine.pinned[0], r.machine.pinned[1])));
  meta("kernel", escape_html(fmt::format("{} · clocksource {} · governor {}", r.machine.kernel, r.machine.clocksource,
                                         r.machine.cpu_governor.value_or("n/a"))));
  meta("build", escape_html(fmt::format("ipckit {}{} · {} ({}) · {}", r.ipckit_version,
                                        r.git_revision ? " rev " + *r.git_revision : "", r.build.compiler,
                                        r.build.type, r.build.flags)));
  meta("command", "<code>" + escape_html(r.command) + "</code>");
  meta("method", escape_html(fmt::format("warm-up {} + measured {} per run, interleaved repeats; load average "
                                         "(1/5/15 min) {} at the start, {} at the end; {:.0f} s in all",
                                         format_duration(Seconds(r.warmup_s)), format_duration(Seconds(r.duration_s)),
                                         load_text(r.load_start), load_text(r.load_end), r.wall_s)));
  std::string warnings;
  if (r.quick) warnings += "<div class=\"warn\">Quick run: short windows, indicative figures only.</div>\n";
  if (!r.loaded.empty()) {
    std::string why;
    for (const auto& w : r.loaded) why += (why.empty() ? "" : "; ") + w;
    warnings += "<div class=\"warn\" id=\"loaded\"><b>The machine looked loaded:</b> " + escape_html(why) +
                ". Figures may be low and noisy.</div>\n";
  }

  // The headline: the summary's answers, then its other lines (claims, losses, noise).
  const auto items = headline(r);
  std::string answers;
  for (const HeadlineItem& h : items) {
    std::string fig;
    if (h.figure == "msgs_per_s") fig = human_count(h.value) + " msgs/s";
    if (h.figure == "bytes_per_s") fig = human_bytes_per_s(h.value);
    if (h.figure == "rtt_ns.p50") fig = "p50 " + human_ns(h.value);
    answers += fmt::format(
        "<div class=\"answer\" data-mechanism=\"{}\" data-pattern=\"{}\" data-size=\"{}\" data-placement=\"{}\" "
        "data-figure=\"{}\" data-value=\"{}\"><div class=\"q\">{}</div><div class=\"m\">{}</div>"
        "<div class=\"fig\">{}</div><div class=\"t\">{}.</div></div>\n",
        escape_html(h.mechanism), to_string(h.pattern), h.size, escape_html(h.placement), h.figure, h.value,
        escape_html(h.question), escape_html(h.mechanism), escape_html(fig), escape_html(h.text));
  }
  std::string notes;
  {
    const std::string summary = format_summary(r);
    std::size_t pos = 0, n = 0;
    while (pos < summary.size()) {
      const std::size_t nl = summary.find('\n', pos);
      const std::string line = summary.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (line.rfind("- ", 0) == 0 && n++ >= items.size()) notes += "<li>" + escape_html(line.substr(2)) + "</li>";
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  std::set<std::string> zero_copy;
  for (const Row& row : r.results) {
    if (row.zero_copy) zero_copy.insert(row.mechanism);
  }
  if (!zero_copy.empty()) {
    std::string names;
    for (const auto& z : zero_copy) names += (names.empty() ? "" : ", ") + z;
    notes += "<li>Zero-copy rows (" + escape_html(names) +
             "): the receiver verifies the sender's bytes in place, so their bytes/s is not a copy bandwidth.</li>";
  }

  // The charts: one literal <canvas> each.
  std::size_t small = 0, msg_rows = 0;
  std::set<std::string> tp_families;
  std::set<std::size_t> rtt_sizes;
  std::map<std::size_t, std::size_t> rtt_rows;
  for (const Row& row : r.results) {
    if (row.limited || !row.verified) continue;
    if (row.pattern == Pattern::kThroughput && row.msgs_per_s) {
      if (small == 0 || row.size < small) small = row.size;
      tp_families.insert(std::string(detail::family(row.mechanism)));
    }
    if (row.pattern == Pattern::kRtt && row.p50) {
      rtt_sizes.insert(row.size);
      ++rtt_rows[row.size];
    }
  }
  for (const Row& row : r.results) {
    if (row.pattern == Pattern::kThroughput && row.size == small && row.msgs_per_s && !row.limited && row.verified) ++msg_rows;
  }
  const auto bar_height = [](std::size_t n) { return 70 + 24 * std::max<std::size_t>(n, 1); };
  std::string charts;
  if (small) {
    charts += fmt::format(
        "<h2>Messages per second, {} messages</h2><p class=\"caption\">Throughput of every mechanism, fastest first "
        "(median of the repeats; the whisker spans the slowest to the fastest repeat). Colours group the families: "
        "greys the baselines, oranges the ipckit channels, blues the kernel streams and sockets, greens the kernel "
        "queues and shared memory, purples the peer libraries.</p>\n"
        "<div class=\"chart-block\"><canvas id=\"chart-msgs\" width=\"1280\" height=\"{}\"></canvas></div>\n",
        human_size(small), bar_height(msg_rows));
    charts += "<h2>Bytes per second against message size</h2><p class=\"caption\">Log-log, one plot per family "
              "(every series its own colour and marker).</p>\n<div class=\"multiples\">\n";
    for (const auto& fam : tp_families) {
      charts += fmt::format("<div class=\"chart-block\"><canvas id=\"chart-throughput-{}\" data-family=\"{}\" "
                            "width=\"630\" height=\"400\"></canvas></div>\n",
                            slug(fam), escape_html(fam));
    }
    charts += "</div>\n";
  }
  for (std::size_t size : rtt_sizes) {
    charts += fmt::format(
        "<h2>Round trip, {} messages</h2><p class=\"caption\">Dot: p50; line: p90 to p99.9 (a percentile is drawn "
        "only with enough samples; the max is in the table).</p>\n<div class=\"chart-block\"><canvas "
        "id=\"chart-rtt-{}\" data-rtt-size=\"{}\" width=\"1280\" height=\"{}\"></canvas></div>\n",
        human_size(size), size, size, bar_height(rtt_rows[size]));
  }
  if (small) {
    charts += fmt::format(
        "<h2>CPU per message, {} messages</h2><p class=\"caption\">CPU time of each side over its measured window, "
        "per message: a busy-polling side costs its whole CPU.</p>\n<div class=\"chart-block\"><canvas "
        "id=\"chart-cpu\" width=\"1280\" height=\"{}\"></canvas></div>\n",
        human_size(small), bar_height(msg_rows) + 30);
  }

  // Every figure.
  std::string rows;
  for (const Row& row : r.results) {
    const bool bad = row.verified && !*row.verified;
    std::string cls = bad ? "bad" : "";
    if (is_noisy(row)) cls += cls.empty() ? "noisy" : " noisy";
    rows += fmt::format(
        "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td>"
        "<td class=\"l\">{}</td><td>{}x{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"spread\">{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>\n",
        cls.empty() ? "" : " class=\"" + cls + "\"", escape_html(row.mechanism), to_string(row.pattern), human_size(row.size), escape_html(row.placement), to_string(row.wait),
        row.procs.producers, row.procs.consumers, opt_cell(row.msgs_per_s, human_count), escape_html(row.rate_of),
        opt_cell(row.sender_msgs_per_s, human_count), opt_cell(row.bytes_per_s, human_bytes_per_s), opt_cell(row.p50, human_ns), opt_cell(row.p90, human_ns),
        opt_cell(row.p99, human_ns), opt_cell(row.p999, human_ns), opt_cell(row.max, human_ns),
        escape_html(detail::spread_text(row)), is_noisy(row) ? " noisy" : "", cpu_cell(row.cpu_sender),
        cpu_cell(row.cpu_receiver), row.samples, row.repeats, row.lost, detail::verified_text(row),
        escape_html(row.limited.value_or(row.note)));
  }
  std::string na;
  if (!r.not_available.empty()) {
    na = "<h2>Not available</h2><ul>";
    for (const auto& n : r.not_available) na += fmt::format("<li>{}: {}</li>", escape_html(n.mechanism), escape_html(n.reason));
    na += "</ul>\n";
  }
  nlohmann::json fams = nlohmann::json::object();
  for (const Row& row : r.results) fams[row.mechanism] = std::string(detail::family(row.mechanism));

  return fmt::format(
      R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ipckit bench — {date}</title>
<style>{style}</style>
<script>{chart}</script>
</head><body>
<h1>ipckit bench</h1>
<div class="run">{run}</div>
{warnings}<h2>Headline</h2>
<div id="headline">{answers}</div>
<ul class="notes">{notes}</ul>
{charts}<h2>All figures</h2>
<p class="caption">Throughput: median of the repeats; round trip: percentiles of every sample (n/a: too few samples);
spread = (max − min) / median of the repeats (empty with one repeat), noisy above {noisy:.0f}%; CPU: ns per message
(rtt: per round trip), sender/client and receiver/server.</p>
<table><tr><th class="l">mechanism</th><th class="l">pattern</th><th>size</th>
<th class="l">placement</th><th class="l">wait</th><th>procs</th><th>msgs/s</th><th class="l">rate of</th>
<th>sender msgs/s</th><th>bytes/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>spread</th>
<th>CPU/msg sender</th><th>CPU/msg receiver</th><th>samples</th><th>repeats</th><th>lost</th><th>verified</th>
<th class="l">limited / note</th></tr>
{rows}</table>
{na}<script>const REPORT = {data};
const FAMILIES = {families};</script>
<script>{script}</script>
</body></html>
)html",
      fmt::arg("date", escape_html(r.date)), fmt::arg("style", kStyle), fmt::arg("chart", script_safe(chart_js)),
      fmt::arg("run", run), fmt::arg("warnings", warnings), fmt::arg("answers", answers), fmt::arg("notes", notes),
      fmt::arg("charts", charts), fmt::arg("noisy", kNoisySpread * 100), fmt::arg("rows", rows), fmt::arg("na", na),
      fmt::arg("data", script_safe(to_json(r).dump())), fmt::arg("families", script_safe(fams.dump())),
      fmt::arg("script", kScript));
}

}  // namespace ipckit::bench
