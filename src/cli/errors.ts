// Library errors name options by their field (`options.lrSpread`); the CLI shows the flag (`--lr-spread`).
import { UserError } from '../util/errors.js';

/** Fields whose flag is not their kebab-case form (positional arguments, flags that say it otherwise). */
const FLAG_OF: Record<string, string> = {
  before: 'BEFORE',
  after: 'AFTER',
  file: 'FILE',
  cache: 'no-cache',
  maxPixels: 'max-megapixels',
  dir: 'DIR',
  inputs: 'IMAGE|DIR',
  stepTimesFile: 'step-times',
};

/** `lrSpread` -> `--lr-spread` (a positional argument by its name, BEFORE). */
export function flagOf(field: string): string {
  const f = FLAG_OF[field] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return /^[A-Z|]+$/.test(f) ? f : `--${f}`;
}

/** A library message as the command line says it: every `options.<field>` becomes its flag. */
export function cliMessage(message: string): string {
  return message.replace(/\boptions\.([a-zA-Z]+)/g, (_m, field: string) => flagOf(field));
}

/** The one line a user error prints, and its exit code. */
export function describeUserError(command: string, e: UserError): { line: string; code: number } {
  return { line: `unet-transfer ${command}: ${cliMessage(e.message)}`, code: e.exitCode };
}
