/**
 * The model layer's errors. A model file the user gave that cannot be used (unreadable, corrupt, an
 * input that is not a factor, a wrong tensor shape) is a user error: one line naming the file and
 * the cause, exit 2. At run time the fold never throws for a model: it writes null signals with a
 * status (stage.ts), and the worker goes on.
 */
import { UserError } from '../core/errors.ts';

export class ModelError extends UserError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}
