// A look at a training set built on the real AAPL day (LOBSTER 2012-06-21 + SEC fundamentals): coverage and value factors.
// Usage: research-aapl <train.parquet>   (see the README, "Research": the real AAPL day)
import * as aq from 'arquero';
import { openParquet } from 'lockstep/replay';
import { toArquero } from 'lockstep/research';

// a training set is plain Parquet: read its row groups as Arrow, one arquero table with exact ns times
const src = await openParquet(process.argv[2]);
const groups = Array.from({ length: src.numRowGroups }, (_, g) => src.readRowGroup(g));
const dt = toArquero(groups.reduce((a, b) => a.concat(b)));
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString().slice(11, 19);
const times = dt.array('ts') as bigint[];
console.log(`${dt.numRows()} rows, samples ${iso(times[0])} .. ${iso(times[times.length - 1])} UTC`);

// labels: null where the horizon runs past the data (the last minutes of the day), never filled
const labels = dt.columnNames().filter((c) => c.startsWith('fwd_'));
const cover = dt.rollup(Object.fromEntries(labels.map((c) => [c, aq.op.valid(c)]))).object(0) as Record<string, number>;
console.log(`labelled: ${labels.map((c) => `${c} ${cover[c]}`).join(', ')}`);

// PER and PBR as known at the open: the last quarter announced before 2012-06-21, at the first sample's last trade
const open = dt.object(0) as Record<string, number | bigint | string>;
console.log(`at ${iso(open.ts as bigint)}: last_price ${open.last_price}, per ${(open.per as number).toFixed(4)}, pbr ${(open.pbr as number).toFixed(4)}`);

// book features through the day
const book = dt.rollup({ spread: aq.op.mean('spread'), imb: aq.op.mean('depth_imbalance_1'), sd: aq.op.stdev('depth_imbalance_1') }).object(0) as Record<string, number>;
console.log(`mean spread ${book.spread.toFixed(4)} USD, depth_imbalance_1 mean ${book.imb.toFixed(4)} sd ${book.sd.toFixed(4)}`);
const both = dt.filter(aq.escape((d: { depth_imbalance_1: number | null; fwd_ret_mid_1m: number | null }) => d.depth_imbalance_1 !== null && d.fwd_ret_mid_1m !== null));
console.log(`corr(depth_imbalance_1, fwd_ret_mid_1m) ${(both.rollup({ c: aq.op.corr('depth_imbalance_1', 'fwd_ret_mid_1m') }).get('c', 0) as number).toFixed(4)} over ${both.numRows()} rows`);
