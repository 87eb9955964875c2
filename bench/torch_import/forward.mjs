// Forward pass of an imported model folder for bench/torch_import/compare.py:
//   node bench/torch_import/forward.mjs MODEL_DIR INPUT.bin N OUTPUT.bin
// INPUT.bin holds N x H x W x C little-endian float32 (NHWC); OUTPUT.bin gets the logits, NHWC.
import { readFileSync, writeFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { loadModelFolder } from '../../dist/src/model/folder.js';

const [dir, input, n, output] = process.argv.slice(2);
await tf.setBackend('cpu');
const folder = await loadModelFolder(dir);
const [h, w, c] = folder.options.input;
const buf = readFileSync(input);
const x = tf.tensor4d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), [Number(n), h, w, c]);
const y = folder.model.predict(x);
writeFileSync(output, Buffer.from((await y.data()).buffer));
