/**
 * The execution page's script (loaded after app.js, on that page only): follows the `exec` events
 * (each parent order's children, fills, progress and kill changes, exec-feed.ts) and the `fired`
 * events (the kill policy's firings, kill-feed.ts), and renders at most once per animation frame:
 * a row per parent (a link to its own page: its state, how long since its run was heard from,
 * where it is against its schedule) and, for the parent of the page (else the first one working,
 * else the first), a uPlot chart over event time, stepped, of its plan (the schedule's target; none
 * for POV, whose note says why), what it sent and what was filled, with its position against the
 * schedule in words. The kill switch in force is drawn by app.js (#kill-state).
 * Text is set with textContent, never parsed as HTML. `window.__dash.exec` counts renders.
 */
export const EXEC_JS = String.raw`(function () {
'use strict';
var dash = window.__dash, es = dash.es, only = document.body.dataset.parent || null;
var exec = null, fired = null, frameAsked = false, chart = null, chartOf = null;
dash.exec = { renders: 0, chartPoints: 0, chartParent: null, planPoints: 0 };
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function timeOf(ns) { return ns ? new Date(Number(String(ns).slice(0, -6))).toISOString() : '—'; }
function num(v) { return v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 6 }); }
function signed(v) { return (v > 0 ? '+' : '') + num(v); }
function vsSchedule(p) { var x = p.position; if (!x) return '—'; return signed(x.ahead) + (x.ahead < 0 ? ' behind' : x.ahead > 0 ? ' ahead' : ' on schedule'); }
function secs(ms) { return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s'; }
function runText(p) {
  if (p.state === 'done') return 'window ended';
  if (p.state === 'stopped') return 'stopped: ' + (p.why || 'no reason given');
  if (p.state === 'stalled') return p.silentMs === null ? 'never heard from' : 'silent ' + secs(p.silentMs) + ' (heartbeat ' + secs(p.heartbeatMs) + ')';
  return p.silentMs === null ? '—' : 'heard from ' + secs(p.silentMs) + ' ago';
}
function ask() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(render); } }
es.addEventListener('exec', function (e) { exec = JSON.parse(e.data); ask(); });
es.addEventListener('fired', function (e) { fired = JSON.parse(e.data); ask(); });

function render() {
  frameAsked = false; dash.exec.renders++;
  if (exec) renderParents();
  if (fired) renderFired();
}

function renderParents() {
  var ps = exec.parents.filter(function (p) { return !only || p.id === only; });
  var note = $('exec-note');
  note.textContent = exec.error || (ps.length ? (exec.skipped ? exec.skipped + ' more parents not followed' : '') : only ? 'parent ' + only + ' has no order any more' : 'no parent order yet: lockstep execute --redis has written no order');
  note.className = exec.error ? 'bad' : 'note';
  var pick = only ? ps[0] : ps.filter(function (p) { return p.state === 'working'; })[0] || ps[0];
  var tb = $('parents').tBodies[0]; tb.textContent = '';
  ps.forEach(function (p) {
    var tr = el('tr'); tr.id = 'parent-' + p.id.replace(/[^A-Za-z0-9]+/g, '_'); if (pick && p.id === pick.id && !only) tr.className = 'sel';
    var link = el('a', p.id); link.href = '/dashboard/exec/' + encodeURIComponent(p.id);
    var first = el('td'); first.appendChild(link); tr.appendChild(first);
    [[p.symbol], [p.side], [p.state, 'st-' + p.state], [runText(p), p.state === 'stopped' ? 'wrap' : undefined], [p.children, 'n'], [p.cancels, 'n'], [num(p.sent), 'n'], [num(p.filled), 'n'], [p.sent > 0 ? (100 * p.filled / p.sent).toFixed(1) + ' %' : '—', 'n'], [vsSchedule(p), p.position && p.position.ahead < 0 ? 'n warn' : 'n'], [p.fills, 'n'], [timeOf(p.lastTs)], [p.kills.length, 'n']].forEach(function (c) { tr.appendChild(el('td', c[0], c[1])); });
    tb.appendChild(tr);
  });
  var kl = $('exec-kills');
  kl.textContent = pick && pick.kills.length ? pick.id + ' read the kill switch: ' + pick.kills.map(function (k) { return k.mode + ' at ' + timeOf(k.ts) + ' (' + k.reason + ')'; }).join('; ') : '';
  var pl = $('exec-plan'), x = pick && pick.position;
  pl.textContent = !pick ? '' : [pick.plan === null ? 'no schedule written for ' + pick.id + ' (its live run writes it as it starts)' : pick.plan.note,
    x ? pick.id + ' at ' + timeOf(x.ts) + ' (event time): schedule ' + num(x.target) + ', filled ' + num(x.filled) + ': ' + (x.ahead < 0 ? num(-x.ahead) + ' behind schedule' : x.ahead > 0 ? num(x.ahead) + ' ahead of schedule' : 'on schedule') : ''].filter(Boolean).join('; ');
  if (pick) renderChart(pick);
}

/** Plan, sent and filled, stepped on the union of their times (each carried forward). */
function renderChart(p) {
  if (typeof uPlot === 'undefined') return;
  var ts = {}, i, plan = p.plan ? p.plan.series : [], lines = [plan, p.sentSeries, p.filledSeries];
  lines.forEach(function (l) { l.forEach(function (x) { ts[x[0]] = 1; }); });
  var xs = Object.keys(ts).map(Number).sort(function (a, b) { return a - b; });
  // sent and filled stop where the parent has got to (the plan runs on to the end of its window)
  var now = p.position ? Number(String(p.position.ts).slice(0, -6)) / 1000 : -Infinity, upTo = [Infinity, 0, 0];
  for (var k = 1; k < 3; k++) upTo[k] = Math.max(now, lines[k].length ? lines[k][lines[k].length - 1][0] : -Infinity);
  var cols = lines.map(function () { return []; }), at = [0, 0, 0], val = [0, 0, 0];
  for (i = 0; i < xs.length; i++) {
    for (k = 0; k < 3; k++) {
      while (at[k] < lines[k].length && lines[k][at[k]][0] <= xs[i]) val[k] = lines[k][at[k]++][1];
      cols[k].push(xs[i] <= upTo[k] ? val[k] : null);
    }
  }
  dash.exec.chartPoints = xs.length; dash.exec.chartParent = p.id; dash.exec.planPoints = plan.length;
  var data = [xs, cols[0], cols[1], cols[2]];
  if (chart && chartOf !== p.id) { chart.destroy(); chart = null; }
  if (!chart) {
    var box = $('chart-exec'), w = Math.max(300, box.clientWidth || 800), step = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    chart = new uPlot({ width: w, height: 220, title: p.id + ': plan vs sent vs filled (' + p.symbol + ', units)', scales: { x: { time: true } }, legend: { live: false },
      series: [{}, { label: plan.length ? 'plan (' + p.plan.algo + ' schedule)' : 'plan (none: ' + (p.plan ? p.plan.algo : 'not written') + ')', stroke: '#b7791f', width: 1.5, dash: [6, 4], paths: step }, { label: 'sent', stroke: '#2b6cb0', width: 1.5, paths: step }, { label: 'filled', stroke: '#2f855a', width: 2, fill: 'rgba(47,133,90,0.12)', paths: step }] }, data, box);
    chartOf = p.id;
  } else chart.setData(data);
}

function renderFired() {
  var note = $('fired-note');
  note.textContent = fired.error || (fired.total ? fired.total + ' rule firings recorded in ' + fired.key + (fired.total > fired.fired.length ? ' (the newest ' + fired.fired.length + ' shown)' : '') : 'no policy rule has fired (' + fired.key + ' is empty: lockstep kill-guard has acted on nothing)');
  note.className = fired.error ? 'bad' : 'note';
  var tb = $('fired').tBodies[0]; tb.textContent = '';
  fired.fired.forEach(function (f) {
    var tr = el('tr'); tr.dataset.episode = f.episode;
    [[timeOf(f.ts) + ' (' + f.ts + ')'], [f.rule], [f.symbol === null ? 'all' : f.symbol], [f.value === null ? '—' : f.value, 'n'], [f.action, f.action === 'alert' ? 'warn' : 'bad'], [f.input || '—']].forEach(function (c) { tr.appendChild(el('td', c[0], c[1])); });
    tb.appendChild(tr);
  });
}
})();
`;
