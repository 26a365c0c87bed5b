/**
 * The PnL & risk page's script (loaded after app.js, on that page only): follows the `desk` events
 * (the latest pnl, risk and positions records, coalesced by the hub) and the `pnllog` events (the
 * day's PnL samples this page has not had yet), and renders at most once per animation frame.
 * Text is set with textContent, never parsed as HTML. `window.__dash.pnl` counts renders for tests.
 */
export const PNL_JS = String.raw`(function () {
'use strict';
var dash = window.__dash, es = dash.es;
var desk = null, deskDirty = false, logDirty = false, frameAsked = false;
var xs = [], ys = {}, labels = [], chart = null;
var COLORS = ['#1c2330', '#2b6cb0', '#dd6b20', '#2f855a', '#805ad5', '#c53030', '#d69e2e', '#319795'];
var MAXSERIES = 8;
dash.pnl = { renders: 0, points: 0 };
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function num(v, dp) { if (v === null || v === undefined || v === '') return '—'; var n = Number(v); if (!isFinite(n)) return String(v); return n.toLocaleString('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp }); }
function money(v) { return num(v, 2); }
function ask() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(render); } }
function timeOf(t) { return t ? new Date(Number(String(t).slice(0, -6))).toISOString() : '—'; }

es.addEventListener('desk', function (e) { desk = JSON.parse(e.data); deskDirty = true; ask(); });
es.addEventListener('pnllog', function (e) {
  var m = JSON.parse(e.data);
  if (m.reset) { xs = []; ys = {}; labels = []; }
  for (var i = 0; i < m.points.length; i++) {
    var p = m.points[i];
    if (xs.length && p.t <= xs[xs.length - 1]) continue;
    for (var b in p.p) if (!ys[b] && labels.length < MAXSERIES) { ys[b] = xs.map(function () { return null; }); labels.push(b); }
    xs.push(p.t);
    for (var k = 0; k < labels.length; k++) ys[labels[k]].push(Object.prototype.hasOwnProperty.call(p.p, labels[k]) ? p.p[labels[k]] : null);
  }
  dash.pnl.points = xs.length; logDirty = true; ask();
});

function fill(id, rows, cells) {
  var tb = $(id).tBodies[0]; tb.textContent = '';
  rows.forEach(function (r) { var tr = el('tr'); cells(r).forEach(function (c) { tr.appendChild(c); }); tb.appendChild(tr); });
}
function td(text, cls) { return el('td', text, cls); }
function signed(v) { return td(money(v), 'n ' + (Number(v) < 0 ? 'bad' : Number(v) > 0 ? 'ok' : '')); }

function renderDesk() {
  var pnl = desk.pnl, risk = desk.risk, pos = desk.positions;
  $('desk-meta').textContent = pnl ? 'as of ' + timeOf(pnl.t) + ' (event time) · written ' + new Date(pnl.at).toISOString() : 'no PnL yet: lockstep desk has not written one';
  $('desk-meta').className = pnl ? 'note' : 'warn';
  // a book's risk figures, by account/strategy, beside its PnL
  var riskOf = {};
  ((risk && risk.books) || []).forEach(function (b) { riskOf[b.account + '/' + b.strategy] = b; });
  fill('books', (pnl && pnl.books) || [], function (b) {
    var r = riskOf[b.account + '/' + b.strategy] || {};
    var name = b.account === '*' && b.strategy === '*';
    return [td(name ? 'all (total)' : b.account), td(name ? '' : b.strategy), signed(b.realized), signed(b.unrealized), td(money(b.fees), 'n'), signed(b.dayPnl), td(money(b.hwm), 'n'), td(money(b.drawdown), 'n' + (Number(b.drawdown) > 0 ? ' warn' : '')),
      td(num(r.positions, 0), 'n'), td(money(r.gross), 'n'), td(money(r.net), 'n'), td(r.concentration === undefined ? '—' : num(100 * r.concentration, 1) + ' %', 'n'), td(money(r.var) + (r.varMissing ? ' (+' + r.varMissing + ' without rv)' : ''), 'n')];
  });
  var br = (risk && risk.breaches) || [];
  $('breaches-note').textContent = risk ? (br.length ? br.length + ' in breach' : 'none in breach') : 'no risk record yet';
  $('breaches-note').className = br.length ? 'bad' : 'note';
  fill('breaches', br, function (b) { return [td(b.limit, 'bad'), td(b.scope)]; });
  var ps = (pos && pos.positions) || [];
  $('positions-note').textContent = pos ? (ps.length ? '' : 'no open position') : 'no positions record yet';
  fill('positions', ps, function (p) {
    return [td(p.account), td(p.strategy), td(p.symbol), td(num(p.lots, 0), 'n'), td(num(p.qty, 0), 'n'), td(num(p.avgPrice, 4), 'n'), td(num(p.mark, 4), 'n'), td(money(p.notional), 'n'), signed(p.realized), signed(p.unrealized), td(money(p.fees), 'n')];
  });
  $('pnl-note').textContent = desk.logError || (xs.length ? '' : 'no sample in the PnL log yet');
  renderLimits(pnl, risk, ps, br);
}

// --- limit usage: the thresholds the desk runs with (its <ns>:limits, sent by serve) against the served positions and books ---
function usageRows(lim, pnl, risk, ps) {
  var out = [];
  // symbol limits apply to the net position across every book (trading/limits.ts)
  var net = {};
  ps.forEach(function (p) { var n = net[p.symbol] || (net[p.symbol] = { lots: 0, qty: 0, notional: 0 }); n.lots += Number(p.lots) || 0; n.qty += Number(p.qty) || 0; n.notional += Number(p.notional) || 0; });
  var syms = Object.keys(net).concat(Object.keys(lim.symbols).filter(function (s) { return !net[s]; })).sort();
  syms.forEach(function (s) {
    var sl = lim.symbols[s] || lim.defaultSymbol, n = net[s] || { lots: 0, qty: 0, notional: 0 };
    if (!sl) return;
    if (sl.maxPositionLots !== undefined) out.push(['position', 'symbol ' + s, Math.abs(n.lots), sl.maxPositionLots, 0]);
    if (sl.maxPosition !== undefined) out.push(['position', 'symbol ' + s + ' (units)', Math.abs(n.qty), sl.maxPosition, 0]);
    if (sl.maxNotional !== undefined) out.push(['notional', 'symbol ' + s, Math.abs(n.notional), sl.maxNotional, 2]);
  });
  var riskOf = {};
  ((risk && risk.books) || []).forEach(function (b) { riskOf[b.account + '/' + b.strategy] = b; });
  ((pnl && pnl.books) || []).forEach(function (b) {
    var key = b.account + '/' + b.strategy, total = key === '*/*', bl = total ? lim.total : lim.books[key];
    if (!bl) return;
    var scope = total ? 'total' : 'book ' + key, r = riskOf[key] || {};
    if (bl.maxGrossExposure !== undefined && r.gross !== undefined) out.push(['gross', scope, Number(r.gross), bl.maxGrossExposure, 2]);
    if (bl.maxDailyLoss !== undefined) out.push(['daily_loss', scope, Math.max(0, -Number(b.dayPnl)), bl.maxDailyLoss, 2]);
    if (bl.maxDrawdown !== undefined) out.push(['drawdown', scope, Number(b.drawdown), bl.maxDrawdown, 2]);
  });
  return out;
}
function renderLimits(pnl, risk, ps, br) {
  var lim = desk.limits, note = $('limits-note');
  if (!lim) { note.textContent = desk.limitsError + ': the limits in breach are listed below'; note.className = 'warn'; fill('limits', [], function () { return []; }); return; }
  var breached = {};
  br.forEach(function (b) { breached[b.limit + '\u0000' + b.scope] = 1; });
  var rs = usageRows(lim, pnl, risk, ps);
  var since = ' (published by the desk ' + new Date(lim.at).toISOString() + ')';
  note.className = 'note';
  note.textContent = lim.file === null ? 'the desk runs without a limits file (desk --limits): no limit applies' + since
    : 'thresholds the desk runs with: ' + lim.file + ' (sha256 ' + lim.sha256.slice(0, 12) + ')' + since + '; order_rate is checked by the execution side and not served' + (rs.length ? '' : ': no limit applies to the served books and positions');
  note.title = lim.sha256 ? 'sha256 ' + lim.sha256 : '';
  fill('limits', rs, function (u) {
    var pct = u[3] > 0 ? 100 * u[2] / u[3] : 0, inBreach = breached[u[0] + '\u0000' + u[1]] === 1;
    var level = inBreach || pct > 100 ? 'bad' : pct >= 80 ? 'warn' : 'ok';
    var cell = td('', 'use'), bar = el('div', '', 'bar ' + level), fillEl = el('span');
    fillEl.style.width = Math.min(100, pct).toFixed(1) + '%'; bar.appendChild(fillEl); cell.appendChild(bar);
    cell.appendChild(el('span', num(pct, 1) + ' %' + (inBreach ? ' (in breach)' : ''), level));
    // the desk's own verdict wins the colour; the served figures may be of another moment than its check
    if (inBreach && pct <= 100) cell.title = 'the desk reports this limit in breach; the served figures put it under the threshold (positions are rewritten with each second and each fill)';
    var kind = td(u[0], inBreach ? 'bad' : '');
    if (lim.actions && lim.actions[u[0]]) kind.title = 'on breach: ' + lim.actions[u[0]];
    return [kind, td(u[1]), td(num(u[2], u[4]), 'n'), td(num(u[3], u[4]), 'n'), cell];
  });
  var rowsEl = $('limits').tBodies[0].rows;
  for (var i = 0; i < rowsEl.length; i++) rowsEl[i].id = 'lim-' + rs[i][0] + '-' + rs[i][1].replace(/[^A-Za-z0-9]+/g, '_');
}

function chartData() { return [xs].concat(labels.map(function (b) { return ys[b]; })); }
function renderChart() {
  if (typeof uPlot === 'undefined' || !labels.length) return;
  // a new book (a new series) rebuilds the chart; new samples only set its data
  if (chart && chart.series.length !== labels.length + 1) { chart.destroy(); chart = null; }
  if (!chart) {
    var w = Math.max(300, $('chart-pnl').clientWidth || 800);
    var series = [{}].concat(labels.map(function (b, i) { return { label: b === '*/*' ? 'total' : b, stroke: COLORS[i % COLORS.length], width: b === '*/*' ? 2 : 1.25 }; }));
    chart = new uPlot({ width: w, height: 260, series: series, scales: { x: { time: true } }, legend: { live: false } }, chartData(), $('chart-pnl'));
  } else chart.setData(chartData());
}

function render() {
  frameAsked = false; dash.pnl.renders++;
  if (deskDirty && desk) { renderDesk(); deskDirty = false; }
  if (logDirty) { renderChart(); logDirty = false; if (desk) $('pnl-note').textContent = desk.logError || (xs.length ? '' : 'no sample in the PnL log yet'); }
}
})();
`;
