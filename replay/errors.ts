/**
 * Errors for bad input and bad usage. The CLI prints their message (no stack trace) and exits 2;
 * anything else is a bug and keeps its stack.
 */

export interface InputErrorInfo {
  file: string;
  /** 0-based data row (Parquet) or 1-based line (text formats); see `rowLabel`. */
  row?: number;
  rowLabel?: 'row' | 'line';
  field?: string;
  value?: unknown;
  reason: string;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** A problem with an input file: names the file, row, field and value. */
export class InputError extends Error {
  readonly info: InputErrorInfo;
  constructor(info: InputErrorInfo) {
    const where = [info.file, info.row !== undefined ? `${info.rowLabel ?? 'row'} ${info.row}` : null, info.field !== undefined ? `field ${info.field}` : null]
      .filter(Boolean)
      .join(', ');
    const value = 'value' in info ? ` (value ${show(info.value)})` : '';
    super(`${where}: ${info.reason}${value}`);
    this.name = 'InputError';
    this.info = info;
  }
}

/** The user asked for something that cannot be done as asked (bad flag, missing catalog, ...). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
