import { describe, expect, it } from 'vitest';
import { decodeFillsEntry, encodeFillFields, gridText, heartbeatFields } from './fills-wire.ts';
import { parseInstruments } from './instruments.ts';

const ins = parseInstruments({ instruments: { AAPL: { tick: 0.01, lot: 1 }, BTC: { tick: 0.01, lot: 0.00001 } } }, 'i.json');
const good = { fill_id: 'f1', account: 'a', strategy: 's', symbol: 'AAPL', side: 'buy', qty: '10', price: '100.25', fee: '0.35', order_id: 'o1', ts_event: '1', ts_recv: '2' };
const flat = (o: Record<string, string>) => Object.entries(o).flat();

describe('fills wire', () => {
  it('decodes a fill onto the grid and encodes it back to the same text', () => {
    const e = decodeFillsEntry(flat(good), ins);
    expect(e).toMatchObject({ kind: 'fill', fill: { side: 1, qty: 10, price: 10025, fee: 35_000_000, tsRecv: 2n } });
    if (e.kind !== 'fill') throw new Error('not a fill');
    expect(encodeFillFields(e.fill, ins)).toEqual(flat(good));
    expect(gridText(123, 0.00001)).toBe('0.00123');
    expect(gridText(-5, 0.01)).toBe('-0.05');
  });
  it('a heartbeat is a watermark', () => {
    expect(decodeFillsEntry(heartbeatFields(7n), ins)).toEqual({ kind: 'heartbeat', ts: 7n });
  });
  it.each([
    ['side', 'hold', /side=hold: must be buy or sell/],
    ['qty', '0', /qty=0: must be > 0/],
    ['qty', '-3', /qty=-3: must be > 0/],
    ['price', 'abc', /price=abc: must be a decimal number/],
    ['price', '100.005', /price=100\.005: not a multiple of 0\.01/],
    ['symbol', 'NOPE', /symbol=NOPE: unknown symbol/],
    ['ts_recv', 'x', /ts_recv=x: must be epoch nanoseconds/],
  ])('refuses %s=%s with the field and value', (field, value, why) => {
    const e = decodeFillsEntry(flat({ ...good, [field]: value }), ins);
    expect(e.kind).toBe('bad');
    if (e.kind === 'bad') expect(e.reason).toMatch(why);
  });
});
