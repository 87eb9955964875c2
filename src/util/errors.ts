// Errors a user can fix. The CLI prints their message on one line (no stack trace) and exits non-zero;
// anything else is a bug and shows its stack with --debug.

/** Bad input: a file, an option or data that is not what was expected. Exit code 1. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad command-line usage: an unknown flag, a missing argument. Exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
