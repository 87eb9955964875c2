// unet-transfer: the command-line program. Dispatches to src/cli/commands/*, maps errors to exit codes
// (0 ok, 1 failed run or bad input, 2 bad usage) and prints user errors on one line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../engine/addon.js';
import { UserError } from '../util/errors.js';
import { helpText, parseCommandArgs, type Command, type CommandIO } from './command.js';
import { cliMessage, describeUserError } from './errors.js';
import { COMMANDS } from './commands/index.js';

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'unet-transfer: which layers of a U-Net to fine-tune, and how to know',
    '',
    'Usage: unet-transfer <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    "Run `unet-transfer <command> --help` for a command's options and examples.",
    '`unet-transfer --version` prints the version.',
  ].join('\n');
}

/** The command named by the longest matching prefix of argv (commands may have two words). */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd) return { cmd, rest: argv.slice(words) };
  }
  return null;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(topHelp());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    console.log(version());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    const hint = group.length ? `; ${argv[0]} takes: ${group.map((c) => c.name.split(' ')[1]).join(', ')}` : '; run `unet-transfer --help` for the list';
    console.error(`unet-transfer: unknown command "${argv.slice(0, 2).join(' ')}"${hint}`);
    return 2;
  }
  const { cmd, rest } = found;
  try {
    const args = parseCommandArgs(cmd, rest);
    if (args.values.help) {
      console.log(helpText(cmd));
      return 0;
    }
    const io: CommandIO = {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${cliMessage(line)}\n`),
      json: args.values.json === true,
      quiet: args.values.quiet === true,
    };
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof UserError && !debug) {
      const { line, code } = describeUserError(cmd.name, e);
      console.error(line);
      return code;
    }
    if (e instanceof UserError) {
      console.error(e.stack);
      return e.exitCode;
    }
    console.error(debug ? (e as Error).stack : `unet-transfer ${cmd.name}: unexpected error: ${(e as Error).message} (rerun with --debug for details)`);
    return 1;
  }
}

// Ctrl-C: every model, checkpoint and report is written atomically (temp file, fsync, rename), so stopping at
// once loses only the epoch or trial in progress; say how to continue instead of printing a stack.
process.once('SIGINT', () => {
  process.stderr.write(
    '\nunet-transfer: interrupted. Finished epochs and trials are checkpointed; rerun with --resume (finetune, pretrain) or the same command (sweep, demo) to continue.\n',
  );
  process.exit(130);
});

// A closed pipe (`unet-transfer ... | head`) ends the program quietly with exit code 0, as `git log | head`
// does: the reader has what it wanted.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
