/**
 * The factors grid's drawing code (browser JavaScript as a string, spliced into the page script's
 * closure by client-js.ts: it shares `rows`, `cols`, `dirty`, `statusOf`, `fmt`, `ago`, `now`).
 *
 * Why a canvas and not a table: 50 symbols × 30 factors at 10 updates a second is 15,000 cell
 * changes a second; as table cells each change costs the browser style, layout and paint work
 * outside the script (long tasks of seconds per 5 s were measured, bench/dashboard-bench.ts). Drawn
 * on one canvas the page does no layout at all: a frame redraws only the rows that changed since
 * the last one, and only those in view (the canvas is the size of the visible box, not of the grid:
 * virtualized, so 5,000 symbols cost what 30 do). The header row and the symbol and age columns are
 * frozen. A transparent scroll box above a spacer of the grid's full size gives native scrolling;
 * a click on a symbol opens its page. `__dash.cell(symbol, column)` returns the text last drawn
 * in that cell (what a reader of the screen would see), for the browser tests.
 */
export const GRID_JS = String.raw`
var G = { rowH: 20, headH: 26, symW: 92, ageW: 64, colW: [], colX: [], width: 0, syms: [], index: {}, drawn: {}, vw: 0, vh: 0, dpr: 0, sx: -1, sy: -1, all: true, ctx: null };
var FONT = '12px system-ui, sans-serif', HEAD_FONT = '600 12px system-ui, sans-serif';
var INK = { present: '#1d7a3a', stale: '#b7791f', missing: '#8a94a6', killed: '#c53030' };
dash.grid = { rows: 0, columns: 0, draws: 0, rowsDrawn: 0 };
dash.cell = function (s, name) { var d = G.drawn[s], i = cols.indexOf(name); return d && i >= 0 ? d[i + 1] : undefined; };
function gridBuild() {
  // the symbols the server listed (in the picker) and any that sent a row since
  var seen = {}; Array.prototype.forEach.call($('picker').options, function (o) { if (o.value) seen[o.value] = 1; });
  for (var k in rows) seen[k] = 1;
  G.syms = Object.keys(seen).sort(); G.index = {}; G.drawn = {};
  G.syms.forEach(function (s, i) { G.index[s] = i; });
  var canvas = $('grid'); G.ctx = canvas.getContext('2d', { alpha: false });
  G.ctx.font = HEAD_FONT;
  G.colW = []; G.colX = []; var x = G.symW + G.ageW;
  for (var i = 0; i < cols.length; i++) { var w = Math.max(84, Math.ceil(G.ctx.measureText(cols[i]).width) + 16); G.colW.push(w); G.colX.push(x); x += w; }
  G.width = x;
  var space = $('grid-space'); space.style.width = G.width + 'px'; space.style.height = (G.headH + G.syms.length * G.rowH) + 'px';
  G.vw = 0; G.all = true;
  dash.grid.rows = G.syms.length; dash.grid.columns = cols.length;
}
function gridSize() {
  var wrap = $('grid-wrap'), w = wrap.clientWidth, h = wrap.clientHeight, dpr = window.devicePixelRatio || 1, c = $('grid');
  if (w === G.vw && h === G.vh && dpr === G.dpr) return;
  G.vw = w; G.vh = h; G.dpr = dpr;
  c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); c.style.width = w + 'px'; c.style.height = h + 'px';
  G.ctx.setTransform(dpr, 0, 0, dpr, 0, 0); G.all = true;
}
function cellText(s, i) {
  var r = rows[s], st = statusOf(s, i);
  return [st === 'killed' ? 'killed' : r && r.vals ? fmt(r.vals[i]) : '—', st];
}
function gridRender() {
  if (!built || cols.length !== G.colW.length) { gridBuild(); built = true; }
  for (var s0 in dirty) if (!(s0 in G.index)) { gridBuild(); break; }
  gridSize();
  var wrap = $('grid-wrap'), sx = wrap.scrollLeft, sy = wrap.scrollTop, ctx = G.ctx;
  if (sx !== G.sx || sy !== G.sy) { G.sx = sx; G.sy = sy; G.all = true; }
  var first = Math.max(0, Math.floor(sy / G.rowH)), last = Math.min(G.syms.length - 1, Math.floor((sy + G.vh - G.headH) / G.rowH));
  // the data columns in view (right of the frozen symbol and age columns)
  var c0 = 0, c1 = cols.length - 1, fixed = G.symW + G.ageW;
  while (c0 < cols.length && G.colX[c0] + G.colW[c0] - sx <= fixed) c0++;
  while (c1 >= 0 && G.colX[c1] - sx >= G.vw) c1--;
  dash.grid.draws++;
  ctx.save(); ctx.beginPath(); ctx.rect(0, G.headH, G.vw, G.vh - G.headH); ctx.clip();
  if (G.all) {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, G.vw, G.vh);
    for (var k = first; k <= last; k++) drawRow(k, sx, sy, c0, c1);
  } else {
    for (var s in dirty) { var j = G.index[s]; if (j !== undefined && j >= first && j <= last) drawRow(j, sx, sy, c0, c1); }
  }
  ctx.restore();
  if (G.all) drawHead(sx, c0, c1);
  G.all = false;
}
function drawHead(sx, c0, c1) {
  var ctx = G.ctx, y = G.headH / 2 + 1;
  ctx.fillStyle = '#f6f7f9'; ctx.fillRect(0, 0, G.vw, G.headH);
  ctx.font = HEAD_FONT; ctx.fillStyle = '#4a5568'; ctx.textBaseline = 'middle';
  ctx.save(); ctx.beginPath(); ctx.rect(G.symW + G.ageW, 0, G.vw, G.headH); ctx.clip();
  ctx.textAlign = 'right';
  for (var i = c0; i <= c1; i++) ctx.fillText(cols[i], G.colX[i] - sx + G.colW[i] - 8, y, G.colW[i] - 12);
  ctx.restore();
  ctx.textAlign = 'left'; ctx.fillText('symbol', 8, y); ctx.textAlign = 'right'; ctx.fillText('age', G.symW + G.ageW - 8, y);
  ctx.fillStyle = '#cbd2dc'; ctx.fillRect(0, G.headH - 1, G.vw, 1);
}
function drawRow(k, sx, sy, c0, c1) {
  var ctx = G.ctx, s = G.syms[k], r = rows[s], top = G.headH + k * G.rowH - sy, y = top + G.rowH / 2 + 1;
  var d = G.drawn[s] || (G.drawn[s] = []);
  ctx.fillStyle = k % 2 ? '#fafbfc' : '#fff'; ctx.fillRect(0, top, G.vw, G.rowH);
  ctx.font = FONT; ctx.textBaseline = 'middle'; ctx.textAlign = 'right';
  for (var i = c0; i <= c1; i++) {
    var t = cellText(s, i);
    ctx.fillStyle = INK[t[1]];
    if (t[1] === 'killed') ctx.font = '600 ' + FONT;
    ctx.fillText(t[0], G.colX[i] - sx + G.colW[i] - 8, y, G.colW[i] - 12);
    if (t[1] === 'killed') ctx.font = FONT;
    d[i + 1] = t[0];
  }
  // the frozen columns, over whatever scrolled under them
  ctx.fillStyle = k % 2 ? '#fafbfc' : '#fff'; ctx.fillRect(0, top, G.symW + G.ageW, G.rowH);
  ctx.fillStyle = '#2b6cb0'; ctx.textAlign = 'left'; ctx.fillText(s, 8, y, G.symW - 12);
  var age = r ? ago(now() - r.at) : '—';
  ctx.fillStyle = '#1c2330'; ctx.textAlign = 'right'; ctx.fillText(age, G.symW + G.ageW - 8, y);
  d[0] = age;
  ctx.fillStyle = '#eef1f5'; ctx.fillRect(0, top + G.rowH - 1, G.vw, 1);
  dash.grid.rowsDrawn++;
  if (r) shown(s, r.te);
}
if (view === 'grid') {
  $('grid-wrap').addEventListener('scroll', askFrame, { passive: true });
  window.addEventListener('resize', function () { G.vw = 0; askFrame(); });
  // a click on a symbol opens its page; the pointer says where that works
  var rowAt = function (e) {
    var b = $('grid-wrap').getBoundingClientRect(), x = e.clientX - b.left, y = e.clientY - b.top;
    if (x >= G.symW || y < G.headH) return null;
    return G.syms[Math.floor((y - G.headH + $('grid-wrap').scrollTop) / G.rowH)] || null;
  };
  $('grid-wrap').addEventListener('click', function (e) { var s = rowAt(e); if (s) location.href = '/dashboard/factors/' + encodeURIComponent(s); });
  $('grid-wrap').addEventListener('mousemove', function (e) { this.style.cursor = rowAt(e) ? 'pointer' : ''; });
}
`;
