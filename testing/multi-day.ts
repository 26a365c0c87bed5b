/**
 * Test support for multi-date replays (replay/warm-window.test.ts): synthetic days generated into
 * one catalog, and heartbeats for a hand-made stream. Lives in testing/ because replay's tests may
 * not import datasets/ (the import order puts datasets above replay).
 */
import { generateDay } from '../datasets/generate.ts';
import { heartbeats } from '../datasets/heartbeats.ts';

export { heartbeats };

/** Generates one small synthetic day per date (3 symbols, `eventsPerSymbol` each) into `out`. */
export async function generateDays(out: string, dates: readonly string[], eventsPerSymbol: number): Promise<void> {
  for (const date of dates) await generateDay({ date, symbols: 3, seed: 11, preset: 'tiny', eventsPerSymbol, out });
}
