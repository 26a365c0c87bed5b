#!/usr/bin/env node
// Generates talib-reference.json: EMA(12), EMA(26), RSI(14) and MACD(12,26,9) computed by TA-Lib
// itself (npm `talib`, which builds the TA-Lib C sources with node-gyp) over three close series.
//
// Standalone on purpose: talib is NOT a project dependency, so `npm ci` never compiles C. Install it
// outside the repo and point TALIB_DIR at that folder (see README.md in this directory):
//
//   mkdir -p /tmp/talib-ref && cd /tmp/talib-ref && npm init -y && npm install talib@1.1.6 --foreground-scripts
//   TALIB_DIR=/tmp/talib-ref node core/factors/reference/make-talib-reference.mjs
//
// Optional: DATA_DIR (default ../shared/data/real next to the repo root).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const dataDir = process.env.DATA_DIR ?? path.resolve(repoRoot, '../shared/data/real');
const talibDir = path.resolve(process.env.TALIB_DIR ?? '/tmp/talib-ref');

const requireFromTalibDir = createRequire(path.join(talibDir, 'package.json'));
const talib = requireFromTalibDir('talib');
const talibPkgDir = path.dirname(requireFromTalibDir.resolve('talib/package.json'));
const talibPkgVersion = JSON.parse(readFileSync(path.join(talibPkgDir, 'package.json'), 'utf8')).version;

/** TA-Lib C version as written in the vendored sources the package compiled (ta_version.c). */
function talibCVersion() {
  const src = readFileSync(path.join(talibPkgDir, 'src/lib/src/ta_common/ta_version.c'), 'utf8');
  const part = (name) => src.match(new RegExp(`#define ${name} "([^"]*)"`))[1];
  const extra = part('EXTRA');
  return `${part('MAJOR')}.${part('MINOR')}.${part('BUILD')}${extra ? `-${extra}` : ''}`;
}

// TA-Lib defaults, set explicitly so the file does not depend on them: no unstable period for any
// function (EMA/RSI output from their plain lookback); compatibility stays TA_COMPATIBILITY_DEFAULT
// (the binding has no setter; TA_Initialize leaves it at DEFAULT => EMA seeded with an SMA).
talib.setUnstablePeriod(talib.functionUnstIds.TA_FUNC_UNST_ALL, 0);

/** Reads a gzip CSV with a header line; returns header names and the data lines. */
function readCsvGz(file) {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { header: lines[0].split(','), rows: lines.slice(1) };
}

/** Minute bars from (minute, value) pairs in file order: last value of each minute wins. */
function lastPerMinute(pairs) {
  const byMinute = new Map();
  for (const [minute, value] of pairs) byMinute.set(minute, value);
  const minutes = [...byMinute.keys()].sort((a, b) => a - b);
  return { minutes, closes: minutes.map((m) => byMinute.get(m)) };
}

function taqCloses(file) {
  const { header, rows } = readCsvGz(file);
  const ts = header.indexOf('ts_utc_ms');
  const price = header.indexOf('PRICE');
  const corr = header.indexOf('CORR');
  const pairs = [];
  for (const line of rows) {
    const f = line.split(',');
    if (f[corr] !== '0') continue;
    pairs.push([Math.floor(Number(f[ts]) / 60000), Number(f[price])]);
  }
  return { ...lastPerMinute(pairs), rowsUsed: pairs.length, rowsTotal: rows.length };
}

function eurusdMidCloses(file) {
  const { header, rows } = readCsvGz(file);
  const ts = header.indexOf('ts_utc_ms');
  const bid = header.indexOf('bid');
  const ask = header.indexOf('ask');
  const pairs = rows.map((line) => {
    const f = line.split(',');
    return [Math.floor(Number(f[ts]) / 60000), (Number(f[bid]) + Number(f[ask])) / 2];
  });
  return { ...lastPerMinute(pairs), rowsUsed: pairs.length, rowsTotal: rows.length };
}

/**
 * Synthetic closes from + - * / and integer % only, so every IEEE-754 runtime reproduces them bit
 * for bit (Math.sin is not required to be correctly rounded). The flat opening makes the first 14
 * price changes all zero, which exercises TA-Lib's RSI zero-movement rule (it outputs 0, not 50).
 */
function syntheticClose(i) {
  if (i < 20) return 100;
  const k = i - 20;
  const triangle = Math.abs((k % 28) - 14) - 7;
  const noise = ((i * 7919) % 61) - 30;
  return 100 + 0.05 * k + triangle * 0.75 + noise / 64;
}

function run(name, closes, opts) {
  const r = talib.execute({ name, startIdx: 0, endIdx: closes.length - 1, inReal: closes, ...opts });
  return r;
}

function indicators(closes) {
  const single = (name, period) => {
    const r = run(name, closes, { optInTimePeriod: period });
    return { begIndex: r.begIndex, nbElement: r.nbElement, values: r.result.outReal };
  };
  const m = run('MACD', closes, { optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 });
  return {
    ema12: single('EMA', 12),
    ema26: single('EMA', 26),
    rsi14: single('RSI', 14),
    macd: {
      begIndex: m.begIndex,
      nbElement: m.nbElement,
      line: m.result.outMACD,
      signal: m.result.outMACDSignal,
      hist: m.result.outMACDHist,
    },
  };
}

const taqFile = 'equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz';
const fxFile = 'fx_dukascopy_eurusd/EURUSD_2019-02-04_05_ticks.csv.gz';
const taq = taqCloses(path.join(dataDir, taqFile));
const fx = eurusdMidCloses(path.join(dataDir, fxFile));
const synth = Array.from({ length: 300 }, (_, i) => syntheticClose(i));

const output = {
  generator: {
    script: 'core/factors/reference/make-talib-reference.mjs',
    command: 'TALIB_DIR=/tmp/talib-ref node core/factors/reference/make-talib-reference.mjs',
    npmPackage: `talib@${talibPkgVersion}`,
    talibC: talibCVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    generatedOn: new Date().toISOString().slice(0, 10),
    settings: {
      compatibility: 'TA_COMPATIBILITY_DEFAULT (EMA seed = SMA of the first period values)',
      unstablePeriod: 0,
      ema12: 'TA_EMA optInTimePeriod=12 (k = 2/13)',
      ema26: 'TA_EMA optInTimePeriod=26 (k = 2/27)',
      rsi14: 'TA_RSI optInTimePeriod=14 (Wilder)',
      macd: 'TA_MACD optInFastPeriod=12 optInSlowPeriod=26 optInSignalPeriod=9',
    },
    layout:
      'output[j] belongs to input index begIndex + j; nbElement === values.length; ' +
      'begIndex + nbElement === closes.length',
  },
  series: {
    taq_xxx_1m: {
      source: taqFile,
      rule:
        'rows with CORR == "0"; minute = floor(ts_utc_ms / 60000); close = Number(PRICE) of the last row ' +
        'of that minute in file order; minutes without a trade have no bar; bars sorted by minute',
      rows: { total: taq.rowsTotal, used: taq.rowsUsed },
      minutes: taq.minutes,
      closes: taq.closes,
      ...indicators(taq.closes),
    },
    eurusd_mid_1m: {
      source: fxFile,
      rule:
        'mid = (Number(bid) + Number(ask)) / 2 in float64; minute = floor(ts_utc_ms / 60000); ' +
        'close = mid of the last tick of that minute in file order; minutes without a tick have no bar',
      rows: { total: fx.rowsTotal, used: fx.rowsUsed },
      minutes: fx.minutes,
      closes: fx.closes,
      ...indicators(fx.closes),
    },
    synthetic: {
      source: 'closed form, 300 values',
      rule:
        'i < 20: 100; else k = i - 20, close = 100 + 0.05 * k + (Math.abs((k % 28) - 14) - 7) * 0.75 + ' +
        '(((i * 7919) % 61) - 30) / 64 (evaluated left to right in float64)',
      minutes: null,
      closes: synth,
      ...indicators(synth),
    },
  },
};

// One array per line keeps the file diffable without one line per number; JSON.stringify of a
// float64 is the shortest round-tripping form, so values parse back bit for bit.
const json = JSON.stringify(output, null, 2).replace(/\[\s*([-0-9.eE+,\s]*?)\s*\]/g, (_, body) =>
  `[${body.split(/,\s*/).filter((s) => s !== '').join(',')}]`,
);
const outFile = path.join(here, 'talib-reference.json');
writeFileSync(outFile, json + '\n');

// Guard the formatting step: the written file must parse back to exactly what TA-Lib returned.
if (JSON.stringify(JSON.parse(json)) !== JSON.stringify(output)) throw new Error('JSON round trip changed values');
for (const [key, s] of Object.entries(output.series)) {
  console.log(
    `${key}: ${s.closes.length} closes; ema12 beg ${s.ema12.begIndex}, ema26 beg ${s.ema26.begIndex}, ` +
      `rsi14 beg ${s.rsi14.begIndex}, macd beg ${s.macd.begIndex} n ${s.macd.nbElement}`,
  );
}
console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
