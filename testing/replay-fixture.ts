/**
 * A small, deterministic multi-kind event set for replay tests that must not depend on the
 * synthetic generator: trades, quotes and book rows for three symbols, a duplicate delivery, a
 * late event, a pre-date fundamental, and heartbeats.
 */
import type { MarketEvent } from '../core/events.ts';
import type { CatalogRow } from '../replay/catalog.ts';
import { dateStartNs } from '../replay/catalog.ts';
import { heartbeats } from '../datasets/heartbeats.ts';

export const FIXTURE_DATE = '2024-03-15';

export function fixtureRows(n = 3000): CatalogRow[] {
  const t0 = dateStartNs(FIXTURE_DATE) + 13n * 3600n * 1_000_000_000n;
  let x = 12345;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const seqs = new Map<string, bigint>();
  const next = (k: string) => {
    const s = (seqs.get(k) ?? 0n) + 1n;
    seqs.set(k, s);
    return s;
  };
  const rows: CatalogRow[] = [];
  const symbols = ['AAA', 'BBB', 'CCC'];
  let t = t0;
  for (let i = 0; i < n; i++) {
    t += BigInt(1 + Math.floor(rnd() * 50_000_000));
    const symbol = symbols[Math.floor(rnd() * 3)];
    const mid = 100 + Math.floor(rnd() * 100) / 100;
    const r = rnd();
    const tsRecv = t + 1000n;
    if (r < 0.4) {
      rows.push({ kind: 'trade', tsEvent: t, tsRecv, symbol, seq: next(`t${symbol}`), price: mid, size: 1 + Math.floor(rnd() * 10), side: rnd() < 0.5 ? 1 : -1, exchange: 'X' });
    } else if (r < 0.8) {
      rows.push({ kind: 'quote', tsEvent: t, tsRecv, symbol, seq: next(`q${symbol}`), bidPx: mid - 0.01, bidSz: 5, askPx: mid + 0.01, askSz: 7 });
    } else {
      rows.push({ kind: 'book', tsEvent: t, tsRecv, symbol, seq: next(`b${symbol}`), side: 1, price: mid - 0.01, size: 5, snapshot: false, last: false });
      rows.push({ kind: 'book', tsEvent: t, tsRecv, symbol, seq: next(`b${symbol}`), side: -1, price: mid + 0.01, size: 7, snapshot: false, last: true });
    }
  }
  // a duplicate delivery and a late event (seq 3 of AAA trades arrives after seq 4 is re-sent)
  const aaa = rows.filter((e): e is CatalogRow & MarketEvent & { kind: 'trade' } => e.kind === 'trade' && e.symbol === 'AAA');
  rows.push({ ...aaa[5], tsRecv: aaa[5].tsRecv + 2_000_000n });
  const late = aaa[8];
  rows.splice(rows.indexOf(late), 1);
  rows.push({ ...late, tsRecv: aaa[12].tsRecv + 1n });
  rows.push({ kind: 'fundamental', tsEvent: t0 - 86_400_000_000_000n, tsRecv: t0 - 86_400_000_000_000n, symbol: 'AAA', seq: 1n, fiscalYear: 2023, fiscalPeriod: 'Q4', eps: 1.5, epsTtm: 5.5, bookValuePerShare: 20, sharesOutstanding: 1e9 });
  rows.push(...heartbeats(t0, t));
  return rows;
}
