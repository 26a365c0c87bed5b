/**
 * The execution page's script (loaded after app.js, on that page only): follows the `exec` events
 * (each parent order's children, fills, progress and kill changes, exec-feed.ts) and the `fired`
 * events (the kill policy's firings, kill-feed.ts), and renders at most once per animation frame:
 * a row per parent (a link to its own page) and, for the parent of the page (else the first one
 * working, else the first), a uPlot chart of scheduled (released to the market) vs filled
 * quantity over event time, stepped. The kill switch in force is drawn by app.js (#kill-state).
 * Text is set with textContent, never parsed as HTML. `window.__dash.exec` counts renders.
 */
export const EXEC_JS = String.raw`(function () {
'use strict';
var dash = window.__dash, es = dash.es, only = document.body.dataset.parent || null;
var exec = null, fired = null, frameAsked = false, chart = null, chartOf = null;
dash.exec = { renders: 0, chartPoints: 0, chartParent: null };
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function timeOf(ns) { return ns ? new Date(Number(String(ns).slice(0, -6))).toISOString() : '—'; }
function num(v) { return v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 6 }); }
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
    [[p.symbol], [p.side], [p.state, 'st-' + p.state], [p.children, 'n'], [p.cancels, 'n'], [num(p.sent), 'n'], [num(p.filled), 'n'], [p.sent > 0 ? (100 * p.filled / p.sent).toFixed(1) + ' %' : '—', 'n'], [p.fills, 'n'], [timeOf(p.lastTs)], [p.kills.length, 'n']].forEach(function (c) { tr.appendChild(el('td', c[0], c[1])); });
    tb.appendChild(tr);
  });
  var kl = $('exec-kills');
  kl.textContent = pick && pick.kills.length ? pick.id + ' read the kill switch: ' + pick.kills.map(function (k) { return k.mode + ' at ' + timeOf(k.ts) + ' (' + k.reason + ')'; }).join('; ') : '';
  if (pick) renderChart(pick);
}

/** Scheduled and filled, stepped on the union of their times (each carried forward). */
function renderChart(p) {
  if (typeof uPlot === 'undefined') return;
  var ts = {}, i;
  p.sentSeries.forEach(function (x) { ts[x[0]] = 1; }); p.filledSeries.forEach(function (x) { ts[x[0]] = 1; });
  var xs = Object.keys(ts).map(Number).sort(function (a, b) { return a - b; });
  var a = [], b = [], si = 0, fi = 0, sv = 0, fv = 0;
  for (i = 0; i < xs.length; i++) {
    while (si < p.sentSeries.length && p.sentSeries[si][0] <= xs[i]) sv = p.sentSeries[si++][1];
    while (fi < p.filledSeries.length && p.filledSeries[fi][0] <= xs[i]) fv = p.filledSeries[fi++][1];
    a.push(sv); b.push(fv);
  }
  dash.exec.chartPoints = xs.length; dash.exec.chartParent = p.id;
  var data = [xs, a, b];
  if (chart && chartOf !== p.id) { chart.destroy(); chart = null; }
  if (!chart) {
    var box = $('chart-exec'), w = Math.max(300, box.clientWidth || 800), step = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    chart = new uPlot({ width: w, height: 220, title: p.id + ': scheduled vs filled (' + p.symbol + ', units)', scales: { x: { time: true } }, legend: { live: false },
      series: [{}, { label: 'scheduled (sent)', stroke: '#2b6cb0', width: 1.5, paths: step }, { label: 'filled', stroke: '#2f855a', width: 2, fill: 'rgba(47,133,90,0.12)', paths: step }] }, data, box);
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
