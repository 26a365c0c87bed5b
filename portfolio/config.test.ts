import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.ts';
import { inputColumns, parseWeightsConfig } from './config.ts';

const ok = { signal: 'return_1m', method: 'zscore', construction: 'dollar-neutral', max_weight: 0.1, rebalance: 'every:5m' };
const parse = (o: unknown) => parseWeightsConfig(JSON.stringify(o), 'w.json');

describe('weights config', () => {
  it('reads a full config, with defaults for the rest', () => {
    const c = parse({ ...ok, vol: { column: 'rv_5m', target: 0.002 }, turnover_limit: 0.5, session: 'us-equity', stale_after: '2m', killed_column: 'k', universe: ['B', 'A', 'B'] });
    expect(c).toMatchObject({ signal: 'return_1m', grossLeverage: 1, zClip: 3, everyNs: 300_000_000_000n, staleNs: 120_000_000_000n, universe: ['A', 'B'], time: 'ts_recv', vol: { column: 'rv_5m', inverse: true, target: 0.002 } });
    expect(inputColumns(c)).toEqual(['return_1m', 'rv_5m', 'k']);
    expect(parse({ ...ok, rebalance: 'on-demand' }).everyNs).toBeNull();
  });

  it.each([
    [{ ...ok, method: 'rnk' }, 'w.json, field method: must be one of rank, zscore (value "rnk")'],
    [{ ...ok, max_weight: -1 }, 'w.json, field max_weight: must be a positive finite number (value -1)'],
    [{ ...ok, rebalance: 'every:5 minutes' }, 'w.json, field rebalance: must be a positive duration with a unit: ns, us, ms, s, m, h, d (e.g. "5m") (value "every:5 minutes")'],
    [{ ...ok, signal: undefined }, 'w.json, field signal: is required: the output column to weight on (e.g. "return_1m")'],
    [{ ...ok, levrage: 2 }, 'w.json, field levrage: unknown field (known: signal, method, z_clip, construction, max_weight, gross_leverage, vol, turnover_limit, rebalance, session, stale_after, killed_column, halted_column, universe, time)'],
    [{ ...ok, vol: { column: 'rv_5m', target: 0 } }, 'w.json, field vol.target: must be a positive finite number (value 0)'],
    [{ ...ok, session: 'nyse' }, 'w.json, field session: must be one of utc, us-equity, fx-ny17 (value "nyse")'],
    [{ ...ok, universe: [] }, 'w.json, field universe: must be "all" or a non-empty list of symbols (value "[]")'],
  ])('refuses %j in one line naming the file, field and value', (o, msg) => {
    expect(() => parse(o)).toThrow(InputError);
    expect(() => parse(o)).toThrow(msg);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseWeightsConfig('{', 'w.json')).toThrow(/^w\.json: not valid JSON/);
  });
});
