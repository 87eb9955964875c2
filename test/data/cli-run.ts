// Runs the compiled CLI (the same main.js that bin/unet-transfer.js loads) in a child process, so exit codes
// and stdout/stderr are what a user sees.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command in this process the way main.ts does (UserError -> its exit code and a one-line message
 * on stderr): fast enough to check every bad-input case; `cli` above proves the real program agrees. */
export async function cliInProcess(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { COMMANDS } = await import('../../src/cli/commands/index.js');
  const { parseCommandArgs } = await import('../../src/cli/command.js');
  const { UserError } = await import('../../src/util/errors.js');
  const { cliMessage, describeUserError } = await import('../../src/cli/errors.js');
  const cmd = COMMANDS.find((c) => c.name === argv.slice(0, 2).join(' '));
  if (!cmd) throw new Error(`no command ${argv.slice(0, 2).join(' ')}`);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const args = parseCommandArgs(cmd, argv.slice(2));
    const code = await cmd.run(args, {
      out: (l) => out.push(l),
      err: (l) => err.push(cliMessage(l)),
      json: args.values.json === true,
      quiet: args.values.quiet === true,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const { line, code } = describeUserError(cmd.name, e);
    err.push(line);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }
}
