/**
 * Dead letters: input entries the worker refused, written to `<ns>:dlq:<shard>` with the entry's
 * id, a reason and the entry's own fields. The reason quotes the offending value, cut to
 * MAX_QUOTED_CHARS (the whole value is in the entry's fields already), and the stream is capped at
 * about DEAD_LETTER_MAXLEN entries (XADD MAXLEN ~), oldest first out.
 */

/** Longest quoted value in a reason, in characters; longer ones end in "… (N bytes)". */
export const MAX_QUOTED_CHARS = 200;

/** Approximate length cap of each dead-letter stream (XADD MAXLEN ~). */
export const DEAD_LETTER_MAXLEN = 100_000;

/** `value` as quoted in a reason: as is up to MAX_QUOTED_CHARS, else its head and its size in bytes. */
export function quoteValue(value: string): string {
  if (value.length <= MAX_QUOTED_CHARS) return value;
  return `${value.slice(0, MAX_QUOTED_CHARS)}… (${Buffer.byteLength(value)} bytes)`;
}

/** The reason of a dead letter for a bad field: `field=value: reason`, the value quoted (quoteValue). */
export function fieldReason(field: string, value: string | undefined, reason: string): string {
  return `${quoteValue(field)}=${value === undefined ? '(missing)' : quoteValue(value)}: ${reason}`;
}
