// oneDNN 2.6's GEMM convolution ("gemm:jit") overflows its own heap buffers: the ResNet and MobileNetV2 U-Nets,
// whose 4x4 and 2x2 maps once ran their forward pass on it, aborted with "corrupted size vs. prev_size" as soon as the
// heap's layout changed, e.g. under node --cpu-prof (which allocates beside the kernels). Run as a child process: a
// corrupted heap aborts the process, and without the profiler it may only corrupt values silently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));

// resnet18 at 64x64 aborted in every run before the fix, mobilenetv2 at 32x32 in some.
for (const [arch, batch, size] of [
  ['resnet18', '2', '64'],
  ['mobilenetv2', '1', '32'],
]) {
  test(`a ${arch} training step under node --cpu-prof leaves the heap intact (no GEMM convolutions)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'unet-heap-'));
    try {
      const args = ['bench', '--arch', arch, '--batch', batch, '--height', size, '--width', size, '--classes', '3', '--steps', '1', '--warmup', '0'];
      const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, BIN, ...args], { encoding: 'utf8' });
      assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(-400)}`);
      assert.equal(r.status, 0, r.stderr.slice(-400));
      assert.match(r.stdout, /training step/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
