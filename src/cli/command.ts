// What a CLI command is: its help text, its options (node:util parseArgs) and what it runs.
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { UsageError } from '../util/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface Command {
  /** The words that select it, e.g. 'bench' or 'model create'. */
  name: string;
  summary: string;
  /** One line per positional argument form, e.g. 'DIR [--json]'. */
  usage: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  /** Runs the command; returns the exit code. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  json: boolean;
  quiet: boolean;
}

/** Options every command takes. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print one JSON object on stdout instead of text' },
  quiet: { type: 'boolean', description: 'print only results and errors' },
  debug: { type: 'boolean', description: 'show stack traces of unexpected errors' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options = { ...COMMON_OPTIONS, ...cmd.options };
  // parseArgs refuses keys that are present but undefined, so copy only what each option sets.
  const config = Object.fromEntries(
    Object.entries(options).map(([k, { description: _d, valueName: _v, ...spec }]) => [
      k,
      Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args: argv, options: config as unknown as ParseArgsConfig['options'], allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify.*$/, '')} (see: unet-transfer ${cmd.name} --help)`);
  }
}

export function helpText(cmd: Command): string {
  const options = { ...cmd.options, ...COMMON_OPTIONS };
  const rows = Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${k}${o.type === 'string' ? ` ${o.valueName ?? k.toUpperCase()}` : ''}`;
    const dflt = o.default !== undefined && o.type === 'string' ? ` (default ${o.default})` : '';
    return `  ${flag.padEnd(28)} ${o.description}${dflt}`;
  });
  return [
    `unet-transfer ${cmd.name} ${cmd.usage}`.trimEnd(),
    '',
    cmd.summary,
    '',
    'Options:',
    ...rows,
    ...(cmd.examples.length ? ['', 'Examples:', ...cmd.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}

/** A numeric option: an integer within [min, max], or a UsageError naming the option. */
export function intOption(args: ParsedArgs, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.values[name];
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** A string option restricted to a list of choices. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T {
  const raw = args.values[name];
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

/** A numeric option within [lo, hi] ((lo, hi] with loOpen), or undefined when not given. */
export function numOption(args: ParsedArgs, name: string, lo: number, hi: number, loOpen = false): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v > hi || (loOpen ? v <= lo : v < lo)) {
    throw new UsageError(`--${name} must be a number ${loOpen ? '>' : '>='} ${lo}${hi < Infinity ? ` and <= ${hi}` : ''}, got ${JSON.stringify(raw)}`);
  }
  return v;
}
