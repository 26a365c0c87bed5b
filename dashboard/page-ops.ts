/**
 * The pages of the layers above the factors, as server-rendered shells (page.ts `shell`): model
 * slots and their signals (models-js.ts), the latest target weights (weights-js.ts), execution
 * progress and the kill policy (exec-js.ts). Their live parts come from the page feeds of the hub.
 */
import { esc, shell, type PageContext } from './page.ts';

/** Widgets of these pages only: a weight bar centred on 0, a series legend. */
const OPS_CSS = `<style>
.wbar{position:relative;width:260px;height:12px;background:#eef1f5;border-radius:3px}.wbar>span{position:absolute;top:0;bottom:0}.wbar>span.pos{left:50%;background:#2f855a}.wbar>span.neg{right:50%;background:#c53030}.wbar>i{position:absolute;left:50%;top:-2px;bottom:-2px;border-left:1px solid #5b6475}
td.served{font-weight:600}.st-working{color:#2b6cb0;font-weight:600}.st-done{color:#1d7a3a;font-weight:600}.st-killed{color:#c53030;font-weight:600}.st-stalled{color:#c05621;font-weight:600}.st-stopped{color:#5b6475;font-weight:600}
tr.sel{background:#eef4fb}td.wrap{white-space:normal}.parent-chart{margin-top:8px}
</style>`;

/** Where app.js says how signing in went (the header's form; these pages have no kill switch buttons). */
const SIGN_IN = '<div id="action-msg" class="note"></div><div id="operator-note" class="note"></div>';

const table = (id: string, heads: string[]) => `<table id="${id}"><thead><tr>${heads.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody></tbody></table>`;

/** Model slots: each slot's deployment (incumbent, candidate and share, rollbacks and why) and its signals per symbol. */
export function modelsPage(c: PageContext): string {
  return shell(
    c,
    'Models',
    `${OPS_CSS}<section><h2>Model slots</h2><div id="models-note" class="note">reading ${esc(c.ns)}:models:log (lockstep models deploy / promote / rollback --redis, models watch)…</div>
${table('slots', ['slot', 'incumbent', 'candidate', 'mode', 'share', 'previous', 'rollbacks', 'evaluations (p99)'])}${SIGN_IN}</section>
<section><h2>Changes</h2><div id="changes-note" class="note"></div>${table('changes', ['slot', 'from (event time)', 'action', 'version', 'effect', 'reason'])}</section>
<section><h2>Signals per symbol</h2><div id="signals-note" class="note">waiting for the workers' rows…</div><div id="signals"></div></section>`,
  );
}

/** The latest target weights of `lockstep weights --redis`: a bar per symbol, the book's figures. */
export function weightsPage(c: PageContext): string {
  return shell(
    c,
    'Target weights',
    `${OPS_CSS}<section><h2>Target weights</h2><div id="weights-meta" class="note">waiting for lockstep weights --redis (it writes ${esc(c.ns)}:weights)…</div><div id="weights-book" class="kv"></div>${SIGN_IN}</section>
<section><h2>Per symbol</h2>${table('weights', ['symbol', 'weight', '', 'change', 'signal', 'excluded'])}</section>`,
  );
}

/** Parent orders of `lockstep execute --redis` (plan vs sent vs filled, state and liveness), and the kill policy's firings. */
export function execPage(c: PageContext): string {
  const one = c.parent !== undefined;
  return shell(
    c,
    one ? `Execution ${c.parent}` : 'Execution',
    `${OPS_CSS}<section><h2>${one ? `Parent order ${esc(c.parent)}` : 'Parent orders'}</h2><div id="exec-note" class="note">reading ${esc(c.ns)}:orders and ${esc(c.ns)}:fills…</div>
${table('parents', ['parent', 'symbol', 'side', 'state', 'run', 'children', 'cancels', 'sent', 'filled', 'filled %', 'vs schedule', 'fills', 'last event', 'kill changes'])}
<div id="chart-exec" class="parent-chart"></div><div id="exec-plan" class="note"></div><div id="exec-kills" class="note"></div>${SIGN_IN}</section>
<section id="kill-policy"><h2>Kill policy</h2><div id="kill-state" class="note">reading…</div><div id="fired-note" class="note">reading ${esc(c.ns)}'s kill-guard record…</div>
${table('fired', ['event time (ts_recv)', 'rule', 'symbol', 'value', 'action', 'input entry'])}</section>`,
  );
}
