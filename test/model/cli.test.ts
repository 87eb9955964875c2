import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Command } from '../../src/cli/command.js';
import { modelAdoptCommand, modelCreateCommand, modelSummaryCommand } from '../../src/cli/commands/model.js';
import { UsageError, UserError } from '../../src/util/errors.js';
import { courseUNetTheCourseWay, tempDir, useCpu, writePlainTfjsFolder } from './helpers.js';

before(async () => {
  process.env.UNET_TRANSFER_NO_NATIVE ??= '1'; // these tests are about files and text, not speed
  await useCpu();
});

/** Runs a command's `run` with argv parsed the simple way (string options take the next word). */
async function run(cmd: Command, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const values: Record<string, string | boolean | undefined> = {};
  for (const [k, o] of Object.entries(cmd.options)) if (o.default !== undefined) values[k] = o.default as string;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) positionals.push(a);
    else if (cmd.options[a.slice(2)]?.type === 'string') values[a.slice(2)] = argv[++i];
    else values[a.slice(2)] = true;
  }
  const out: string[] = [];
  const err: string[] = [];
  const code = await cmd.run({ values, positionals }, { out: (l) => out.push(l), err: (l) => err.push(l), json: values.json === true, quiet: false });
  return { code, out, err };
}

test('model create (course, F=16, 23 classes, 96x128x3) -> 2,161,399 parameters; summary --json blocks sum to the total', async (t) => {
  const dir = join(tempDir(t), 'course16');
  const created = await run(modelCreateCommand, [
    '--arch',
    'course',
    '--filters',
    '16',
    '--classes',
    '23',
    '--input',
    '96x128x3',
    '--seed',
    '5',
    '--out',
    dir,
    '--json',
  ]);
  assert.equal(created.code, 0);
  assert.equal(created.out.length, 1);
  assert.equal(JSON.parse(created.out[0]).parameters, 2_161_399);

  const s = await run(modelSummaryCommand, [dir, '--json']);
  assert.equal(s.code, 0);
  assert.equal(s.out.length, 1, 'exactly one JSON object on stdout');
  const j = JSON.parse(s.out[0]) as {
    parameters: number;
    blocks: { block: string; region: string; level: number; parameters: number }[];
    weights: { verified: boolean };
  };
  assert.equal(j.parameters, 2_161_399);
  assert.deepEqual(
    j.blocks.map((b) => b.block),
    ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck', 'dec4', 'dec3', 'dec2', 'dec1', 'head'],
  );
  for (const b of j.blocks) {
    assert.ok(['encoder', 'bottleneck', 'decoder', 'head'].includes(b.region));
    assert.ok(Number.isInteger(b.level) && b.parameters > 0);
  }
  assert.equal(
    j.blocks.reduce((sum, b) => sum + b.parameters, 0),
    j.parameters,
  );
  assert.equal(j.weights.verified, true);
});

test('model summary draws the U: encoder down the left, decoder up the right, bottleneck at the bottom', async (t) => {
  const dir = join(tempDir(t), 'm');
  assert.equal((await run(modelCreateCommand, ['--depth', '3', '--filters', '4', '--classes', '3', '--input', '32x32x3', '--out', dir, '--quiet'])).code, 0);
  const { out } = await run(modelSummaryCommand, [dir, '--layers']);
  const text = out.join('\n');
  const rows = out.filter((l) => /enc\d/.test(l) && /dec\d/.test(l));
  assert.equal(rows.length, 3);
  rows.forEach((row, i) => {
    assert.ok(row.indexOf(`enc${i + 1}`) < row.indexOf(`dec${i + 1}`), row);
    if (i > 0) {
      assert.ok(row.indexOf(`enc${i + 1}`) > rows[i - 1].indexOf(`enc${i}`), 'the encoder goes down to the right');
      assert.ok(row.indexOf(`dec${i + 1}`) < rows[i - 1].indexOf(`dec${i}`), 'the decoder comes up from the left');
    }
  });
  const bottleneckRow = out.findIndex((l) => /bottleneck \d/.test(l));
  assert.equal(bottleneckRow, out.indexOf(rows[2]) + 1);
  assert.match(rows[0], /head [\d,]+ --> 32x32x3 logits/);
  assert.match(text, /regions: encoder [\d,]+ \([\d.]+%\), bottleneck/);
  assert.match(text, /sha256 [0-9a-f]{16}\.\.\. verified/);
  assert.match(text, /dec2_concat\s+dec2\s+concat/);
});

test('model create: a wrong input size suggests the nearest valid one; an existing model needs --force', async (t) => {
  const dir = join(tempDir(t), 'm');
  await assert.rejects(
    run(modelCreateCommand, ['--input', '100x130x3', '--out', dir]),
    (e: Error) => e instanceof UserError && /nearest valid size: 96x128x3/.test(e.message),
  );
  await assert.rejects(
    run(modelCreateCommand, ['--out', dir, '--arch', 'vgg']),
    (e: Error) => e instanceof UsageError && /--arch must be one of course, classic, bn/.test(e.message),
  );
  await assert.rejects(run(modelCreateCommand, ['--input', '32x32x3']), /--out DIR is required/);
  assert.equal((await run(modelCreateCommand, ['--depth', '2', '--filters', '2', '--classes', '2', '--input', '16x16x3', '--out', dir, '--json'])).code, 0);
  await assert.rejects(run(modelCreateCommand, ['--depth', '2', '--filters', '2', '--input', '16x16x3', '--out', dir]), /already holds a model.*--force/);
  assert.equal(
    (await run(modelCreateCommand, ['--depth', '2', '--filters', '2', '--classes', '2', '--input', '16x16x3', '--out', dir, '--force', '--json'])).code,
    0,
  );
});

test('model create takes a classes.json; summary lists its classes', async (t) => {
  const root = tempDir(t);
  const classes = [
    { id: 0, name: 'background', color: [0, 0, 0] },
    { id: 1, name: 'road', color: [128, 64, 128] },
  ];
  writeFileSync(join(root, 'classes.json'), JSON.stringify(classes));
  const dir = join(root, 'm');
  const r = await run(modelCreateCommand, [
    '--arch',
    'bn',
    '--depth',
    '2',
    '--filters',
    '2',
    '--classes',
    join(root, 'classes.json'),
    '--input',
    '16x16x1',
    '--out',
    dir,
    '--json',
  ]);
  const j = JSON.parse(r.out[0]) as { architecture: { classes: number }; classes: unknown };
  assert.equal(j.architecture.classes, 2);
  assert.deepEqual(j.classes, classes);
  writeFileSync(join(root, 'bad.json'), JSON.stringify([{ id: 1, name: 'x' }]));
  await assert.rejects(run(modelCreateCommand, ['--classes', join(root, 'bad.json'), '--out', join(root, 'n')]), /bad\.json: class ids must be 0\.\.0/);
});

test('model adopt writes unet.json for a plain TF.js U-Net and summary then reads it', async (t) => {
  const dir = tempDir(t);
  const plain = courseUNetTheCourseWay([16, 16, 3], 2, 3);
  await writePlainTfjsFolder(plain, dir);
  plain.dispose();
  await assert.rejects(run(modelSummaryCommand, [dir]), /model adopt/);
  const r = await run(modelAdoptCommand, [dir, '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out[0]) as { blocks: { block: string }[] };
  assert.equal(j.blocks.length, 10);
  assert.ok(existsSync(join(dir, 'unet.json')));
  const s = await run(modelSummaryCommand, [dir]);
  assert.match(s.out[0], /adopted U-Net, depth 4, 2 filters, 3 classes, input 16x16x3/);
});

test('the installed CLI: `unet-transfer model summary DIR --json` prints one JSON object, errors exit 1 on one line', async (t) => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const dir = join(tempDir(t), 'm');
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin', 'unet-transfer.js'), ...args], { encoding: 'utf8', env: { ...process.env, UNET_TRANSFER_NO_NATIVE: '1' } });
  const c = cli(['model', 'create', '--depth', '2', '--filters', '2', '--classes', '2', '--input', '16x16x3', '--out', dir, '--quiet']);
  assert.equal(c.status, 0, c.stderr);
  const s = cli(['model', 'summary', dir, '--json']);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).blocks.length, 6);
  const bad = cli(['model', 'summary', join(dir, 'nope')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.trim().split('\n').pop()!, /^unet-transfer model summary: .*nope: not a model folder/);
});
