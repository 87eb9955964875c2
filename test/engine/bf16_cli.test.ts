// The precision option on the command line: bench reports both precisions and the ISA; bad values and bf16 on a
// CPU without it are one-line errors naming the option.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cpuCapabilities } from '../../src/engine/index.js';

const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));
const caps = cpuCapabilities();
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
const SMALL = ['--filters', '4', '--batch', '1', '--height', '32', '--width', '32', '--classes', '3', '--steps', '1', '--warmup', '0'];

test(
  'bench --precision bf16 --json reports the fp32 and the bf16 step, the ISA and the bf16 kernels',
  { skip: caps.bf16 ? false : `no AVX512-BF16/AMX on this CPU: ${caps.bf16Unavailable}` },
  () => {
    const r = run(['bench', ...SMALL, '--precision', 'bf16', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.precision, 'bf16');
    assert.equal(j.precision_requested, 'bf16');
    assert.equal(j.onednn_isa, caps.onednnIsa);
    for (const k of ['fp32_step_ms', 'bf16_step_ms', 'bf16_vs_fp32']) assert.ok(typeof j[k] === 'number' && (j[k] as number) > 0, `${k}: ${j[k]}`);
    assert.ok(
      Object.keys(j.bf16_impls as object).some((k) => /bf16|amx/.test(k)),
      JSON.stringify(j.bf16_impls),
    );
  },
);

test('bench --precision auto on a CPU without bf16 (UNET_TRANSFER_CPU_NO_BF16=1) times fp32 only', () => {
  const r = run(['bench', ...SMALL, '--precision', 'auto', '--json'], { UNET_TRANSFER_CPU_NO_BF16: '1' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.precision, 'fp32');
  assert.equal(j.precision_requested, 'auto');
  assert.equal(j.bf16_step_ms, undefined);
});

test('--precision errors: a bad value, and bf16 without support, name the option in one line', () => {
  const bad = run(['bench', ...SMALL, '--precision', 'fp16']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^unet-transfer bench: --precision must be one of fp32, bf16, auto, got "fp16"$/m);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  const none = run(['finetune', '--model', 'nowhere', '--data', 'nowhere', '--train', 'all', '--out', 'nowhere', '--precision', 'half']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^unet-transfer finetune: --precision must be one of fp32, bf16, auto, got "half"$/m);
  const unsupported = run(['bench', ...SMALL, '--precision', 'bf16'], { UNET_TRANSFER_CPU_NO_BF16: '1' });
  assert.equal(unsupported.status, 1);
  assert.match(unsupported.stderr, /^unet-transfer bench: --precision: bf16 needs a CPU with AVX512-BF16 or AMX.*UNET_TRANSFER_CPU_NO_BF16=1/m);
  const sweep = run(['sweep', 'plan', '--model', 'nowhere', '--data', '.', '--precision', 'bf16', '--out', 'nowhere'], { UNET_TRANSFER_CPU_NO_BF16: '1' });
  assert.equal(sweep.status, 1);
  assert.match(sweep.stderr, /^unet-transfer sweep plan: --precision: bf16 needs/m);
});
