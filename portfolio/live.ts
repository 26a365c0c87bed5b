import { UsageError } from '../core/errors.ts';
import type { WeightsConfig } from './config.ts';
export async function runLiveWeights(_o: { url: string; ns: string; cfg: WeightsConfig; log: (s: string) => void }): Promise<void> {
  throw new UsageError('live weights: not yet');
}
