/**
 * The dashboard's pages as server-rendered shells: the layout, the CSRF token and what the server
 * already knows (role, symbols, operator setup); the live parts are filled in by the page script
 * (client-js.ts) from the event stream. Every interpolated text is escaped: symbols, alerts and
 * certificates come from Redis or files, not from us.
 */

/** HTML-escapes `s` (text and attribute values). */
export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PageContext {
  view: 'overview' | 'grid' | 'symbol' | 'pnl' | 'models' | 'weights' | 'exec';
  symbol?: string;
  /** The exec page of one parent order (its id). */
  parent?: string;
  symbols: readonly string[];
  csrf: string;
  operator: boolean;
  operatorEnabled: boolean;
  /** Kill switch writes are possible (an --operator-redis connection). */
  operatorRedis: boolean;
  maxAgeMs: number;
  ns: string;
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:13px/1.4 system-ui,sans-serif;background:#f6f7f9;color:#1c2330}
header{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#1c2330;color:#fff}
header a{color:#cfd8e6;text-decoration:none}header a.on{color:#fff;font-weight:600}
header .sp{flex:1}.badge{padding:2px 8px;border-radius:9px;background:#44506a;font-size:12px}.badge.op{background:#b5472f}
main{padding:12px 16px;display:grid;gap:12px}section{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:10px 12px}
h2{margin:0 0 8px;font-size:14px}table{border-collapse:collapse;width:100%}th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #eef1f5;white-space:nowrap}
th{font-weight:600;color:#4a5568}td.n{text-align:right;font-variant-numeric:tabular-nums}
.present{color:#1d7a3a}.stale{color:#b7791f}.missing{color:#8a94a6}.killed{color:#c53030;font-weight:600}
.ok{color:#1d7a3a}.bad{color:#c53030;font-weight:600}.warn{color:#b7791f}.note{color:#5b6475}
.refused{color:#c53030;font-weight:600}.done{color:#1d7a3a}
button{font:inherit;padding:3px 10px;border:1px solid #9aa5b8;border-radius:4px;background:#fff;cursor:pointer}button.danger{border-color:#c53030;color:#c53030}
input,select{font:inherit;padding:2px 6px}.row{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
#grid-box{position:relative;height:70vh;contain:strict}#grid-wrap{position:absolute;inset:0;overflow:auto}#grid{position:absolute;left:0;top:0;pointer-events:none}.charts{display:grid;gap:8px}
.bar{position:relative;width:220px;height:12px;background:#eef1f5;border-radius:3px;overflow:hidden}.bar>span{position:absolute;left:0;top:0;bottom:0;background:#2f855a}.bar.warn>span{background:#d69e2e}.bar.bad>span{background:#c53030}td.use{display:flex;gap:8px;align-items:center}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}
`;

/** The pages of the model, portfolio and execution layers (page-ops.ts), in the header after the PnL page. */
const OPS_NAV: [PageContext['view'], string, string][] = [
  ['models', '/dashboard/models', 'Models'],
  ['weights', '/dashboard/weights', 'Weights'],
  ['exec', '/dashboard/exec', 'Execution'],
];
/** Each page's own script, loaded after app.js. */
const PAGE_SCRIPT: Partial<Record<PageContext['view'], string>> = { pnl: 'pnl.js', models: 'models.js', weights: 'weights.js', exec: 'exec.js' };

export function shell(c: PageContext, title: string, main: string): string {
  const nav = (href: string, label: string, on: boolean) => `<a href="${href}"${on ? ' class="on"' : ''}>${label}</a>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Lockstep</title>
<meta name="csrf" content="${esc(c.csrf)}"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/uplot.css"><style>${CSS}</style></head>
<body data-view="${c.view}" data-symbol="${esc(c.symbol ?? '')}" data-parent="${esc(c.parent ?? '')}" data-max-age="${c.maxAgeMs}" data-operator="${c.operator}" data-operator-redis="${c.operatorRedis}">
<header><b>Lockstep</b><span class="note">${esc(c.ns)}</span>${nav('/dashboard', 'Overview', c.view === 'overview')}${nav('/dashboard/factors', 'Factors', c.view === 'grid' || c.view === 'symbol')}${nav('/dashboard/pnl', 'PnL &amp; risk', c.view === 'pnl')}${OPS_NAV.map(([v, href, label]) => nav(href, label, c.view === v)).join('')}
<span class="sp"></span><span id="conn" class="note">connecting…</span>
<span id="role" class="badge${c.operator ? ' op' : ''}">${c.operator ? 'operator' : 'viewer'}</span>
${c.operatorEnabled && !c.operator ? `<form id="login" class="row"><input id="token" type="password" placeholder="operator token" autocomplete="off"><button>Sign in</button></form>` : ''}
</header><main>${main}</main>
<script src="/dashboard/assets/uplot.js"></script><script src="/dashboard/assets/app.js"></script>${PAGE_SCRIPT[c.view] ? `<script src="/dashboard/assets/${PAGE_SCRIPT[c.view]}"></script>` : ''}</body></html>`;
}

function killPanel(c: PageContext, symbol?: string): string {
  const why = !c.operatorEnabled
    ? 'Operator actions are disabled: serve was started without --operator-token-file.'
    : !c.operatorRedis
      ? 'Kill switch changes are not configured: serve needs --operator-redis URL (a Redis user allowed to write the kill switch; its own user is read-only).'
      : c.operator
        ? 'You are signed in as operator.'
        : 'Viewers cannot change anything: sign in with the operator token.';
  const target = symbol === undefined ? 'the deployment' : esc(symbol);
  return `<section id="kill-panel"><h2>Kill switch</h2><div id="kill-state" class="note">reading…</div>
<div class="row" style="margin-top:6px"><input id="kill-reason" placeholder="reason" value="dashboard">
<select id="kill-mode" title="halt: no new order, working ones cancelled; reduce-only: only orders that reduce the position"><option value="halt">halt</option><option value="reduce-only">reduce-only</option></select>
<button id="kill-on" class="danger" data-symbol="${esc(symbol ?? '')}">Switch ON for ${target}</button>
<button id="kill-off" data-symbol="${esc(symbol ?? '')}">Switch OFF for ${symbol === undefined ? 'everything' : target}</button></div>
<div id="action-msg" class="note"></div><div id="operator-note" class="note">${esc(why)}</div></section>`;
}

/** The overview page: health, shards, alerts, kill switch, parity certificate. */
export function overviewPage(c: PageContext): string {
  return shell(
    c,
    'Overview',
    `<section><h2>Health</h2><div id="health" class="kv"><span>Redis</span><span id="h-redis" class="note">reading…</span><span>Workers</span><span id="h-workers">…</span><span>Symbols</span><span id="h-symbols">${c.symbols.length}</span></div></section>
${killPanel(c)}
<section><h2>Shards</h2><div id="shards-note" class="note"></div><table id="shards"><thead><tr><th>shard</th><th>worker</th><th>input entries</th><th>lag (entries)</th><th>pending</th><th>oldest waiting</th><th>last output</th><th>dead letters</th></tr></thead><tbody></tbody></table></section>
<section><h2>Alerts firing</h2><div id="alerts-note" class="note"></div><table id="alerts"><thead><tr><th>id</th><th>severity</th><th>since</th><th>summary</th></tr></thead><tbody></tbody></table></section>
<section><h2>Last parity certificate</h2><div id="parity" class="kv note">none known to this server</div></section>`,
  );
}

function picker(c: PageContext): string {
  const opts = c.symbols.map((s) => `<option${s === c.symbol ? ' selected' : ''}>${esc(s)}</option>`).join('');
  return `<div class="row"><label for="picker">Symbol</label><select id="picker"><option value="">all symbols (grid)</option>${opts}</select>
${c.symbols.length === 0 ? '<span class="note">no symbols found: no worker has written latest values yet, or this Redis user may not SCAN (give serve --dashboard-symbols)</span>' : ''}</div>`;
}

/** The factors page: every symbol × every factor, live. */
export function gridPage(c: PageContext): string {
  return shell(c, 'Factors', `<section><h2>Factors</h2>${picker(c)}</section><section class="grid"><div id="grid-box"><div id="grid-wrap"><div id="grid-space"></div></div><canvas id="grid" aria-label="every symbol × every factor, live (drawn; a symbol's page lists its values as text)"></canvas></div></section>`);
}

/** One symbol's page: price and oscillator charts, and every factor with its age and status. */
export function symbolPage(c: PageContext): string {
  return shell(
    c,
    c.symbol!,
    `<section><h2>Factors of ${esc(c.symbol)}</h2>${picker(c)}<div id="sym-meta" class="note"></div></section>
<section class="charts"><h2>Price, VWAP and moving average</h2><div id="chart-price"></div><h2>RSI / MACD</h2><div id="chart-osc"></div></section>
${killPanel(c, c.symbol)}
<section><h2>Every factor</h2><table id="factors"><thead><tr><th>factor</th><th>value</th><th>age</th><th>status</th></tr></thead><tbody></tbody></table></section>`,
  );
}

/** The PnL & risk page: the desk's books, the day's PnL chart, limits in breach, positions. */
export function pnlPage(c: PageContext): string {
  const table = (id: string, heads: string[]) => `<table id="${id}"><thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody></tbody></table>`;
  return shell(
    c,
    'PnL & risk',
    `<section><h2>PnL &amp; risk</h2><div id="desk-meta" class="note">waiting for the desk (lockstep desk writes ${esc(c.ns)}:pnl, :risk, :positions)…</div><div id="kill-state" class="note"></div></section>
<section class="charts"><h2>Day PnL</h2><div id="pnl-note" class="note"></div><div id="chart-pnl"></div></section>
<section><h2>Books</h2>${table('books', ['account', 'strategy', 'realized', 'unrealized', 'fees', 'day PnL', 'HWM', 'drawdown', 'positions', 'gross', 'net', 'concentration', 'VaR'])}</section>
<section><h2>Limit usage</h2><div id="limits-note" class="note">reading…</div>${table('limits', ['limit', 'scope', 'value', 'threshold', 'usage'])}</section>
<section><h2>Limits in breach</h2><div id="breaches-note" class="note">reading…</div>${table('breaches', ['limit', 'scope'])}</section>
<section><h2>Positions</h2><div id="positions-note" class="note"></div>${table('positions', ['account', 'strategy', 'symbol', 'lots', 'qty', 'avg price', 'mark', 'notional', 'realized', 'unrealized', 'fees'])}</section>`,
  );
}

/** A page for a refusal or an unknown address: the status and one line, never a stack trace. */
export function errorPage(status: number, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · Lockstep</title><style>${CSS}</style></head>
<body><header><b>Lockstep</b><a href="/dashboard">Overview</a><a href="/dashboard/factors">Factors</a><a href="/dashboard/pnl">PnL &amp; risk</a>${OPS_NAV.map(([, href, label]) => `<a href="${href}">${label}</a>`).join('')}</header>
<main><section><h2>${status}</h2><p id="error">${esc(message)}</p></section></main></body></html>`;
}
