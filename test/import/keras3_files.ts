// Keras 3 files written by hand, the way Keras 3 writes them (checked against keras-team/keras:
// keras/src/legacy/saving/legacy_h5_format.py for `model.save('m.h5')`, keras/src/saving/saving_lib.py
// for `model.save('m.keras')`, keras/src/models/functional.py for the config):
//   .h5     root attrs model_config (JSON; layer entries {class_name, config, name, inbound_nodes} with
//           Keras 3 nodes {args, kwargs} of __keras_tensor__ references), keras_version, backend;
//           group model_weights with attrs layer_names (every layer, InputLayer included), backend,
//           keras_version; one group per layer with attr weight_names = the variables' paths
//           (`conv2d/kernel`, no `:0`), each a dataset at model_weights/<layer>/<layer>/<name>;
//           a top_level_model_weights group with no weights.
//   .keras  a zip (stored) of metadata.json, config.json ({module, class_name, config, registered_name,
//           build_config} per layer) and model.weights.h5, where each layer with weights has
//           layers/<snake_case class>[_N]/vars/<i> (N counts layers of that class in model order, i the
//           layer's variables: trainable ones first, in creation order).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

import h5wasm from 'h5wasm/node';

import { makeZip } from './helpers.js';

type Json = Record<string, unknown>;

export interface KerasLayerSpec {
  name: string;
  cls: string;
  config: Json;
  inbound: string[];
  /** Keras variable names and shapes, in creation order. */
  vars: Array<{ name: string; shape: number[] }>;
}

/** Deterministic values in [-a, a). */
function values(n: number, seed: number, a = 0.5): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 * a - a;
  }
  return out;
}

const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const initializer = (cls: string) => ({ module: 'keras.initializers', class_name: cls, config: { seed: null }, registered_name: null });

function conv(name: string, cin: number, filters: number, k: number, activation: string, inbound: string): KerasLayerSpec {
  return {
    name,
    cls: 'Conv2D',
    inbound: [inbound],
    config: {
      name,
      trainable: true,
      dtype,
      filters,
      kernel_size: [k, k],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      activation,
      use_bias: true,
      kernel_initializer: initializer('GlorotUniform'),
      bias_initializer: initializer('Zeros'),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    vars: [
      { name: 'kernel', shape: [k, k, cin, filters] },
      { name: 'bias', shape: [filters] },
    ],
  };
}

/**
 * A depth-1 U-Net on 16x16x1: two 3x3 convs, pool, bottleneck conv + BatchNormalization + conv + Dropout,
 * UpSampling2D + 2x2 conv, concatenation with the encoder, two 3x3 convs, a 1x1 conv with sigmoid.
 * `extra` adds layers before the head (for the refusal tests).
 */
export function depth1UNet(
  opts: { head?: 'sigmoid' | 'softmax'; classes?: number; noSkip?: boolean; extra?: KerasLayerSpec; bilinear?: boolean } = {},
): KerasLayerSpec[] {
  const f = 4;
  const layers: KerasLayerSpec[] = [
    {
      name: 'input_layer',
      cls: 'InputLayer',
      inbound: [],
      config: { batch_shape: [null, 16, 16, 1], dtype: 'float32', sparse: false, name: 'input_layer' },
      vars: [],
    },
    conv('conv2d', 1, f, 3, 'relu', 'input_layer'),
    conv('conv2d_1', f, f, 3, 'relu', 'conv2d'),
    {
      name: 'max_pooling2d',
      cls: 'MaxPooling2D',
      inbound: ['conv2d_1'],
      config: { name: 'max_pooling2d', trainable: true, dtype, pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' },
      vars: [],
    },
    conv('conv2d_2', f, 2 * f, 3, 'linear', 'max_pooling2d'),
    {
      name: 'batch_normalization',
      cls: 'BatchNormalization',
      inbound: ['conv2d_2'],
      config: {
        name: 'batch_normalization',
        trainable: true,
        dtype,
        axis: -1,
        momentum: 0.99,
        epsilon: 0.001,
        center: true,
        scale: true,
        beta_initializer: initializer('Zeros'),
        gamma_initializer: initializer('Ones'),
        moving_mean_initializer: initializer('Zeros'),
        moving_variance_initializer: initializer('Ones'),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
        synchronized: false,
      },
      vars: ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((name) => ({ name, shape: [2 * f] })),
    },
    {
      name: 're_lu',
      cls: 'ReLU',
      inbound: ['batch_normalization'],
      config: { name: 're_lu', trainable: true, dtype, max_value: null, negative_slope: 0.0, threshold: 0.0 },
      vars: [],
    },
    conv('conv2d_3', 2 * f, 2 * f, 3, 'relu', 're_lu'),
    {
      name: 'dropout',
      cls: 'Dropout',
      inbound: ['conv2d_3'],
      config: { name: 'dropout', trainable: true, dtype, rate: 0.3, seed: null, noise_shape: null },
      vars: [],
    },
    {
      name: 'up_sampling2d',
      cls: 'UpSampling2D',
      inbound: ['dropout'],
      config: {
        name: 'up_sampling2d',
        trainable: true,
        dtype,
        data_format: 'channels_last',
        size: [2, 2],
        interpolation: opts.bilinear ? 'bilinear' : 'nearest',
      },
      vars: [],
    },
    conv('conv2d_4', 2 * f, f, 2, 'relu', 'up_sampling2d'),
  ];
  let last = 'conv2d_4';
  let cin = f;
  if (!opts.noSkip) {
    layers.push({
      name: 'concatenate',
      cls: 'Concatenate',
      inbound: ['conv2d_4', 'conv2d_1'],
      config: { name: 'concatenate', trainable: true, dtype, axis: -1 },
      vars: [],
    });
    last = 'concatenate';
    cin = 2 * f;
  }
  layers.push(conv('conv2d_5', cin, f, 3, 'relu', last), conv('conv2d_6', f, f, 3, 'relu', 'conv2d_5'));
  last = 'conv2d_6';
  if (opts.extra) {
    layers.push({ ...opts.extra, inbound: [last] });
    last = opts.extra.name;
  }
  layers.push(conv('conv2d_7', f, opts.classes ?? 1, 1, opts.head ?? 'sigmoid', last));
  return layers;
}

const tensorRef = (name: string, shape: unknown) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, 0, 0] } });

/** Keras 3 inbound_nodes: merge layers take a list of tensors as their one argument; Keras 2: [[[layer, 0, 0, {}], ...]]. */
function nodes(l: KerasLayerSpec, keras2 = false): unknown[] {
  if (l.inbound.length === 0) return [];
  if (keras2) return [l.inbound.map((n) => [n, 0, 0, {}])];
  const refs = l.inbound.map((n) => tensorRef(n, null));
  return [{ args: l.inbound.length > 1 ? [refs] : refs, kwargs: l.cls === 'BatchNormalization' || l.cls === 'Dropout' ? { training: false } : {} }];
}

/** Keras 2's config of a layer: batch_input_shape for inputs, plain dtype strings, alpha for LeakyReLU. */
function keras2Config(l: KerasLayerSpec): Json {
  const c: Json = { ...l.config, dtype: 'float32' };
  if (l.cls === 'InputLayer') {
    c.batch_input_shape = c.batch_shape;
    delete c.batch_shape;
  }
  delete c.negative_slope;
  delete c.threshold;
  return c;
}

/** tf.keras 2's model.get_config() of the same model. */
export function keras2FunctionalConfig(layers: KerasLayerSpec[]): Json {
  const last = layers[layers.length - 1]!.name;
  return {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: layers.map((l) => ({ class_name: l.cls, config: keras2Config(l), name: l.name, inbound_nodes: nodes(l, true) })),
      input_layers: [['input_layer', 0, 0]],
      output_layers: [[last, 0, 0]],
    },
  };
}

/** model.get_config() of the functional model; `keras3Objects` adds module/registered_name/build_config (config.json). */
export function functionalConfig(layers: KerasLayerSpec[], keras3Objects: boolean): Json {
  const last = layers[layers.length - 1]!.name;
  const config = {
    name: 'functional',
    trainable: true,
    layers: layers.map((l) => ({
      ...(keras3Objects
        ? {
            module: 'keras.layers',
            class_name: l.cls,
            config: l.config,
            registered_name: null,
            ...(l.inbound.length ? { build_config: { input_shape: null } } : {}),
          }
        : { class_name: l.cls, config: l.config }),
      name: l.name,
      inbound_nodes: nodes(l),
    })),
    // Functional.get_config maps the input/output structure: a single tensor gives one unnested triple.
    input_layers: keras3Objects ? ['input_layer', 0, 0] : [['input_layer', 0, 0]],
    output_layers: keras3Objects ? [last, 0, 0] : [[last, 0, 0]],
  };
  return keras3Objects
    ? {
        module: 'keras.src.models.functional',
        class_name: 'Functional',
        config,
        registered_name: 'Functional',
        build_config: { input_shape: null },
        compile_config: null,
      }
    : { class_name: 'Functional', config };
}

/** Random weights for every variable, keyed `<layer>/<var>`; BatchNormalization variance kept positive. */
export function randomWeights(layers: KerasLayerSpec[], seed = 7): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let s = seed;
  for (const l of layers) {
    for (const v of l.vars) {
      const n = v.shape.reduce((a, b) => a * b, 1);
      // Kernels He-uniform (limit sqrt(6 / fan-in)), so that activations keep their scale; biases small.
      const fanIn = v.shape.length === 4 ? v.shape[0]! * v.shape[1]! * v.shape[2]! : 0;
      let data = values(n, s++, fanIn ? Math.sqrt(6 / fanIn) : v.name === 'bias' ? 0.1 : 0.6);
      if (v.name === 'moving_variance') data = data.map((x) => 0.5 + Math.abs(x));
      if (v.name === 'gamma') data = data.map((x) => 1 + x);
      out.set(`${l.name}/${v.name}`, { shape: v.shape, data });
    }
  }
  return out;
}

const fixed = (xs: string[]) => `S${Math.max(1, ...xs.map((x) => Buffer.byteLength(x)))}`;

/**
 * model.save('m.h5') in Keras 3; with `keras2`, as tf.keras 2 writes it: Keras 2 config, weight names
 * with the `:0` suffix (`conv2d/kernel:0`, dataset model_weights/conv2d/conv2d/kernel:0).
 */
export function writeKeras3H5(
  path: string,
  layers: KerasLayerSpec[],
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  opts: { keras2?: boolean } = {},
): void {
  const suffix = opts.keras2 ? ':0' : '';
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('keras_version', opts.keras2 ? '2.15.0' : '3.6.0');
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('model_config', JSON.stringify(opts.keras2 ? keras2FunctionalConfig(layers) : functionalConfig(layers, false)));
  const mw = f.create_group('model_weights');
  const names = layers.map((l) => l.name);
  mw.create_attribute('layer_names', names, null, fixed(names));
  mw.create_attribute('backend', 'tensorflow');
  mw.create_attribute('keras_version', opts.keras2 ? '2.15.0' : '3.6.0');
  // Groups in sorted order, as legacy_h5_format does.
  for (const l of [...layers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const g = mw.create_group(l.name);
    const paths = l.vars.map((v) => `${l.name}/${v.name}${suffix}`);
    g.create_attribute('weight_names', paths, [paths.length], fixed(paths));
    if (l.vars.length) {
      const inner = g.create_group(l.name);
      for (const v of l.vars) {
        const w = weights.get(`${l.name}/${v.name}`)!;
        inner.create_dataset({ name: `${v.name}${suffix}`, data: w.data, shape: w.shape });
      }
    }
  }
  if (!opts.keras2) mw.create_group('top_level_model_weights').create_attribute('weight_names', [], [0], 'S1');
  f.close();
}

/** Keras's naming.to_snake_case. */
function snake(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** model.save('m.keras') in Keras 3; `withOwnerNames` writes the vars groups' `name` attribute (newer Keras 3). */
export function writeKeras3Archive(
  path: string,
  tmpH5: string,
  layers: KerasLayerSpec[],
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  opts: { withOwnerNames?: boolean } = {},
): void {
  const f = new h5wasm.File(tmpH5, 'w');
  const root = f.create_group('layers');
  const used = new Map<string, number>();
  for (const l of layers) {
    const base = snake(l.cls);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    if (l.vars.length === 0) continue; // H5IOStore.make creates the group only when a variable is set
    const vars = root.create_group(n === undefined ? base : `${base}_${n + 1}`).create_group('vars');
    if (opts.withOwnerNames) vars.create_attribute('name', l.name);
    l.vars.forEach((v, i) => {
      const w = weights.get(`${l.name}/${v.name}`)!;
      vars.create_dataset({ name: String(i), data: w.data, shape: w.shape });
    });
  }
  f.create_group('optimizer').create_group('vars');
  f.close();
  const h5 = new Uint8Array(readFileSync(tmpH5));
  rmSync(tmpH5);
  const enc = (o: unknown) => new Uint8Array(Buffer.from(JSON.stringify(o)));
  const zip = makeZip([
    ['metadata.json', enc({ keras_version: '3.6.0', date_saved: '2026-12-02@18:00:00' })],
    ['config.json', enc(functionalConfig(layers, true))],
    ['model.weights.h5', h5],
  ]);
  writeFileSync(path, zip);
}
