/**
 * Lockstep's one error hierarchy.
 *
 * - `LockstepError`: every error Lockstep raises on purpose. Anything else that reaches the CLI is a
 *   bug and keeps its stack trace.
 * - `UserError`: the user's input or request is at fault (a bad flag, a malformed file, an
 *   unreachable Redis). The CLI prints its message as one line and exits with `exitCode` (2); it
 *   decides by `instanceof`, never by a class name.
 *
 * The classes here are the shared ones (the core's own, and the file/usage errors every reader
 * raises); adapters declare theirs beside their code, below one of these two bases.
 */

/** Base of every error Lockstep raises on purpose; `name` is the concrete class's name. */
export class LockstepError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user's input or request is at fault: one line on stderr and exit 2, never a stack trace. */
export class UserError extends LockstepError {
  /** The process exit code the CLI uses for it. */
  readonly exitCode: number = 2;
}

/** True for an error the CLI reports as one line (a `UserError`). */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export class FactorDefinitionError extends UserError {
  constructor(
    readonly factor: string,
    readonly reason: string,
  ) {
    super(`factor ${factor}: ${reason}`);
  }
}

/** An event the core refuses to apply; `field` and `value` say which part is wrong. */
export class InvalidEventError extends UserError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}=${String(value)}: ${reason}`);
  }
}

export class SnapshotError extends UserError {
  constructor(reason: string) {
    super(`snapshot: ${reason}`);
  }
}

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
export class InputError extends UserError {
  readonly info: InputErrorInfo;
  constructor(info: InputErrorInfo) {
    const where = [info.file, info.row !== undefined ? `${info.rowLabel ?? 'row'} ${info.row}` : null, info.field !== undefined ? `field ${info.field}` : null]
      .filter(Boolean)
      .join(', ');
    const value = 'value' in info ? ` (value ${show(info.value)})` : '';
    super(`${where}: ${info.reason}${value}`);
    this.info = info;
  }
}

/** The user asked for something that cannot be done as asked (bad flag, missing catalog, ...). */
export class UsageError extends UserError {}
