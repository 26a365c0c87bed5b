import { UserError } from '../core/errors.ts';

/**
 * A model file or a model evaluation Lockstep refuses: an unreadable or corrupt file, an input or
 * output name the graph does not have, a wrong tensor shape or type, or, at run time, a model that
 * throws or returns NaN/Inf. The message names the file and the cause in one line.
 *
 * It is a `UserError` (a `LockstepError` the CLI prints as one line, exit 2): at `register`/`deploy`
 * the model file is the user's input at fault. At run time the caller catches it and turns it into a
 * null signal with a status; it never reaches the worker's top level.
 */
export class ModelError extends UserError {
  constructor(
    /** The model file the error is about, as given to the loader (for messages). */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}
