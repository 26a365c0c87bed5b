import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { fixtureRows } from '../testing/replay-fixture.ts';
import { loadModelStages } from './load.ts';
import { MODEL_STATUS } from './model.ts';
import { loadOnnxEvaluator } from './onnx.ts';
import { appendDeployment, listRegistry, registerVersion } from './registry.ts';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ls-models-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('registry → stages → fold, with the committed ONNX models', () => {
  it('each served signal equals the ONNX model evaluated on that row\'s own factor values', () => {
    const reg = tmp();
    // the committed models read minute-bar factors that need half an hour of data; here they read
    // six columns that fill within seconds (the graph does not know what its inputs are named)
    const quick = ['last_price', 'mid', 'spread', 'quote_imbalance', 'event_count', 'microprice'];
    for (const m of ['mlp', 'trees']) {
      const spec = JSON.parse(readFileSync(join(FIX, `alpha-${m}.json`), 'utf8'));
      const file = join(tmp(), `alpha-${m}.json`);
      writeFileSync(file, JSON.stringify({ ...spec, inputs: quick, onnx: { ...spec.onnx, file: join(FIX, `${m}.onnx`) } }));
      registerVersion(reg, file);
      appendDeployment(reg, { at: 0n, slot: `alpha_${m}`, action: 'deploy', version: 1, mode: 'live' });
    }
    const base = createFactorSet(DEFAULT_FACTORS).columns;
    const loaded = loadModelStages(reg, base);
    const set = createFactorSet(DEFAULT_FACTORS, { stages: loaded.stages });
    const col = (c: string) => set.columns.indexOf(c);
    const inputs = quick.map(col);
    const direct = Object.fromEntries(
      ['mlp', 'trees'].map((m) => [m, loadOnnxEvaluator(readFileSync(join(FIX, `${m}.onnx`)), { file: m, inputCount: 6, outputs: { alpha_bps: 'alpha_bps' } })]),
    );
    const st = initFold();
    const counts = { ok: 0, missing: 0 };
    const x = new Float64Array(6);
    const out = new Float64Array(1);
    for (const ev of fixtureRows(3000) as MarketEvent[]) {
      applyEvent(set, st, ev, (_e, _s, row) => {
        for (const m of ['mlp', 'trees']) {
          const status = row[col(`alpha_${m}_status`)];
          if (status === MODEL_STATUS.missing) {
            counts.missing++;
            expect(inputs.some((i) => row[i] === null)).toBe(true);
            expect(row[col(`alpha_${m}_alpha_bps`)]).toBeNull();
            continue;
          }
          expect(status).toBe(MODEL_STATUS.ok);
          counts.ok++;
          inputs.forEach((c, k) => (x[k] = row[c]!));
          direct[m].evaluate(x, out);
          expect(row[col(`alpha_${m}_alpha_bps`)]).toBe(out[0]);
          expect(row[col(`alpha_${m}_version`)]).toBe(1);
        }
      });
    }
    expect(counts.ok).toBeGreaterThan(1000);
    expect(counts.missing).toBeGreaterThan(0);
  });

  it('registers content once, refuses other content under a taken version, and notices a hand-edited registry', () => {
    const reg = tmp();
    const first = registerVersion(reg, join(FIX, 'alpha-mlp.json'));
    expect(first.existed).toBe(false);
    expect(registerVersion(reg, join(FIX, 'alpha-mlp.json')).existed).toBe(true);
    const other = join(tmp(), 'other.json');
    writeFileSync(other, readFileSync(join(FIX, 'alpha-mlp.json'), 'utf8').replace('"change"', '"every:5s"').replace('"mlp.onnx"', JSON.stringify(join(FIX, 'mlp.onnx'))));
    expect(() => registerVersion(reg, other)).toThrow(/alpha_mlp@1 is already registered with other content/);
    writeFileSync(join(first.dir, 'model.json'), readFileSync(join(first.dir, 'model.json'), 'utf8').replace('"change"', '"every:5s"'));
    expect(() => listRegistry(reg)).toThrow(/changed by hand/);
  });

  it('refuses a model reading a column the feature set does not write, and a log naming an unregistered version', () => {
    const reg = tmp();
    registerVersion(reg, join(FIX, 'alpha-mlp.json'));
    expect(() => loadModelStages(reg, ['return_1m'])).toThrow(/input rsi_14, macd_hist, rv_20m, quote_imbalance, volume_power_1m is not a column of the feature set/);
    appendDeployment(reg, { at: 0n, slot: 'alpha_mlp', action: 'deploy', version: 7, mode: 'live' });
    expect(() => loadModelStages(reg, createFactorSet(DEFAULT_FACTORS).columns)).toThrow(/alpha_mlp@7 is not registered/);
  });
});
