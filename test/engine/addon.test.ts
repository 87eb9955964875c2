import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { addon, useBestBackend } from '../../src/engine/index.js';

// Every other engine test compares `native` with `cpu`; they would pass vacuously if the addon did
// not load, so this test insists that it did (unless a run says explicitly that it has no oneDNN).
test('every native kernel family loads', { skip: process.env.UNET_TRANSFER_NO_NATIVE === '1' }, () => {
  assert.deepEqual(addon.errors, {}, `native families failed to load: ${JSON.stringify(addon.errors)}`);
});

test('the native backend is selected by default', { skip: process.env.UNET_TRANSFER_NO_NATIVE === '1' }, async () => {
  assert.equal(await useBestBackend('native', () => {}), 'native');
  assert.equal(tf.getBackend(), 'native');
});
