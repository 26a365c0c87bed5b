/**
 * The row policy every importer applies the same way (docs/catalog.md, "Row policy"):
 *
 * - Time order: within one source file, a row whose time is earlier than the previous accepted
 *   row's is a rejected row (counted and sampled under `--on-error skip`, the import fails on it
 *   under `fail`). Equal times are fine. Nothing is re-sorted silently.
 * - Symbols: formats that take the symbol from the file name (Dukascopy, LOBSTER) use `--symbol`
 *   instead when it is given. Formats that carry a symbol on every row (TAQ, SEC, Binance) import
 *   each row under its own symbol; with `--symbol` a row of any other symbol is rejected, and
 *   without it the import notes list every symbol found and count the rows whose symbol is not the
 *   one the file name starts with.
 * - Quotes: crossed (bid > ask) and locked (bid = ask) two-sided quotes are kept as given and
 *   counted in a note.
 */
import type { CatalogRow } from '../replay/catalog.ts';
import { fileName, RowProblem } from './csv-lines.ts';

/** Checks that a file's rows never go back in time; one per source file. */
export class TimeOrder {
  private last: bigint | null = null;
  private lastText = '';

  /** Throws a RowProblem when `ts` is before the previous accepted row's; call before using the row. */
  check(field: string, text: string, ts: bigint): void {
    if (this.last !== null && ts < this.last) throw new RowProblem(field, text, `goes backwards (the previous row has ${this.lastText})`);
  }

  /** Records the time of a row that was accepted. */
  accept(text: string, ts: bigint): void {
    this.last = ts;
    this.lastText = text;
  }
}

/** The symbol a file name starts with (`XXX` of `XXX_2018-01-02_03_trades_raw.csv.gz`), or null. */
export function fileNameSymbol(file: string): string | null {
  const name = fileName(file);
  const i = name.indexOf('_');
  return i > 0 ? name.slice(0, i) : null;
}

/** Row symbols of a per-row-symbol format: enforces `--symbol`, counts what it sees for the notes. */
export class RowSymbols {
  private readonly counts = new Map<string, number>();
  /** Per file: rows whose symbol is not the file name's, by symbol. */
  private readonly foreign = new Map<string, Map<string, number>>();

  constructor(
    private readonly field: string,
    private readonly only: string | undefined,
  ) {}

  /** The row's symbol, or a RowProblem when `--symbol` names another. */
  check(symbol: string): string {
    if (this.only !== undefined && symbol !== this.only) throw new RowProblem(this.field, symbol, `is not ${this.only}, the symbol given by --symbol`);
    return symbol;
  }

  /**
   * Counts an accepted row of source file `file` (its name's leading symbol is compared
   * case-insensitively, as Binance names files btcusdt_...).
   */
  accept(symbol: string, file: string): void {
    this.counts.set(symbol, (this.counts.get(symbol) ?? 0) + 1);
    const named = fileNameSymbol(file);
    if (this.only === undefined && named !== null && named.toUpperCase() !== symbol.toUpperCase()) {
      let m = this.foreign.get(file);
      if (!m) this.foreign.set(file, (m = new Map()));
      m.set(symbol, (m.get(symbol) ?? 0) + 1);
    }
  }

  /** `symbols: XXX (77261 rows)` and one line per file holding rows of symbols its name does not give. */
  notes(): string[] {
    const out: string[] = [];
    if (this.counts.size > 0) out.push(`symbols: ${[...this.counts].map(([s, n]) => `${s} (${n} rows)`).join(', ')}` + (this.only !== undefined ? ` (--symbol ${this.only})` : ''));
    for (const [file, m] of this.foreign) {
      const n = [...m.values()].reduce((a, b) => a + b, 0);
      out.push(`${file}: ${n} rows for symbols not named by the file name (${fileNameSymbol(file)}): ${[...m].map(([s, k]) => `${s} ${k}`).join(', ')}; imported under their own symbols (give --symbol to accept only one)`);
    }
    return out;
  }
}

/** `quotes: N crossed (bid > ask), M locked (bid = ask) of K two-sided quotes, kept as given`. */
export function quoteStateNote(rows: readonly CatalogRow[]): string | null {
  let two = 0;
  let crossed = 0;
  let locked = 0;
  for (const r of rows) {
    if (r.kind !== 'quote' || !(r.bidPx > 0 && r.askPx > 0)) continue;
    two++;
    if (r.bidPx > r.askPx) crossed++;
    else if (r.bidPx === r.askPx) locked++;
  }
  if (two === 0) return null;
  return `quotes: ${crossed} crossed (bid > ask), ${locked} locked (bid = ask) of ${two} two-sided quotes, kept as given (factor quote_crossed_flag marks them)`;
}
