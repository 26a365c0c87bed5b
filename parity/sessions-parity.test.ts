/**
 * Per-symbol sessions reach replay and live alike (issue 21 item 14): a tiny TAQ catalog of three
 * symbols in three markets (sessions.json: XXX us-equity, YYY fx-ny17, ZZZ unlisted: the UTC day),
 * replayed and fed through a live worker on a real redis-server with session factors resolved per
 * symbol (`session=auto`), certifies bit for bit; a worker given another table is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureSetVersion, DEFAULT_FACTORS, withFactorParams } from '../core/registry.ts';
import { importTaq } from '../datasets/import-taq.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { SessionsMismatchError, settleSessions } from '../live/shard-meta.ts';
import { readCatalogSessions } from '../replay/catalog.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { runParity } from './run-parity.ts';

const DATE = '2018-01-02';
// EST day: New York = UTC - 5 h
const nyMs = (hh: number, mm: number, ss = 0) => Date.UTC(2018, 0, 2, hh + 5, mm, ss);
const PARAMS = ['vwap_session.session=auto', 'ma_5m.session=auto', 'rsi_14.session=us-equity'];
let dir: string;
let cat: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-sessions-parity-'));
  cat = join(dir, 'cat');
  // three trades a minute for each symbol at 08:00-08:09, 09:25-09:45, 16:55-17:10 New York
  const rows: string[] = [];
  const minutes = [...Array.from({ length: 10 }, (_, i) => [8, i]), ...Array.from({ length: 21 }, (_, i) => [9, 25 + i]), ...Array.from({ length: 16 }, (_, i) => [16 + Math.floor((55 + i) / 60), (55 + i) % 60])];
  let k = 0;
  for (const [hh, mm] of minutes) {
    for (const ss of [5, 25, 45]) {
      for (const sym of ['XXX', 'YYY', 'ZZZ']) rows.push(`${nyMs(hh, mm, ss)},x,N,${sym},,100,${(100 + Math.sin(k++) * 2).toFixed(2)},0`);
    }
  }
  writeFileSync(join(dir, 'XXX_trades_raw.csv'), ['ts_utc_ms,time_new_york,EX,SYMBOL,COND,SIZE,PRICE,CORR', ...rows].join('\n') + '\n');
  await importTaq(join(dir, 'XXX_trades_raw.csv'), cat);
  // the importer says us-equity for all three; this catalog's owner says otherwise for two
  writeFileSync(join(cat, 'sessions.json'), '{"sessions":{"XXX":"us-equity","YYY":"fx-ny17"}}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('per-symbol sessions: replay and live', () => {
  it('replay resolves each symbol\'s session from the catalog', async () => {
    const out = join(dir, 'a.parquet');
    await runReplay({ catalog: cat, date: DATE, out, factors: withFactorParams(DEFAULT_FACTORS, PARAMS), progress: false });
    const t = await readFactorTable(out);
    const at = (sym: string, hh: number, mm: number, ss: number) => {
      const i = t.seq.findIndex((_, j) => t.symbol[j] === sym && t.source[j] === 'trade' && t.tsEvent[j] === BigInt(nyMs(hh, mm, ss)) * 1_000_000n);
      return t.values.vwap_session_auto[i];
    };
    // 08:00 New York: no US equity session yet; FX and the UTC day have one
    expect(at('XXX', 8, 0, 5)).toBeNull();
    expect(at('YYY', 8, 0, 5)).not.toBeNull();
    expect(at('ZZZ', 8, 0, 5)).not.toBeNull();
    // 17:00 New York: a new FX day starts with its first trade's price; the others carry on
    const first = t.seq.findIndex((_, j) => t.symbol[j] === 'YYY' && t.source[j] === 'trade' && t.tsEvent[j] === BigInt(nyMs(17, 0, 5)) * 1_000_000n);
    expect(at('YYY', 17, 0, 5)).not.toBe(at('YYY', 16, 59, 45));
    expect(t.values.vwap_session_auto[first]).toBe(t.values.last_price[first]);
    expect(JSON.parse(t.metadata.get('lockstep')!).featureSetVersion).toBe(featureSetVersion(withFactorParams(DEFAULT_FACTORS, PARAMS), readCatalogSessions(cat)));
    expect(JSON.parse(t.metadata.get('lockstep')!).featureSetVersion).not.toBe(featureSetVersion(withFactorParams(DEFAULT_FACTORS, PARAMS)));
  });

  it('a live worker folds with the same sessions: the parity run certifies bit for bit', async () => {
    const cert = await runParity({ catalog: cat, date: DATE, factorParams: PARAMS });
    expect(cert.verdict).toBe('parity');
    expect(cert.diff.mismatchedCells).toBe(0);
    expect(cert.outputs.liveTableHash).toBe(cert.outputs.replayTableHash);
    expect(cert.code.featureSetVersion).toBe(featureSetVersion(withFactorParams(DEFAULT_FACTORS, PARAMS), readCatalogSessions(cat)));
    expect(cert.code.factors.map((f) => f.name)).toEqual(expect.arrayContaining(['vwap_session_auto', 'ma_5m_auto', 'rsi_14_us_equity']));
  });

  it('a deployment has one session table: a worker or feed bringing another is refused, naming the first difference', async () => {
    const redis = await RedisHarness.start();
    const r = await openRedis(redis.url);
    try {
      const keys = { ns: 'sess', shards: 2 };
      // the feed comes first and records the catalog's table
      expect([...(await settleSessions(r, keys, readCatalogSessions(cat), 'the feed'))]).toEqual([['XXX', 'us-equity'], ['YYY', 'fx-ny17']]);
      // a worker without --sessions takes it
      expect((await settleSessions(r, keys, undefined, 'this worker')).get('YYY')).toBe('fx-ny17');
      // one with another table is refused
      const err = await settleSessions(r, keys, new Map([['XXX', 'us-equity']]), 'this worker').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SessionsMismatchError);
      expect((err as Error).message).toBe(
        "sess:meta records another session table than this worker's (first difference YYY: fx-ny17 there, unlisted (utc) here): " +
          "the first feed or worker of a deployment records it; start the feed first, give the workers the catalog's table (--sessions CATALOG), or use a new --ns",
      );
    } finally {
      r.disconnect();
      await redis.stop();
    }
  });
});
