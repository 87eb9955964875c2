// Errors a user can fix. The CLI prints their message on one line (no stack trace) and exits non-zero;
// anything else is a bug and shows its stack with --debug.
//
// Library code names options by their field in the options object, as `options.<field>` (e.g.
// `options.lrSpread`); the CLI shows the same message with the flag instead (`--lr-spread`), see
// src/cli/errors.ts. Library code never speaks of flags.

/** Bad input: a file, an option or data that is not what was expected. Exit code 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
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

/**
 * An option of a library call whose value is not what was expected, in the manner of sharp's
 * `invalidParameterError`: `option` is the field of the options object ('train', 'lrSpread'), `detail` says
 * what was expected and what was given; the message reads `options.<option> <detail>`. Exit code 2 (bad
 * usage) for a malformed value, 1 (bad input) for a file or folder the option names that is not as expected.
 */
export class OptionError extends UserError {
  readonly expected?: string;
  readonly got?: unknown;
  constructor(
    readonly option: string,
    readonly detail: string,
    o: { expected?: string; got?: unknown; exitCode?: number } = {},
  ) {
    super(`options.${option}${detail.startsWith(':') ? '' : ' '}${detail}`, o.exitCode ?? 2);
    this.name = 'OptionError';
    this.expected = o.expected;
    this.got = o.got;
  }
}

/** `options.<name> must be <expected>, got <value>`: the common case of an OptionError. */
export function invalidOption(option: string, expected: string, got: unknown): OptionError {
  return new OptionError(option, `must be ${expected}, got ${JSON.stringify(got)}`, { expected, got });
}

/** An option naming a file or folder that is not what was expected (exit code 1). */
export function badInputOption(option: string, detail: string): OptionError {
  return new OptionError(option, detail, { exitCode: 1 });
}

/** A run that started and failed (a diverging loss, a missing checkpoint): exit code 1, not a usage error. */
export class RunError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'RunError';
  }
}
