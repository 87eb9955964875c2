import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { helpText, parseCommandArgs } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { UsageError } from '../../src/util/errors.js';

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/unet-transfer.js', ...args], { encoding: 'utf8' });

test('every command has a summary, a help text with examples, and parses --help', () => {
  const names = new Set<string>();
  for (const c of COMMANDS) {
    assert.ok(!names.has(c.name), `duplicate command ${c.name}`);
    names.add(c.name);
    assert.ok(c.summary.length > 10, `${c.name}: summary`);
    assert.ok(c.examples.length > 0, `${c.name}: no examples`);
    const help = helpText(c);
    assert.match(help, new RegExp(`^unet-transfer ${c.name}`));
    assert.match(help, /--json/);
    assert.equal(parseCommandArgs(c, ['--help']).values.help, true);
  }
});

test('an unknown flag is a usage error (exit code 2) for every command', () => {
  for (const c of COMMANDS)
    assert.throws(
      () => parseCommandArgs(c, ['--no-such-flag']),
      (e) => e instanceof UsageError && e.exitCode === 2 && /no-such-flag/.test(e.message),
    );
});

test('the program: --version, --help, a wrong flag and an unknown command', () => {
  const version = cli('--version');
  assert.equal(version.status, 0);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  const help = cli('bench', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:/);
  const bad = cli('bench', '--filterz', '3');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, `one line, got: ${bad.stderr}`);
  assert.doesNotMatch(bad.stderr, /\s+at /, 'no stack trace');
  const unknown = cli('frobnicate');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command/);
  const badValue = cli('bench', '--filters', 'many');
  assert.equal(badValue.status, 2);
  assert.match(badValue.stderr, /--filters must be an integer/);
});

test('docs/CLI.md is generated from the current help texts', () => {
  const r = spawnSync(process.execPath, ['scripts/cli-reference.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('Ctrl-C (SIGINT) stops with exit code 130 and says how to continue, without a stack trace', async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'unet-sigint-'));
  try {
    const child = spawn(process.execPath, ['bin/unet-transfer.js', 'data', 'digits', '--out', join(dir, 'd'), '--count', '20000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    // Interrupt once it is working (its first progress line), not while Node is still loading modules.
    await new Promise<void>((r) => {
      const timer = setTimeout(r, 20_000);
      child.stderr.once('data', () => {
        clearTimeout(timer);
        setTimeout(r, 300);
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted.*--resume/);
    assert.doesNotMatch(stderr, /\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
