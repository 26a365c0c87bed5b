// Point-in-time features for your own (symbol, time) rows, as Arrow and arquero tables.
// Usage: research <catalog> <YYYY-MM-DD> <factors.parquet>   (both written by: lockstep demo)
import { makeData, makeVector, Table, TimestampNanosecond, Utf8, vectorFromArray } from 'apache-arrow';
import * as aq from 'arquero';
import { historicalFeatures, replayDay, toArquero } from 'lockstep/research';

const [catalog, date, factors] = process.argv.slice(2);

// a day replayed in memory: the factor table as Arrow; toArquero keeps nanoseconds exact (BigInt)
const day = toArquero(await replayDay({ catalog, date, symbols: ['SYM000', 'SYM001'] }));
const perSymbol = day.groupby('symbol').rollup({ rows: aq.op.count(), mean_mid: aq.op.mean('mid') }).orderby('symbol');
for (const r of perSymbol.objects() as { symbol: string; rows: number; mean_mid: number }[]) console.log(`${r.symbol}: ${r.rows} rows, mean mid ${r.mean_mid.toFixed(4)}`);

// your own rows (order times, say): one at 14:30:00 UTC, one on a factor row's ts_recv exactly,
// the same 1 ns earlier, and a symbol the day does not have
const sym000 = day.filter(aq.escape((d: { symbol: string }) => d.symbol === 'SYM000'));
const tie = sym000.array('ts_recv')[5000] as bigint;
const orders = new Table({
  symbol: vectorFromArray(['SYM000', 'SYM000', 'SYM000', 'NOPE'], new Utf8()),
  ts: makeVector(makeData({ type: new TimestampNanosecond('UTC'), length: 4, data: BigInt64Array.of(1710513000000000000n, tie, tie - 1n, tie) })),
});

// the as-of join against the replay's file (the offline store): the last factor row with ts_recv <= ts
const rows = toArquero(await historicalFeatures(orders, factors, { features: ['mid', 'spread', 'event_count'] }));
for (const r of rows.objects() as Record<string, string | bigint | number | null>[]) console.log(`${r.symbol} ${r.ts}  mid ${r.mid ?? 'null'}  spread ${r.spread ?? 'null'}  event_count ${r.event_count ?? 'null'}`);
