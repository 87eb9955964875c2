// The library stands below the CLI: nothing outside src/cli imports src/cli, and library errors name option
// fields, not flags. A closed pipe ends the program quietly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cliMessage, flagOf } from '../../src/cli/errors.js';
import { finetune } from '../../src/train/api.js';
import { OptionError } from '../../src/util/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sources = (dir: string): string[] =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));

test('nothing outside src/cli imports src/cli', () => {
  const offenders = sources(join(root, 'src'))
    .filter((f) => !relative(join(root, 'src'), f).startsWith('cli/'))
    .filter((f) => /from '(\.\.\/)+cli\//.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => relative(root, f)),
    [],
  );
});

test('library errors name the option field; the CLI shows the flag', async () => {
  await assert.rejects(
    finetune({ model: 'm', data: 'd', out: '/tmp/x', train: 'all', lr: -1 }),
    (e: unknown) => e instanceof OptionError && e.option === 'lr' && e.exitCode === 2 && e.message === 'options.lr must be a number > 0 and <= 10, got -1',
  );
  await assert.rejects(
    finetune({ model: 'm', data: 'd', out: '/tmp/x', train: 'all', unfreeze: 'head@0' }),
    (e: unknown) => e instanceof OptionError && e.option === 'train',
  );
  assert.equal(flagOf('lrSpread'), '--lr-spread');
  assert.equal(flagOf('before'), 'BEFORE');
  assert.equal(cliMessage('options.lrSpread sets the rates itself; leave options.lr out'), '--lr-spread sets the rates itself; leave --lr out');
});

test('output into a closed pipe (unet-transfer ... | head -1) exits 0 without a stack trace', () => {
  const bin = join(root, 'bin', 'unet-transfer.js');
  // The program's own exit code (bash's PIPESTATUS), with head reading one line, and with a reader that
  // closes the pipe before anything is written (`| true`), which makes every write fail with EPIPE.
  for (const reader of ['head -1 >/dev/null', 'true']) {
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${bin}" model summary "${join(root, 'models', 'digits04')}" | ${reader}; exit \${PIPESTATUS[0]}`],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, `${reader}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /EPIPE|\s+at /);
  }
});
