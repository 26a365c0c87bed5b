/**
 * The fill simulator's errors. A bad order or configuration comes from the caller's input (an
 * algorithm's parameters, a `--latency-ms` flag, a market file), so they are `UserError`s that name
 * the field and the value at fault.
 */
import { UserError } from '../../core/errors.ts';

/** An order, cancel or simulator setting the simulator refuses: names the field and value. */
export class SimInputError extends UserError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`fill simulator: ${field}=${typeof value === 'bigint' ? value.toString() : JSON.stringify(value)}: ${reason}`);
  }
}

/** A market price that is not on the instrument's tick grid (book and quote prices must be). */
export class OffGridPriceError extends UserError {
  constructor(
    readonly symbol: string,
    readonly where: string,
    readonly value: number,
    readonly tick: number,
  ) {
    super(`fill simulator: ${symbol} ${where}: price ${value} is not on the tick grid (tick ${tick})`);
  }
}
