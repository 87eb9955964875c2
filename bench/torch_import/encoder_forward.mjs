// The encoder's five feature maps of a model folder, for bench/torch_import/encoder_compare.py:
//   node bench/torch_import/encoder_forward.mjs MODEL_DIR INPUT.bin OUTPUT.bin [cpu|native]
// INPUT.bin: 1 x H x W x C little-endian float32 (NHWC); OUTPUT.bin: the five maps (enc1..enc4,
// bottleneck: the last layer of each stage), NHWC, one after the other.
import { readFileSync, writeFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

import { useBestBackend } from '../../dist/src/engine/index.js';
import { encoderFeatureLayers, loadModelFolder } from '../../dist/src/model/index.js';

const [dir, input, output, backend = 'cpu'] = process.argv.slice(2);
if (backend !== 'cpu' && backend !== 'native') throw new Error(`backend must be cpu or native, got ${backend}`);
const used = await useBestBackend(backend, () => {});
if (used !== backend) throw new Error(`the ${backend} backend is unavailable (got ${used})`);
const folder = await loadModelFolder(dir);
const [h, w, c] = folder.options.input;
const buf = readFileSync(input);
const x = tf.tensor4d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), [1, h, w, c]);
const taps = encoderFeatureLayers(folder.layerMap);
const enc = tfl.model({ inputs: folder.model.inputs, outputs: taps.map((n) => folder.model.getLayer(n).output) });
const ys = enc.predict(x);
const parts = await Promise.all(ys.map((y) => y.data()));
writeFileSync(output, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
