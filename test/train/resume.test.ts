// A fine-tune killed (SIGKILL) in the middle of epoch 2, after the checkpoint of epoch 1 was written,
// resumed with --resume, ends bitwise equal to the same run never interrupted.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cpuCapabilities } from '../../src/engine/index.js';
import { saveModelFolder } from '../../src/model/index.js';
import { BASE_CONFIG, digitSet, tempDir, tinyUNet, useNative } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));

before(useNative);

const sha = (modelDir: string) => (JSON.parse(readFileSync(join(modelDir, 'unet.json'), 'utf8')) as { weights: { sha256: string } }).weights.sha256;

const caps = cpuCapabilities();
for (const precision of ['fp32', 'bf16'] as const) {
  const skip = precision === 'bf16' && !caps.bf16 ? `no AVX512-BF16/AMX on this CPU: ${caps.bf16Unavailable}` : false;
  test(`a fine-tune (${precision}) killed mid-epoch and resumed ends bitwise equal to an uninterrupted run`, { timeout: 120_000, skip }, async (t) => {
    const dir = tempDir(t);
    const data = await digitSet(join(dir, 'data'), { count: 32 });
    const unet = tinyUNet();
    await saveModelFolder(join(dir, 'pretrained'), unet);
    unet.model.dispose();
    // --train all: Dropout (enc2, bottleneck) is on, so its per-step seeds matter; flips exercise augmentation.
    const args = (out: string) => [
      'finetune',
      '--model',
      join(dir, 'pretrained'),
      '--data',
      data,
      '--train',
      'all',
      '--epochs',
      '3',
      '--batch',
      '4',
      '--lr',
      '0.005',
      '--seed',
      '5',
      '--augment',
      'flip',
      '--out',
      out,
      '--log-every',
      '1',
      '--quiet',
      '--precision',
      precision,
    ];

    const whole = spawnSync(process.execPath, [BIN, ...args(join(dir, 'A'))], { encoding: 'utf8' });
    assert.equal(whole.status, 0, whole.stderr);

    const runB = join(dir, 'B');
    const child = spawn(process.execPath, [BIN, ...args(runB)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const killedAt = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        log += chunk;
        // Epoch 1's checkpoint is complete (its pointer exists) and epoch 2 is two steps in.
        if (/epoch 2 step 2\//.test(log) && existsSync(join(runB, 'checkpoints', 'last.json')) && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve(log.trim().split('\n').pop()!);
        }
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : reject(new Error(`child ended (${code}) before it could be killed:\n${log}`))));
    });
    await new Promise((r) => child.once('close', r));
    const last = JSON.parse(readFileSync(join(runB, 'checkpoints', 'last.json'), 'utf8')) as { epoch: number };
    assert.equal(last.epoch, 1, `killed at "${killedAt}", but the last checkpoint is of epoch ${last.epoch}`);
    assert.ok(!existsSync(join(runB, 'model')), 'the killed run must not have written its final model');

    const resumed = spawnSync(process.execPath, [BIN, 'finetune', '--out', runB, '--resume', '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const r = JSON.parse(resumed.stdout) as { epochs: number; steps: number };
    assert.equal(r.epochs, 3);

    assert.equal(sha(join(runB, 'checkpoints', 'epoch-0003', 'model')), sha(join(dir, 'A', 'checkpoints', 'epoch-0003', 'model')), 'final weights differ');
    assert.ok(
      readFileSync(join(runB, 'checkpoints', 'epoch-0003', 'optimizer-0.bin')).equals(
        readFileSync(join(dir, 'A', 'checkpoints', 'epoch-0003', 'optimizer-0.bin')),
      ),
      'optimizer state differs',
    );
    assert.equal(sha(join(runB, 'model')), sha(join(dir, 'A', 'model')));
    const lines = (run: string) =>
      readFileSync(join(run, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const strip = (l: Record<string, unknown>) => ({ ...l, seconds: 0, train_seconds: 0 });
    assert.deepEqual(lines(runB).map(strip), lines(join(dir, 'A')).map(strip));
    // run.json records the precision of both starts, and the ISA.
    const setup = (
      JSON.parse(readFileSync(join(runB, 'run.json'), 'utf8')) as {
        setup: { precision: { from_epoch: number; requested: string; effective: string; onednn_isa: string }[] };
      }
    ).setup;
    assert.deepEqual(
      setup.precision.map((p) => [p.from_epoch, p.requested, p.effective]),
      [
        [1, precision, precision],
        [2, precision, precision],
      ],
    );
    assert.equal(setup.precision[0]!.onednn_isa, caps.onednnIsa);
  });
}

test('resume refuses a changed option and a run that does not exist', async (t) => {
  const dir = tempDir(t);
  const r1 = spawnSync(process.execPath, [BIN, 'finetune', '--out', join(dir, 'nothing'), '--resume'], { encoding: 'utf8' });
  assert.equal(r1.status, 1);
  assert.match(r1.stderr, /no run to resume/);
  const run = join(dir, 'run');
  mkdirSync(run);
  writeFileSync(
    join(run, 'run.json'),
    JSON.stringify({ format: 'unet-transfer/run', version: 1, config: { ...BASE_CONFIG, lr: 0.005, data: join(dir, 'd'), model: join(dir, 'm') } }),
  );
  const r2 = spawnSync(process.execPath, [BIN, 'finetune', '--out', run, '--resume', '--lr', '0.1'], { encoding: 'utf8' });
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /--lr is 0\.005 in .*run\.json, the run that --resume continues; you passed 0\.1/);
});
