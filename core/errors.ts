/** Typed errors raised by the pure core. Replay and live wrap them with file/row or stream context. */

export class FactorDefinitionError extends Error {
  constructor(
    readonly factor: string,
    readonly reason: string,
  ) {
    super(`factor ${factor}: ${reason}`);
    this.name = 'FactorDefinitionError';
  }
}

/** An event the core refuses to apply; `field` and `value` say which part is wrong. */
export class InvalidEventError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}=${String(value)}: ${reason}`);
    this.name = 'InvalidEventError';
  }
}

export class SnapshotError extends Error {
  constructor(reason: string) {
    super(`snapshot: ${reason}`);
    this.name = 'SnapshotError';
  }
}
