import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildUNet, loadModelFolder, saveModelFolder, type SaveStep } from '../../src/model/index.js';
import { CRASH_MODELS } from './fixtures/crash-model.js';
import { tempDir, useCpu, weightBytes } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/save-child.js', import.meta.url));
const weights: Record<'loop' | 'step', { A: Buffer; B: Buffer }> = {} as never;

before(async () => {
  await useCpu();
  // The child builds the same seeds: initialisation is deterministic, so these are its weights.
  for (const mode of ['loop', 'step'] as const) {
    const [a, b] = [buildUNet({ ...CRASH_MODELS[mode], seed: 1 }), buildUNet({ ...CRASH_MODELS[mode], seed: 2 })];
    weights[mode] = { A: weightBytes(a.model), B: weightBytes(b.model) };
    a.model.dispose();
    b.model.dispose();
  }
});

/** Loads the folder and says which complete model it holds; fails on anything else. */
async function whichModel(dir: string, mode: 'loop' | 'step'): Promise<'A' | 'B'> {
  const m = await loadModelFolder(dir);
  const w = weightBytes(m.model);
  m.model.dispose();
  if (w.equals(weights[mode].A)) return 'A';
  if (w.equals(weights[mode].B)) return 'B';
  assert.fail('the folder loaded weights that are neither model A nor model B (mixed weights)');
}

const STEPS: [SaveStep, 'A' | 'B'][] = [
  ['weights-written', 'A'],
  ['weights-committed', 'A'],
  ['model-json-written', 'A'],
  ['model-json-committed', 'B'],
  ['unet-json-committed', 'B'],
  ['cleaned', 'B'],
];

test('a save interrupted after any stage leaves a folder that loads the old model or the new one, complete', async (t) => {
  // In-process: the save stops dead where onStep throws, leaving its temp files and renames as a crash would.
  class Crash extends Error {}
  const a = buildUNet({ ...CRASH_MODELS.step, seed: 1 });
  const b = buildUNet({ ...CRASH_MODELS.step, seed: 2 });
  for (const [step, expected] of STEPS) {
    const dir = tempDir(t);
    await saveModelFolder(dir, a);
    await assert.rejects(
      saveModelFolder(dir, b, {
        onStep: (s) => {
          if (s === step) throw new Crash(step);
        },
      }),
      Crash,
    );
    assert.equal(await whichModel(dir, 'step'), expected, `interrupted after ${step}`);
    const m = await loadModelFolder(dir);
    m.model.dispose();
    // Interrupted between the model.json rename and the unet.json rename: unet.json is the old one.
    if (step === 'model-json-committed') assert.match(m.warnings.join(' '), /unet\.json differs/);
    else assert.deepEqual(m.warnings, [], `${step}: ${m.warnings.join('; ')}`);
    // The next save removes the debris and commits cleanly.
    await saveModelFolder(dir, a);
    assert.equal(await whichModel(dir, 'step'), 'A');
    assert.deepEqual(readdirSync(dir).filter((f) => !['model.json', 'unet.json'].includes(f)).length, 1, readdirSync(dir).join(' '));
  }
  a.model.dispose();
  b.model.dispose();
});

test('a save killed by SIGKILL at a named stage leaves the old or the new model', async (t) => {
  const stages: [SaveStep, 'A' | 'B'][] = [
    ['weights-written', 'A'],
    ['model-json-committed', 'B'],
  ];
  const dirs = stages.map(() => tempDir(t));
  const signals = await Promise.all(
    stages.map(
      ([step], i) =>
        new Promise<string | null>((resolve) =>
          spawn(process.execPath, [CHILD, 'step', dirs[i], step], { stdio: 'inherit' }).on('exit', (_code, signal) => resolve(signal)),
        ),
    ),
  );
  for (const [i, [step, expected]] of stages.entries()) {
    assert.equal(signals[i], 'SIGKILL', `child did not die at ${step}`);
    assert.equal(await whichModel(dirs[i], 'step'), expected, `killed after ${step}`);
  }
});

test('a saving process killed at random moments never leaves mixed weights, and the next save cleans up', async (t) => {
  const dir = tempDir(t);
  for (let round = 0; round < 2; round++) {
    const child = spawn(process.execPath, [CHILD, 'loop', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    assert.ok(['A', 'B'].includes(await whichModel(dir, 'loop')));
  }
  // The child's first save of each round cleared the debris of the round before: at most one weights file
  // beyond the committed one and the temp files of the last kill remain.
  const files = readdirSync(dir);
  assert.ok(files.filter((f) => /^weights\.[0-9a-f]{16}\.bin$/.test(f)).length <= 2, files.join(' '));
  assert.ok(files.includes('model.json') && files.includes('unet.json'));
});
