/**
 * The models page's script (loaded after app.js, on that page only): follows the `models` events
 * (each slot's deployment, models-feed.ts) and the workers' rows (`meta` and `rows`, as the grid
 * gets them), and renders at most once per animation frame. A slot's signal columns are found in
 * the deployment's columns (models/stage.ts: `<slot>_<output>`, `_version`, `_status`,
 * `_<output>_unserved`, `_unserved_version`, `_unserved_status`); each output is shown per
 * version, the incumbent's and the candidate's side by side, the one served to the symbol in bold;
 * an unserved side with no value says why (its own status: input missing, model failed). Text is set with
 * textContent, never parsed as HTML. `window.__dash.models` counts renders for tests.
 */
export const MODELS_JS = String.raw`(function () {
'use strict';
var dash = window.__dash, es = dash.es;
var cols = [], rows = {}, models = null, dirty = false, frameAsked = false;
var MAXROWS = 500, STATUS = ['ok', 'input missing', 'model failed', 'none deployed'];
dash.models = { renders: 0 };
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function ask() { dirty = true; if (!frameAsked) { frameAsked = true; requestAnimationFrame(render); } }
function timeOf(ns) { return new Date(Number(String(ns).slice(0, -6))).toISOString(); }
function fmt(v) { if (v === undefined || v === null || v === '') return '—'; var n = Number(v); if (!isFinite(n)) return String(v); var a = Math.abs(n); return a !== 0 && (a < 1e-4 || a >= 1e9) ? n.toExponential(4) : String(Math.round(n * 1e6) / 1e6); }
function nsText(ns) { if (ns === null || ns === undefined) return '—'; if (!isFinite(ns)) return '> 1.1 s'; return ns < 1e3 ? ns.toFixed(0) + ' ns' : ns < 1e6 ? (ns / 1e3).toPrecision(3) + ' µs' : ns < 1e9 ? (ns / 1e6).toPrecision(3) + ' ms' : (ns / 1e9).toPrecision(3) + ' s'; }

es.addEventListener('meta', function (e) { cols = JSON.parse(e.data).columns; ask(); });
es.addEventListener('rows', function (e) {
  var m = JSON.parse(e.data);
  for (var i = 0; i < m.rows.length; i++) { var r = m.rows[i]; rows[r.s] = r.v === null ? null : r.v.split(','); }
  ask();
});
es.addEventListener('models', function (e) { models = JSON.parse(e.data); ask(); });

/** The slots in the columns: each with its outputs and the columns' positions. */
function slotsOfColumns() {
  var out = [], SUF = '_unserved_version';
  cols.forEach(function (c) {
    if (c.length <= SUF.length || c.slice(-SUF.length) !== SUF) return;
    var slot = c.slice(0, -SUF.length), ver = cols.indexOf(slot + '_version'), st = cols.indexOf(slot + '_status');
    if (ver < 0 || st < 0) return;
    var outputs = cols.filter(function (o) { return o.indexOf(slot + '_') === 0 && cols.indexOf(o + '_unserved') >= 0; }).map(function (o) { return o.slice(slot.length + 1); });
    out.push({ slot: slot, ver: ver, st: st, uver: cols.indexOf(c), ust: cols.indexOf(slot + '_unserved_status'), outputs: outputs.map(function (o) { return { name: o, v: cols.indexOf(slot + '_' + o), u: cols.indexOf(slot + '_' + o + '_unserved') }; }) });
  });
  return out;
}
function deploymentOf(slot) { var s = ((models && models.slots) || []).filter(function (x) { return x.slot === slot; })[0]; return s ? s.assignment : null; }

function render() {
  frameAsked = false; if (!dirty) return; dirty = false; dash.models.renders++;
  if (models) renderSlots();
  renderSignals();
}

function renderSlots() {
  var note = $('models-note');
  note.textContent = models.logError || (models.slots.length ? 'from ' + models.logKey + (models.latencyError ? ' · ' + models.latencyError : '') : 'no deployment in ' + models.logKey + ' yet');
  note.className = models.logError ? 'bad' : 'note';
  var tb = $('slots').tBodies[0]; tb.textContent = '';
  models.slots.forEach(function (s) {
    var a = s.assignment, tr = el('tr'); tr.id = 'slot-' + s.slot;
    var lat = Object.keys(s.latency).sort().map(function (v) { var l = s.latency[v]; return 'v' + v + ': ' + l.n + ' (' + nsText(l.p99Ns) + ')'; }).join(', ');
    [s.slot, a.incumbent === null ? 'none' : 'v' + a.incumbent, a.candidate === null ? '—' : 'v' + a.candidate, a.mode || '—', a.mode === 'canary' ? a.percent + ' %' : a.mode === 'shadow' ? 'not served' : '—',
      a.previous.length ? a.previous.map(function (v) { return 'v' + v; }).join(', ') : '—', s.rollbacks, lat || '—'].forEach(function (v, i) {
      tr.appendChild(el('td', v, i === 2 && a.mode === 'canary' ? 'warn' : i === 6 && s.rollbacks > 0 ? 'bad' : ''));
    });
    tb.appendChild(tr);
  });
  var ch = $('changes').tBodies[0]; ch.textContent = '';
  var all = [];
  models.slots.forEach(function (s) { s.history.forEach(function (h) { all.push([s.slot, h]); }); });
  all.sort(function (x, y) { return x[1].id < y[1].id ? 1 : x[1].id > y[1].id ? -1 : 0; });
  $('changes-note').textContent = all.length ? '' : 'no change logged';
  all.forEach(function (x) {
    var h = x[1], tr = el('tr'); tr.className = 'change-' + h.action;
    var what = h.action + (h.action === 'deploy' ? ' ' + h.mode + (h.mode === 'canary' ? ' ' + h.percent + ' %' : '') : '');
    [x[0], timeOf(h.at) + (h.lateShards ? ' (late on ' + h.lateShards + ' shards)' : ''), what, h.version === null ? '—' : 'v' + h.version, h.effect, h.reason || ''].forEach(function (v, i) {
      tr.appendChild(el('td', v, i === 2 && h.action === 'rollback' ? 'bad' : i >= 4 ? 'wrap' : ''));
    });
    ch.appendChild(tr);
  });
}

function renderSignals() {
  var box = $('signals'), slots = slotsOfColumns(), syms = Object.keys(rows).sort();
  var note = $('signals-note');
  if (!cols.length) return;
  note.textContent = slots.length === 0 ? 'no model slot among the deployment\'s columns' : syms.length > MAXROWS ? 'the first ' + MAXROWS + ' of ' + syms.length + ' symbols' : syms.length ? '' : 'no symbol has values yet';
  box.textContent = '';
  slots.forEach(function (sl) {
    var a = deploymentOf(sl.slot), versions = [];
    if (a && a.incumbent !== null) versions.push(['incumbent', a.incumbent]);
    if (a && a.candidate !== null) versions.push([a.mode, a.candidate]);
    var known = versions.length > 0;
    if (!known) versions = [['served', null], ['unserved', null]];
    var t = el('table'); t.id = 'signals-' + sl.slot;
    var hr = el('tr');
    ['symbol', 'served version', 'status'].forEach(function (h) { hr.appendChild(el('th', h)); });
    sl.outputs.forEach(function (o) { versions.forEach(function (v) { hr.appendChild(el('th', sl.slot + '_' + o.name + ' · ' + v[0] + (v[1] === null ? '' : ' v' + v[1]))); }); });
    var th = el('thead'); th.appendChild(hr); t.appendChild(th);
    var tb = el('tbody');
    syms.slice(0, MAXROWS).forEach(function (s) {
      var vals = rows[s], tr = el('tr'); tr.dataset.symbol = s;
      if (vals === null) { tr.appendChild(el('td', s)); var k = el('td', 'killed: values withheld', 'killed'); k.colSpan = 2 + sl.outputs.length * versions.length; tr.appendChild(k); tb.appendChild(tr); return; }
      var served = vals[sl.ver], st = vals[sl.st], other = vals[sl.uver], ust = sl.ust < 0 ? '' : vals[sl.ust];
      tr.appendChild(el('td', s)); tr.appendChild(el('td', served === '' || served === undefined ? '—' : 'v' + fmt(served)));
      tr.appendChild(el('td', STATUS[Number(st)] || (st === '' ? '—' : st), Number(st) === 0 ? 'ok' : st === '' ? 'missing' : 'bad'));
      sl.outputs.forEach(function (o) {
        versions.forEach(function (v, k) {
          var isServed = known ? String(v[1]) === served : k === 0, isOther = known ? String(v[1]) === other : k === 1;
          var val = isServed ? vals[o.v] : isOther ? vals[o.u] : undefined;
          // the unserved side's value is missing: its own status says why (served: the status column)
          var why = !isServed && isOther && (val === '' || val === undefined) && ust !== '' && ust !== undefined && Number(ust) !== 0 ? STATUS[Number(ust)] || ust : null;
          tr.appendChild(el('td', why === null ? fmt(val) : why, 'n' + (isServed ? ' served' : '') + (why === null ? '' : ' bad')));
        });
      });
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    var h = el('h2', sl.slot + (a ? (a.candidate !== null ? ': ' + a.mode + ' v' + a.candidate + ' beside incumbent v' + a.incumbent : a.incumbent !== null ? ': v' + a.incumbent + ' serves' : ': nothing deployed') : ''));
    box.appendChild(h); box.appendChild(t);
  });
}
})();
`;
