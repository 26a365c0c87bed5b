/**
 * Queue-position models for a resting order when the data shows only the size of each price level
 * (L2/L1), not the orders in it: hftbacktest's models, same definitions
 * (hftbacktest/src/backtest/models/queue.rs: `RiskAdverseQueueModel`, `ProbQueueModel`,
 * `PowerProbQueueFunc`, `LogProbQueueFunc`, `PowerProbQueueFunc2`, `LogProbQueueFunc2`,
 * `PowerProbQueueFunc3`; docs: https://hftbacktest.readthedocs.io/en/latest/order_fill.html).
 *
 * State per order: `front`, the quantity (lots, a float: the probabilistic models estimate) ahead
 * of it at its price. A new order joins behind the level's whole visible size. Then:
 * - a trade at the order's price removes its size from the front (`onTrade`);
 * - a change of the level's size from `prev` to `next` (`onDepth`):
 *   - risk-averse: `front = min(front, next)` — only a level shrinking below the front moves the
 *     order up; cancellations are otherwise assumed to come from behind it;
 *   - probabilistic: the decrease not explained by trades since the last depth change
 *     (`chg = prev - next - cumTrade`) is split between ahead and behind: with
 *     `back = prev - front` and `p = f(back) / (f(back) + f(front))` the probability that a
 *     cancellation came from behind, `front' = min(next, front - (1-p)·chg + min(back - p·chg, 0))`
 *     (the second term: whatever cannot come from behind came from ahead). An increase
 *     (`chg < 0`) only clamps `front` to `next`. `cumTrade` resets on every depth change, so a
 *     trade that a later depth update also shows is not counted twice.
 * - the order can fill once `front < 0`: the `-front` lots traded past the front of the queue are
 *   the order's (`queueFillable`, whole lots; hftbacktest's `is_filled`).
 *
 * `f` variants (p = probability that a decrease is behind the order): `power` f(x)=x^n,
 * p=f(back)/(f(back)+f(front)); `log` f(x)=ln(1+x), same p; `power2` p=f(back)/f(back+front);
 * `log2` p=f(back)/f(back+front) with ln(1+x); `power3` p=1-(front/(front+back))^n.
 * A non-finite p (0/0, or a negative front under a fractional power) counts as 1 (all behind):
 * hftbacktest maps infinity to 1; a NaN there would poison the estimate.
 */
import { SimInputError } from './errors.ts';

/** Which queue model; `n` is the power of the power variants. */
export type QueueModel =
  | { type: 'risk-averse' }
  | { type: 'prob'; f: 'power' | 'power2' | 'power3'; n: number }
  | { type: 'prob'; f: 'log' | 'log2' };

/** Queue state of one resting order (lots). */
export interface QueuePos {
  /** Quantity ahead of the order at its price; negative once trades went past the front. */
  front: number;
  /** Traded quantity at the price since the last depth change (probabilistic models). */
  cumTrade: number;
}

/**
 * Parses `risk-averse`, `power:N` / `power2:N` / `power3:N`, `log`, `log2` (the CLI's
 * `--queue` value); anything else is refused with the value.
 */
export function parseQueueModel(s: string, field = '--queue'): QueueModel {
  if (s === 'risk-averse') return { type: 'risk-averse' };
  if (s === 'log' || s === 'log2') return { type: 'prob', f: s };
  const m = /^(power|power2|power3):([0-9]*\.?[0-9]+)$/.exec(s);
  if (m) return checkQueueModel({ type: 'prob', f: m[1] as 'power', n: Number(m[2]) }, field);
  throw new SimInputError(field, s, 'expected risk-averse, power:N, power2:N, power3:N, log or log2');
}

/** Validates a model given as data (a config file); returns it. */
export function checkQueueModel(m: QueueModel, field = 'queueModel'): QueueModel {
  if (m.type === 'risk-averse') return m;
  if (m.type === 'prob' && (m.f === 'log' || m.f === 'log2')) return m;
  if (m.type === 'prob' && (m.f === 'power' || m.f === 'power2' || m.f === 'power3')) {
    if (!Number.isFinite(m.n) || m.n <= 0) throw new SimInputError(`${field}.n`, m.n, 'must be a number > 0');
    return m;
  }
  throw new SimInputError(field, m, 'unknown queue model');
}

/** The name of a model as `parseQueueModel` reads it. */
export function queueModelName(m: QueueModel): string {
  if (m.type === 'risk-averse') return 'risk-averse';
  return 'n' in m ? `${m.f}:${m.n}` : m.f;
}

/** A new order's queue: behind everything visible at its price (`depth` lots; 0 when none). */
export function newQueuePos(depth: number): QueuePos {
  return { front: Math.max(0, depth), cumTrade: 0 };
}

/**
 * Probability that a decrease of the level came from behind the order, given `front` ahead and
 * `back` behind (hftbacktest's `Probability::prob`).
 */
export function probBehind(m: QueueModel, front: number, back: number): number {
  if (m.type === 'risk-averse') return 1;
  let p: number;
  switch (m.f) {
    case 'power': {
      const fb = back ** m.n;
      p = fb / (fb + front ** m.n);
      break;
    }
    case 'log': {
      const fb = Math.log1p(back);
      p = fb / (fb + Math.log1p(front));
      break;
    }
    case 'power2':
      p = back ** m.n / (back + front) ** m.n;
      break;
    case 'log2':
      p = Math.log1p(back) / Math.log1p(back + front);
      break;
    case 'power3':
      p = 1 - (front / (front + back)) ** m.n;
      break;
  }
  return Number.isFinite(p) ? p : 1;
}

/** A trade of `qty` lots at the order's price. */
export function onTrade(m: QueueModel, q: QueuePos, qty: number): void {
  q.front -= qty;
  if (m.type === 'prob') q.cumTrade += qty;
}

/** The order's level went from `prev` to `next` lots. */
export function onDepth(m: QueueModel, q: QueuePos, prev: number, next: number): void {
  if (m.type === 'risk-averse') {
    q.front = Math.min(q.front, next);
    return;
  }
  const chg = prev - next - q.cumTrade;
  q.cumTrade = 0;
  if (chg < 0) {
    q.front = Math.min(q.front, next);
    return;
  }
  const front = q.front;
  const back = prev - front;
  const p = probBehind(m, front, back);
  const est = front - (1 - p) * chg + Math.min(back - p * chg, 0);
  // hftbacktest lets a large decrease push the estimate below 0, which would let the next print
  // fill lots nobody traded past us; cancels can only bring the order to the front
  q.front = Math.max(Math.min(est, next), Math.min(front, 0));
}

/** Whole lots traded past the front of the queue (what the order may have filled in total). */
export function queueFillable(q: QueuePos): number {
  return Math.round(q.front) < 0 ? Math.floor(-q.front + 1e-9) : 0;
}
