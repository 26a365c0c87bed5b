/**
 * Test support for the factor contract suite (contract.test.ts): fast-check arbitraries over the
 * stream recipes of core/contract/streams.ts (which builds the streams, and is re-exported here),
 * so fast-check can generate and shrink streams.
 */
import fc from 'fast-check';
import type { MarketEvent } from '../core/events.ts';
import { buildStream, START_NEAR_MIDNIGHT, START_OPEN, type Recipe, type RecipeStep } from '../core/contract/streams.ts';

export * from '../core/contract/streams.ts';

/**
 * A fast-check arbitrary for recipes of `minSteps`..`maxSteps` steps. `barDense` recipes have one
 * or two symbols, mostly trades and 5-40 s between events, so that a few hundred steps close the
 * 60+ one-minute bars the hour-long windows need; the others mix every kind with bursts and quiet
 * spells.
 */
export function recipeArbitrary(minSteps = 20, maxSteps = 300, barDense = false): fc.Arbitrary<Recipe> {
  const gapMs = barDense
    ? fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 5_000, max: 40_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 120_000 }) })
    : fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 3_000 }) }, { weight: 2, arbitrary: fc.integer({ min: 3_000, max: 90_000 }) });
  const pick = barDense
    ? fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 34 }) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 99 }) })
    : fc.integer({ min: 0, max: 99 });
  const step: fc.Arbitrary<RecipeStep> = fc.record({ gapMs, pick, sym: fc.nat(2), a: fc.nat(1000), b: fc.nat(1000), c: fc.nat(1000) });
  return fc.record({
    symbols: barDense ? fc.integer({ min: 1, max: 2 }) : fc.integer({ min: 1, max: 3 }),
    heartbeatSeconds: barDense ? fc.integer({ min: 15, max: 60 }) : fc.integer({ min: 2, max: 30 }),
    start: fc.constantFrom(START_OPEN, START_NEAR_MIDNIGHT),
    steps: fc.array(step, { minLength: minSteps, maxLength: maxSteps }),
  });
}

/** Either kind of recipe: mixed traffic (2 in 3) or bar-dense (1 in 3, 250-450 steps). */
export function anyRecipeArbitrary(maxMixedSteps = 300): fc.Arbitrary<Recipe> {
  return fc.oneof({ weight: 2, arbitrary: recipeArbitrary(20, maxMixedSteps) }, { weight: 1, arbitrary: recipeArbitrary(250, 450, true) });
}

/** A fast-check arbitrary for event streams (see `buildStream` and `anyRecipeArbitrary`). */
export function streamArbitrary(maxMixedSteps = 300): fc.Arbitrary<MarketEvent[]> {
  return anyRecipeArbitrary(maxMixedSteps).map(buildStream);
}

