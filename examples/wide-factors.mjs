#!/usr/bin/env node
/**
 * Writes a wide factor set file: parameter sweeps of the built-in families, as a researcher
 * generates them when searching for a signal (moving averages, EMA, realized volatility over 2..500
 * one-minute bars, RSI periods, MACD triples, anomaly thresholds, trade-flow windows, depth levels).
 *
 *   node examples/wide-factors.mjs                      # the 1,000-column set on stdout
 *   node examples/wide-factors.mjs --columns 300 --out my-wide.json
 *
 * `examples/factors-1000.json` is this script's output with the defaults; a test checks that the
 * committed file is what the script writes, and that it has exactly 1,000 columns. Each family
 * sweeps a fixed grid; entries are taken in family order until the column count is reached (an
 * entry that would overshoot it is skipped), so the 1,000-column set ends part-way through the
 * EMA sweep and a smaller `--columns` keeps the families that come first.
 * Plain JavaScript on purpose: a researcher's generator needs nothing from Lockstep but the names
 * `lockstep factors list` prints.
 */
import { writeFileSync } from 'node:fs';

/** Integers lo..hi by step. */
const range = (lo, hi, step = 1) => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);
/** The usual researcher's grid over 2..500 bars: every bar to 120, then every 5 to 300, every 10 to 500. */
const barGrid = [...range(2, 120), ...range(125, 300, 5), ...range(310, 500, 10)];
/** Bars for the session-restricted sweeps (a window must fit in one US equity session: 390 bars). */
const sessionGrid = [5, 10, 15, 20, 30, 45, 60, 90, 120];

const entry = (factor, params) => ({ factor, params });

/** Families as [entries, columns per entry], in file order. */
function families() {
  const windows = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 7200];
  const macd = [];
  for (const fast of [3, 5, 8, 12]) for (const slow of [13, 21, 26, 34, 55]) for (const signal of [5, 9]) macd.push(entry('macd', { fast, slow, signal }));
  const anomaly = (factor, key, values) => [10, 20, 30, 60, 120, 240].flatMap((bars) => values.map((v) => entry(factor, { bars, [key]: v })));
  return [
    [['last_price', 'return_1m', 'vwap_session', 'spread', 'mid', 'microprice', 'quote_imbalance', 'quote_crossed_flag', 'per', 'pbr', 'event_count'], 1],
    [[5, 15, 30, 60, 120].map((halfLifeMinutes) => entry('news_sentiment', { halfLifeMinutes })), 1],
    [[15, 30, 60, 120, 240].map((minutes) => entry('news_count_60m', { minutes })), 1],
    [range(1, 10).map((levels) => entry('depth_imbalance_5', { levels })), 1],
    [windows.map((seconds) => entry('volume_1m', { seconds })), 1],
    [windows.map((seconds) => entry('trade_count_1m', { seconds })), 1],
    [windows.map((seconds) => entry('volume_power_1m', { seconds })), 1],
    [macd, 3],
    [anomaly('return_zscore', 'threshold', [2, 2.5, 3, 4]), 2],
    [anomaly('volume_spike', 'threshold', [2, 2.5, 3, 4]), 2],
    [anomaly('price_collar', 'k', [3, 4, 5]), 2],
    [[...range(2, 100), ...range(110, 200, 10)].map((period) => entry('rsi_14', { period })), 1],
    [sessionGrid.map((bars) => entry('ma_5m', { bars, session: 'auto' })), 1],
    [sessionGrid.map((bars) => entry('rv_5m', { bars, session: 'auto' })), 1],
    [sessionGrid.map((period) => entry('ema_12', { period, session: 'auto' })), 1],
    [barGrid.map((bars) => entry('rv_5m', { bars })), 1],
    [barGrid.map((bars) => entry('ma_5m', { bars })), 1],
    [barGrid.map((period) => entry('ema_12', { period })), 1],
  ];
}

/** The factor set file's document with `columns` output columns (throws when the grids hold fewer). */
export function wideFactorSet(columns = 1000) {
  const factors = [];
  let n = 0;
  for (const [entries, per] of families()) {
    for (const e of entries) {
      if (n + per > columns) continue;
      factors.push(e);
      n += per;
    }
  }
  if (n !== columns) throw new Error(`the grids give ${n} columns, not ${columns}`);
  return { factors };
}

/** One entry per line: diffable, and still JSON. */
export function formatSet(doc) {
  return `{\n  "factors": [\n${doc.factors.map((f) => `    ${JSON.stringify(f)}`).join(',\n')}\n  ]\n}\n`;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const columns = Number(flag('--columns') ?? 1000);
  if (!Number.isInteger(columns) || columns < 1) {
    console.error(`wide-factors: --columns ${flag('--columns')}: give a positive whole number`);
    process.exit(2);
  }
  let text;
  try {
    text = formatSet(wideFactorSet(columns));
  } catch (e) {
    console.error(`wide-factors: ${e.message}`);
    process.exit(2);
  }
  const out = flag('--out');
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
