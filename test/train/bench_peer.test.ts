// `bench --peer`'s library side: our steps and the PyTorch peer's alternate in rounds, each side built and warmed up
// once. Needs Debian's PyTorch (/usr/bin/python3 with python3-torch; `node scripts/setup.mjs --peer` installs it):
// skipped, visibly, where it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { PeerSession } from '../../bench/peer.js';
import { benchStepAgainstPeer } from '../../bench/peer_rounds.js';
import { useBestBackend } from '../../src/engine/index.js';
import { UserError } from '../../src/util/errors.js';

const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
const skip = torch.status === 0 ? false : 'no PyTorch for /usr/bin/python3 (as root: apt-get install -y python3-torch)';

const tiny = { arch: 'course' as const, filters: 2, classes: 3, batch: 2, height: 32, width: 32, warmup: 1, profile: false, threads: 2 };

test('bench against the peer alternates rounds of our steps and its steps, and counts the same parameters', { skip }, async () => {
  await useBestBackend('native');
  const before = tf.memory().numTensors;
  const r = await benchStepAgainstPeer({ ...tiny, steps: 2, rounds: 3 });
  assert.equal(r.rounds, 3);
  assert.equal(r.ours.fp32.step_times_ms.length, 6, 'rounds x steps of ours');
  assert.equal(r.peer.step_times_ms.length, 6, 'rounds x steps of the peer');
  assert.equal(r.peer.round_ratios.length, 3);
  assert.ok(
    r.peer.round_ratios.every((x) => x > 0 && Number.isFinite(x)),
    JSON.stringify(r.peer.round_ratios),
  );
  assert.equal(r.peer.parameters, r.ours.fp32.parameters, 'the peer builds the same course U-Net');
  assert.ok(r.peer.step_ms > 0 && r.peer.forward_ms > 0);
  // its own peak (VmHWM), more than PyTorch's import and less than this test process's whole heap is not a bound
  // worth guessing; only that it was measured
  assert.ok(r.peer.peak_rss_mb > 50, `peer peak ${r.peer.peak_rss_mb} MB`);
  assert.equal(tf.memory().numTensors, before, 'the model and the step tensors are disposed');
});

test('a peer that cannot build the model fails with a user error naming the peer', { skip }, async () => {
  await assert.rejects(
    () => PeerSession.start({ ...tiny, height: 30 }),
    (e: unknown) => e instanceof UserError && /the PyTorch peer failed/.test(e.message),
  );
});
