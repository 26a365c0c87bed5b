/**
 * The target weights page's script (loaded after app.js, on that page only): follows the `weights`
 * events (the latest rebalance, weights-feed.ts) and renders it, a bar per symbol centred on 0
 * (scaled to the largest |weight|), at most once per animation frame. Text is set with
 * textContent, never parsed as HTML. `window.__dash.weights` counts renders for tests.
 */
export const WEIGHTS_JS = String.raw`(function () {
'use strict';
var dash = window.__dash, es = dash.es, w = null, frameAsked = false;
dash.weights = { renders: 0, t: null };
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function timeOf(ns) { return new Date(Number(String(ns).slice(0, -6))).toISOString(); }
function pct(v, dp) { return v === null || v === undefined ? '—' : (100 * v).toFixed(dp) + ' %'; }
es.addEventListener('weights', function (e) { w = JSON.parse(e.data); if (!frameAsked) { frameAsked = true; requestAnimationFrame(render); } });

function render() {
  frameAsked = false; dash.weights.renders++;
  var meta = $('weights-meta'), book = $('weights-book');
  book.textContent = '';
  var tb = $('weights').tBodies[0]; tb.textContent = '';
  if (w.t === null) { meta.textContent = 'no rebalance yet: lockstep weights --redis has not written ' + w.key; meta.className = 'warn'; return; }
  meta.textContent = 'rebalance at ' + timeOf(w.t) + ' (event time, ' + w.trigger + ')' + (w.at ? ' · written ' + new Date(w.at).toISOString() : '') + (w.logError ? ' · ' + w.logError : '');
  meta.className = 'note';
  dash.weights.t = w.t;
  [['symbols', w.rows.length], ['gross', pct(w.gross, 2)], ['net', pct(w.net, 2)], ['turnover', pct(w.turnover, 2)], ['change against', w.previousT === null ? 'no rebalance before' : timeOf(w.previousT)]].forEach(function (kv) {
    book.appendChild(el('span', kv[0])); var v = el('span', kv[1]); v.id = 'wb-' + kv[0].replace(/ /g, '-'); book.appendChild(v);
  });
  var max = 0;
  w.rows.forEach(function (r) { max = Math.max(max, Math.abs(r.weight)); });
  w.rows.slice().sort(function (a, b) { return b.weight - a.weight || (a.symbol < b.symbol ? -1 : 1); }).forEach(function (r) {
    var tr = el('tr'); tr.id = 'w-' + r.symbol.replace(/[^A-Za-z0-9]+/g, '_');
    tr.appendChild(el('td', r.symbol));
    tr.appendChild(el('td', pct(r.weight, 3), 'n ' + (r.weight < 0 ? 'bad' : r.weight > 0 ? 'ok' : '')));
    var cell = el('td'), bar = el('div', '', 'wbar'), fill = el('span', '', r.weight < 0 ? 'neg' : 'pos');
    fill.style.width = (max > 0 ? 50 * Math.abs(r.weight) / max : 0).toFixed(2) + '%';
    bar.appendChild(fill); bar.appendChild(el('i')); cell.appendChild(bar); tr.appendChild(cell);
    var d = r.previous === null ? null : r.weight - r.previous;
    tr.appendChild(el('td', w.previousT === null ? '—' : r.previous === null ? 'new' : (d > 0 ? '+' : '') + pct(d, 3), 'n'));
    tr.appendChild(el('td', r.signal === null ? '—' : String(Math.round(r.signal * 1e6) / 1e6), 'n'));
    tr.appendChild(el('td', r.excluded || '', r.excluded ? 'warn' : ''));
    tb.appendChild(tr);
  });
}
})();
`;
