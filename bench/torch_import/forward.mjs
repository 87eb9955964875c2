// Forward pass of an imported model folder for bench/torch_import/compare.py:
//   node bench/torch_import/forward.mjs MODEL_DIR INPUT.bin N OUTPUT.bin [cpu|native]
// INPUT.bin holds N x H x W x C little-endian float32 (NHWC); OUTPUT.bin gets the logits, NHWC.
// The backend defaults to TF.js's cpu; `native` runs the project's engine (and fails if it cannot load).
import { readFileSync, writeFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { useBestBackend } from '../../dist/src/engine/index.js';
import { loadModelFolder } from '../../dist/src/model/folder.js';

const [dir, input, n, output, backend = 'cpu'] = process.argv.slice(2);
if (backend !== 'cpu' && backend !== 'native') throw new Error(`backend must be cpu or native, got ${backend}`);
const used = await useBestBackend(backend, () => {});
if (used !== backend) throw new Error(`the ${backend} backend is unavailable (got ${used})`);
const folder = await loadModelFolder(dir);
const [h, w, c] = folder.options.input;
const buf = readFileSync(input);
const x = tf.tensor4d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), [Number(n), h, w, c]);
const y = folder.model.predict(x);
writeFileSync(output, Buffer.from((await y.data()).buffer));
