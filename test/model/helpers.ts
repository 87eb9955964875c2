// Shared helpers of the model tests: temp folders, the bytes of a model's weights, a plain TF.js
// model folder writer (what someone else's TF.js code would save), and the course U-Net written the
// way the course writes it (default layer names, no unet.json).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export async function useCpu(): Promise<void> {
  tf.env().set('IS_TEST', true); // silences TF.js's "install tfjs-node" banner
  await tf.setBackend('cpu');
  await tf.ready();
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'unet-model-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every weight of a model, in order, as raw bytes (for bitwise comparisons). */
export function weightBytes(model: tfl.LayersModel): Buffer {
  return Buffer.concat(model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).slice().buffer)));
}

/** Saves a model the way tfjs-node's file:// handler does: model.json + weights.bin, nothing else. */
export async function writePlainTfjsFolder(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save({
    save: async (a: tf.io.ModelArtifacts) => {
      const data = Array.isArray(a.weightData) ? tf.io.CompositeArrayBuffer.join(a.weightData) : a.weightData!;
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(data));
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
}

/**
 * The Deep Learning Specialization's unet_model, transcribed to TF.js layer for layer with default
 * layer names, as a user of TF.js would write it (conv_block, upsampling_block).
 */
export function courseUNetTheCourseWay(inputSize: [number, number, number], nFilters: number, nClasses: number): tfl.LayersModel {
  const convBlock = (inputs: tfl.SymbolicTensor, n: number, dropoutProb = 0, maxPooling = true): [tfl.SymbolicTensor, tfl.SymbolicTensor] => {
    let conv = tfl.layers
      .conv2d({ filters: n, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heNormal' })
      .apply(inputs) as tfl.SymbolicTensor;
    conv = tfl.layers
      .conv2d({ filters: n, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heNormal' })
      .apply(conv) as tfl.SymbolicTensor;
    if (dropoutProb > 0) conv = tfl.layers.dropout({ rate: dropoutProb }).apply(conv) as tfl.SymbolicTensor;
    const next = maxPooling ? (tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(conv) as tfl.SymbolicTensor) : conv;
    return [next, conv];
  };
  const upsamplingBlock = (expansive: tfl.SymbolicTensor, contractive: tfl.SymbolicTensor, n: number): tfl.SymbolicTensor => {
    const up = tfl.layers.conv2dTranspose({ filters: n, kernelSize: 3, strides: 2, padding: 'same' }).apply(expansive) as tfl.SymbolicTensor;
    const merge = tfl.layers.concatenate({ axis: 3 }).apply([up, contractive]) as tfl.SymbolicTensor;
    let conv = tfl.layers
      .conv2d({ filters: n, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heNormal' })
      .apply(merge) as tfl.SymbolicTensor;
    conv = tfl.layers
      .conv2d({ filters: n, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heNormal' })
      .apply(conv) as tfl.SymbolicTensor;
    return conv;
  };
  const inputs = tfl.input({ shape: inputSize });
  const c1 = convBlock(inputs, nFilters);
  const c2 = convBlock(c1[0], nFilters * 2);
  const c3 = convBlock(c2[0], nFilters * 4);
  const c4 = convBlock(c3[0], nFilters * 8, 0.3);
  const c5 = convBlock(c4[0], nFilters * 16, 0.3, false);
  const u6 = upsamplingBlock(c5[0], c4[1], nFilters * 8);
  const u7 = upsamplingBlock(u6, c3[1], nFilters * 4);
  const u8 = upsamplingBlock(u7, c2[1], nFilters * 2);
  const u9 = upsamplingBlock(u8, c1[1], nFilters);
  const conv9 = tfl.layers
    .conv2d({ filters: nFilters, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heNormal' })
    .apply(u9) as tfl.SymbolicTensor;
  const conv10 = tfl.layers.conv2d({ filters: nClasses, kernelSize: 1, padding: 'same' }).apply(conv9) as tfl.SymbolicTensor;
  return tfl.model({ inputs, outputs: conv10 });
}
