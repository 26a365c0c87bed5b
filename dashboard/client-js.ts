/**
 * The page script (plain browser JavaScript, shipped as a string so the package needs no bundler
 * step for it): follows the event stream, renders at most once per animation frame whatever the
 * number of messages, ages values between messages (a value goes stale on screen without a new
 * message), draws the charts with uPlot, and posts operator actions with the CSRF token.
 * Text from the server is set with textContent, never parsed as HTML.
 * The factors grid is drawn on a canvas (grid-js.ts, spliced in below).
 * `window.__dash` exposes render counts and paint times for the browser tests and the benchmark.
 */
import { GRID_JS } from './grid-js.ts';

export const CLIENT_JS = String.raw`(function () {
'use strict';
var body = document.body, view = body.dataset.view, symbol = body.dataset.symbol || null;
var maxAge = Number(body.dataset.maxAge), csrf = document.querySelector('meta[name=csrf]').content;
var cols = [], offset = 0, kill = { all: null, symbols: {} }, rows = {}, dirty = {}, frameAsked = false;
var dash = window.__dash = { renders: 0, painted: [], events: 0, renderMs: 0 };
var SIGNAL = /_(score|prob|version|status)$/;
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function now() { return Date.now() + offset; }
function ago(ms) { if (ms === null || ms === undefined || !isFinite(ms)) return '—'; ms = Math.max(0, ms); return ms < 1000 ? Math.round(ms) + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 60000) + ' min'; }
function killedFor(s) { return kill.all || (kill.symbols && Object.prototype.hasOwnProperty.call(kill.symbols, s) ? kill.symbols[s] : null); }
function fmt(v) { if (v === undefined || v === '') return '—'; var n = Number(v); if (!isFinite(n)) return v; var a = Math.abs(n); return a !== 0 && (a < 1e-3 || a >= 1e9) ? n.toExponential(4) : String(Math.round(n * 1e6) / 1e6); }
function statusOf(s, i) {
  if (killedFor(s)) return 'killed';
  var r = rows[s];
  if (!r || !r.vals) return 'missing';
  var v = r.vals[i];
  if (v === undefined || v === '') return 'missing';
  return now() - r.at > maxAge ? 'stale' : 'present';
}
function askFrame() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(render); } }

// --- the event stream ---
var url = '/dashboard/events?view=' + view + (symbol ? '&symbol=' + encodeURIComponent(symbol) : '');
var es = dash.es = new EventSource(url);
es.onopen = function () { $('conn').textContent = 'live'; $('conn').className = 'ok'; };
es.onerror = function () { $('conn').textContent = 'disconnected, retrying…'; $('conn').className = 'bad'; };
es.addEventListener('meta', function (e) { cols = JSON.parse(e.data).columns; built = false; askFrame(); });
es.addEventListener('kill', function (e) { kill = JSON.parse(e.data); for (var s in rows) dirty[s] = 1; killShown = false; askFrame(); });
es.addEventListener('status', function (e) { var m = JSON.parse(e.data); $('conn').textContent = m.error ? m.error : 'live'; $('conn').className = m.error ? 'bad' : 'ok'; });
es.addEventListener('rows', function (e) {
  var m = JSON.parse(e.data); offset = m.now - Date.now(); dash.events++;
  for (var i = 0; i < m.rows.length; i++) {
    var r = m.rows[i];
    rows[r.s] = { at: r.at, te: r.te, seq: r.seq, fsv: r.fsv, vals: r.v === null ? null : r.v.split(',') };
    dirty[r.s] = 1;
    if (view === 'symbol' && r.s === symbol && r.v !== null) addPoint(r.te, rows[r.s].vals);
  }
  askFrame();
});
es.addEventListener('overview', function (e) { overview = JSON.parse(e.data); overviewDirty = true; askFrame(); });

// --- rendering, once per frame ---
var lastTe = {}, toStamp = [], built = false, killShown = false, overview = null, overviewDirty = false;
function render() {
  frameAsked = false; dash.renders++;
  var t0 = performance.now();
  if (!killShown && $('kill-state')) { showKill(); killShown = true; }
  if (view === 'grid') gridRender();
  if (view === 'symbol') renderSymbol();
  if (view === 'overview' && overviewDirty) { renderOverview(); overviewDirty = false; }
  // the grid says which rows it drew (only those in view); the other views show every dirty row
  if (view !== 'grid') for (var s in dirty) { var r = rows[s]; if (r) shown(s, r.te); }
  dirty = {};
  dash.renderMs += performance.now() - t0;
  // stamped when the next frame starts: this frame's drawing has been presented by then
  if (toStamp.length) { var batch = toStamp; toStamp = []; requestAnimationFrame(function () { var at = performance.timeOrigin + performance.now(); for (var i = 0; i < batch.length; i++) dash.painted.push([batch[i][0], batch[i][1], at]); }); }
}
/** A row's value drawn for the first time (the age ticker redraws rows without a new value). */
function shown(s, te) { if (lastTe[s] !== te) { lastTe[s] = te; if (dash.painted.length + toStamp.length < 50000) toStamp.push([s, te]); } }
function showKill() {
  var box = $('kill-state'); box.textContent = '';
  var entry = symbol ? killedFor(symbol) : kill.all;
  var line = el('div', entry ? 'ON' + (symbol && !kill.all ? ' for ' + symbol : ' for the whole deployment') + ' (' + modeOf(entry) + '), by ' + entry.by + ' since ' + new Date(entry.at).toISOString() + ': ' + entry.reason : 'off' + (symbol ? ' for ' + symbol : ' for the deployment'), entry ? (modeOf(entry) === 'halt' ? 'bad' : 'warn') : 'ok');
  line.id = 'kill-line'; box.appendChild(line);
  if (entry && entry.cause) { var c = el('div', 'cause: ' + causeText(entry.cause), 'note'); c.id = 'kill-cause'; box.appendChild(c); }
  var others = Object.keys(kill.symbols || {}).sort();
  if (!symbol && others.length) {
    var list = el('div', '', others.some(function (s) { return modeOf(kill.symbols[s]) === 'halt'; }) ? 'bad' : 'warn'); list.id = 'kill-symbols'; list.textContent = 'ON for symbols: ';
    others.forEach(function (s, i) { var e = kill.symbols[s]; list.textContent += (i ? ', ' : '') + s + ' (' + modeOf(e) + (e.cause ? ': ' + causeText(e.cause) : '') + ')'; });
    box.appendChild(list);
  }
}
// an entry without a mode was written before modes existed: a halt (live/kill-switch.ts entryMode)
function modeOf(e) { return e.mode === 'reduce-only' ? 'reduce-only' : 'halt'; }
function causeText(c) { return c.rule + '=' + (c.value === null || c.value === undefined ? 'null' : c.value) + (c.symbol ? ' on ' + c.symbol : '') + ' at ts_recv ' + c.tsRecv + (c.streamId ? ' (entry ' + c.streamId + ')' : ''); }
${GRID_JS}
// ages and staleness move without messages: repaint them twice a second
setInterval(function () {
  if (view === 'grid') { G.all = true; askFrame(); }
  if (view === 'symbol' && symbol) { dirty[symbol] = 1; askFrame(); }
}, 500);

// --- one symbol: table and charts ---
var factorRows = null, charts = null, series = null;
function renderSymbol() {
  if (!built) { buildFactorTable(); buildCharts(); built = true; }
  var r = rows[symbol];
  $('sym-meta').textContent = r ? 'event time ' + new Date(Number(r.te.slice(0, -6))).toISOString() + ' · seq ' + r.seq + ' · feature set ' + r.fsv + ' · computed ' + ago(now() - r.at) + ' ago' : 'no value yet';
  for (var i = 0; i < cols.length; i++) {
    var st = statusOf(symbol, i), fr = factorRows[i];
    var v = st === 'killed' ? 'withheld' : r && r.vals ? fmt(r.vals[i]) : '—';
    if (fr[1].textContent !== v) fr[1].textContent = v;
    fr[2].textContent = r ? ago(now() - r.at) : '—';
    fr[3].textContent = st; fr[3].className = st;
  }
  if (charts) for (var k = 0; k < charts.length; k++) charts[k].setData(chartData(k));
}
function buildFactorTable() {
  var tb = $('factors').tBodies[0]; tb.textContent = ''; factorRows = [];
  // the model signals (their names end in _score, _prob, _version, _status) after the factors
  var order = cols.map(function (c, i) { return i; }).sort(function (a, b) { return (SIGNAL.test(cols[a]) ? 1 : 0) - (SIGNAL.test(cols[b]) ? 1 : 0) || a - b; });
  var cellsOf = [];
  order.forEach(function (i) {
    var tr = el('tr'), name = el('td', cols[i] + (SIGNAL.test(cols[i]) ? ' (model signal)' : ''));
    tr.id = 'f-' + cols[i];
    var row = [name, el('td', '—', 'n'), el('td', '—', 'n'), el('td', '')];
    row.forEach(function (c) { tr.appendChild(c); });
    tb.appendChild(tr); cellsOf[i] = row;
  });
  factorRows = cellsOf;
}
var PRICE = ['last_price', 'mid', 'vwap_session', 'ma_5m'], OSC = ['rsi_14', 'macd', 'macd_signal'];
var COLORS = ['#2b6cb0', '#805ad5', '#dd6b20', '#2f855a', '#c53030', '#2b6cb0', '#d69e2e'];
var xs = [], ys = {}, MAXPTS = 2000;
function addPoint(te, vals) {
  var x = Number(te.slice(0, -6)) / 1000;
  if (xs.length && x <= xs[xs.length - 1]) return;
  xs.push(x);
  PRICE.concat(OSC).forEach(function (name) { var i = cols.indexOf(name); var v = i < 0 || vals[i] === '' || vals[i] === undefined ? null : Number(vals[i]); (ys[name] = ys[name] || []).push(v); });
  while (xs.length > MAXPTS) { xs.shift(); for (var k in ys) ys[k].shift(); }
  // values that came before the columns were known are dropped from the arrays' alignment
  for (var n in ys) while (ys[n].length < xs.length) ys[n].unshift(null);
}
function chartData(k) {
  var names = k === 0 ? series[0] : series[1];
  return [xs].concat(names.map(function (n) { return ys[n] || xs.map(function () { return null; }); }));
}
function buildCharts() {
  if (typeof uPlot === 'undefined') return;
  series = [PRICE.filter(function (n) { return cols.indexOf(n) >= 0; }), OSC.filter(function (n) { return cols.indexOf(n) >= 0; })];
  var w = Math.max(300, $('chart-price').clientWidth || 800);
  charts = [];
  [['chart-price', series[0], {}], ['chart-osc', series[1], { rsi: { range: [0, 100] } }]].forEach(function (spec, k) {
    var names = spec[1];
    if (!names.length) { $(spec[0]).textContent = 'none of ' + (k === 0 ? PRICE : OSC).join(', ') + ' is computed by this deployment'; return; }
    var s = [{}].concat(names.map(function (n, j) { return { label: n, stroke: COLORS[j + (k ? 4 : 0)], width: 1.5, spanGaps: true, scale: k === 1 ? (n === 'rsi_14' ? 'rsi' : 'macd') : 'y' }; }));
    var axes = [{}, { scale: k === 1 ? (names[0] === 'rsi_14' ? 'rsi' : 'macd') : 'y' }];
    if (k === 1 && names.length > 1 && names[0] === 'rsi_14') axes.push({ scale: 'macd', side: 1, grid: { show: false } });
    var opts = { width: w, height: k === 0 ? 240 : 160, series: s, axes: axes, scales: Object.assign({ x: { time: true } }, spec[2]), legend: { live: false } };
    charts.push(new uPlot(opts, chartData(k), $(spec[0])));
  });
}

// --- overview ---
function renderOverview() {
  var o = overview;
  $('h-redis').textContent = o.redis; $('h-redis').className = o.redis === 'ok' ? 'ok' : 'bad';
  $('h-workers').textContent = o.workers === null ? 'unknown (' + o.workersError + ')' : o.workers + ' present';
  if (o.symbols !== undefined) $('h-symbols').textContent = o.symbols;
  kill = o.kill; showKill();
  var tb = $('shards').tBodies[0]; tb.textContent = '';
  $('shards-note').textContent = o.shards === null ? 'per-shard lag unavailable: ' + o.shardsError : '';
  (o.shards || []).forEach(function (s) {
    var tr = el('tr');
    [s.shard, s.worker ? 'holds lease' : 'none', s.inputLength, s.lag, s.pending, ago(s.oldestWaitingMs), s.lastOutputAgoMs === null ? 'never' : ago(s.lastOutputAgoMs) + ' ago', s.deadLetters].forEach(function (v, i) {
      var td = el('td', v === null || v === undefined ? '—' : v, i > 1 ? 'n' : i === 1 ? (s.worker ? 'ok' : 'bad') : '');
      tr.appendChild(td);
    });
    tb.appendChild(tr);
  });
  var ab = $('alerts').tBodies[0]; ab.textContent = '';
  $('alerts-note').textContent = o.alerts === null ? 'alerts unavailable: ' + o.alertsError : o.alerts.length === 0 ? 'none firing' : '';
  (o.alerts || []).forEach(function (a) {
    var tr = el('tr');
    tr.appendChild(el('td', a.id)); tr.appendChild(el('td', a.severity, a.severity === 'critical' ? 'bad' : 'warn'));
    tr.appendChild(el('td', a.since ? new Date(a.since).toISOString() : '—')); tr.appendChild(el('td', a.summary));
    ab.appendChild(tr);
  });
  var p = $('parity');
  if (o.parity) {
    p.textContent = ''; p.className = 'kv';
    Object.keys(o.parity).forEach(function (k) { p.appendChild(el('span', k)); p.appendChild(el('span', o.parity[k], k === 'verdict' ? (o.parity[k] === 'parity' ? 'ok' : 'bad') : '')); });
  }
}

// --- actions ---
function post(path, payload, done) {
  fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(payload), credentials: 'same-origin' })
    .then(function (r) { return r.json().then(function (j) { done(r.status, j); }); })
    .catch(function (e) { done(0, { error: String(e) }); });
}
function say(status, j) {
  var m = $('action-msg');
  m.textContent = status === 200 ? j.message : 'Refused (' + status + '): ' + j.error;
  m.className = status === 200 ? 'done' : 'refused';
}
function act(on, btn) {
  var p = { on: on, reason: $('kill-reason').value };
  if (on && $('kill-mode')) p.mode = $('kill-mode').value;
  if (btn.dataset.symbol) p.symbol = btn.dataset.symbol;
  // clear the last message first, so nobody (nor a test) mistakes the login's "done" for this one
  var m = $('action-msg'); m.textContent = 'sending…'; m.className = 'pending';
  post('/dashboard/kill', p, say);
}
if ($('kill-on')) { $('kill-on').onclick = function () { act(true, this); }; $('kill-off').onclick = function () { act(false, this); }; }
if ($('login')) $('login').onsubmit = function (e) {
  e.preventDefault();
  post('/dashboard/login', { token: $('token').value }, function (status, j) {
    say(status, j);
    if (status === 200) { $('role').textContent = 'operator'; $('role').className = 'badge op'; $('login').remove(); $('operator-note').textContent = 'You are signed in as operator.'; }
  });
};
if ($('picker')) $('picker').onchange = function () { location.href = this.value ? '/dashboard/factors/' + encodeURIComponent(this.value) : '/dashboard/factors'; };
})();
`;
