/** Sizes of the synthetic market day: how many symbols and how many market events per symbol. */

export type PresetName = 'tiny' | 'day' | 'big';

export interface Preset {
  /** Default symbol count (`--symbols` overrides it). */
  symbols: number;
  /** Target trade + quote + book events per symbol (the result lands within a few % of it). */
  eventsPerSymbol: number;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  // a quick sample for tests and the demo
  tiny: { symbols: 5, eventsPerSymbol: 10_000 },
  // ~5M events
  day: { symbols: 50, eventsPerSymbol: 100_000 },
  // ~50M events: generated one symbol at a time so memory stays bounded
  big: { symbols: 50, eventsPerSymbol: 1_000_000 },
};

export function isPresetName(s: string): s is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, s);
}

/** Stable synthetic symbol name: SYM000, SYM001, ... (SYM1000 beyond 999). */
export function syntheticSymbol(index: number): string {
  return `SYM${String(index).padStart(3, '0')}`;
}
