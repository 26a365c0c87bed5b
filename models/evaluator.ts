/**
 * What every model kind implements: evaluation of ONE row of standardised inputs into its outputs.
 * The fold evaluates one row at a time (a fixed shape), so a value never depends on how many rows
 * were evaluated together.
 */
export interface ModelEvaluator {
  /** Number of input features (one row is inputCount values). */
  readonly inputCount: number;
  /** Output names, in the order `evaluate` writes them. */
  readonly outputs: readonly string[];
  /** Evaluates one row (`x.length === inputCount`, all finite) into `out`; throws ModelError on failure. */
  evaluate(x: Float64Array, out: Float64Array): void;
  /**
   * Set by the linear kinds only: their weights, so model.ts can fuse the dot product into the
   * standardisation loop (one pass, no call, no intermediate buffer) with the same operations in
   * the same order as `evaluate`, hence the same bits.
   */
  readonly linear?: { readonly coef: Float64Array; readonly intercept: number; readonly logistic: boolean };
}
