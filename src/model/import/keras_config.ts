// A Keras functional model config (Keras 2's or Keras 3's format, from an .h5 `model_config` attribute or a
// .keras archive's config.json) read as data and turned into a TF.js layers topology. Only layer classes
// with a TF.js counterpart are converted, field by field (initialisers, regularisers, dtype policies are
// dropped: the weights come from the file); anything else is refused naming the layer and its class, and a
// Lambda layer (Python code) is never run. The expected shape of every weight follows from the configs and
// the channels propagated through the graph, so the file's tensors are checked before anything is built.
//
// Keras 2 layer entry:  {class_name, config, name, inbound_nodes: [[[layer, node, tensor, kwargs], ...]]}
// Keras 3 layer entry:  {module, class_name, config, registered_name, build_config, name,
//                        inbound_nodes: [{args: [<tensor> | [<tensor>, ...]], kwargs}]}
//                       with <tensor> = {class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}
import { UserError } from '../../util/errors.js';

type Json = Record<string, unknown>;

/** One layer of the graph, with its converted TF.js config. */
export interface KerasLayer {
  name: string;
  /** The TF.js class (SpatialDropout2D becomes Dropout, a bilinear UpSampling2D our ResizeBilinear2x). */
  className: string;
  /** The class as Keras names it (what Keras 3 names the layer's weights group after). */
  kerasClass: string;
  /** The layers it reads, in call order. */
  inbound: string[];
  /** TF.js (snake_case) config. */
  config: Json;
}

/** A weight the converted model has, in TF.js layout and naming (`<layer>/<weight>`). */
export interface ExpectedWeight {
  layer: string;
  /** `kernel`, `bias`, `gamma`, ... (also the Keras name). */
  weight: string;
  shape: number[];
}

export interface KerasGraph {
  name: string;
  layers: KerasLayer[];
  input: string;
  output: string;
  /** Weights of each layer in the order Keras creates (and saves) them. */
  weights: Map<string, ExpectedWeight[]>;
  /** Output channels of every layer. */
  channels: Map<string, number>;
}

/** Keras classes converted, and how many inputs each takes (Infinity: two or more). */
const SUPPORTED: Record<string, number> = {
  InputLayer: 0,
  Conv2D: 1,
  Conv2DTranspose: 1,
  SeparableConv2D: 1,
  DepthwiseConv2D: 1,
  BatchNormalization: 1,
  Activation: 1,
  ReLU: 1,
  LeakyReLU: 1,
  Dropout: 1,
  SpatialDropout2D: 1,
  MaxPooling2D: 1,
  AveragePooling2D: 1,
  UpSampling2D: 1,
  ZeroPadding2D: 1,
  Cropping2D: 1,
  Rescaling: 1,
  Concatenate: Infinity,
  Add: Infinity,
  Multiply: Infinity,
};

/** Activations TF.js has under the same (Keras) name. */
const ACTIVATIONS = new Set([
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'softmax',
  'tanh',
  'softplus',
  'softsign',
  'hard_sigmoid',
  'swish',
  'silu',
  'mish',
  'gelu',
]);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every layer (name -> class) of a config, nested models included: for messages and the course mapping. */
export function kerasLayerClasses(config: unknown, out = new Map<string, string>(), depth = 0): Map<string, string> {
  if (depth > 32 || !isObject(config)) return out;
  const inner = config.config;
  const layers = Array.isArray(inner) ? inner : isObject(inner) && Array.isArray(inner.layers) ? inner.layers : null;
  if (!layers) return out;
  for (const l of layers) {
    if (!isObject(l) || typeof l.class_name !== 'string') continue;
    const name = isObject(l.config) && typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : '';
    if (name) out.set(name, l.class_name);
    kerasLayerClasses(l, out, depth + 1);
  }
  return out;
}

/** True when the config describes a whole functional graph (every layer but the inputs says what it reads). */
export function isFunctionalGraph(config: unknown): boolean {
  if (!isObject(config) || !isObject(config.config)) return false;
  const layers = config.config.layers;
  if (!Array.isArray(layers) || layers.length < 2) return false;
  return layers.every((l) => isObject(l) && (l.class_name === 'InputLayer' || (Array.isArray(l.inbound_nodes) && l.inbound_nodes.length > 0)));
}

/** [layer, node, tensor] of one Keras 3 tensor reference or Keras 2 inbound entry. */
function tensorRef(v: unknown, what: string): { layer: string; node: number; tensor: number } {
  let h: unknown = v;
  if (isObject(v)) {
    if (v.class_name !== '__keras_tensor__' || !isObject(v.config))
      throw new UserError(`${what}: an input is not a tensor reference (${JSON.stringify(v).slice(0, 80)})`);
    h = v.config.keras_history;
  }
  if (!Array.isArray(h) || h.length < 3 || typeof h[0] !== 'string' || !Number.isInteger(h[1]) || !Number.isInteger(h[2])) {
    throw new UserError(`${what}: an input reference is not [layer, node, tensor] (${JSON.stringify(h).slice(0, 80)})`);
  }
  return { layer: h[0], node: h[1] as number, tensor: h[2] as number };
}

/** The layers one inbound node reads (both formats). */
function inboundOf(entry: Json, what: string): string[] {
  const nodes = entry.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) throw new UserError(`${what}: is called ${nodes.length} times (a shared layer); a U-Net calls each layer once`);
  const node = nodes[0];
  let refs: unknown[];
  if (Array.isArray(node))
    refs = node; // Keras 2: [[layer, node, tensor, kwargs], ...]
  else if (isObject(node) && Array.isArray(node.args)) {
    // Keras 3: args hold a tensor, or a list of tensors for merge layers.
    refs = node.args.flatMap((a) => (Array.isArray(a) ? a : [a]));
    if (isObject(node.kwargs)) {
      for (const [k, v] of Object.entries(node.kwargs)) {
        if (isObject(v) && v.class_name === '__keras_tensor__')
          throw new UserError(`${what}: takes a tensor through the keyword argument ${k}, which is not supported`);
      }
    }
  } else throw new UserError(`${what}: inbound_nodes is neither the Keras 2 nor the Keras 3 format`);
  return refs.map((r) => {
    const t = tensorRef(r, what);
    if (t.node !== 0 || t.tensor !== 0)
      throw new UserError(`${what}: reads output ${t.tensor} of call ${t.node} of layer ${t.layer}; only single-output layers called once are supported`);
    return t.layer;
  });
}

function pair(v: unknown, what: string, min = 1): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || a.some((d) => !Number.isSafeInteger(d) || (d as number) < min || (d as number) > 1 << 16))
    throw new UserError(`${what}: expected an integer or two integers >= ${min}, got ${JSON.stringify(v)}`);
  return [a[0] as number, a[1] as number];
}

function count(v: unknown, what: string, min = 1): number {
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > 1 << 20)
    throw new UserError(`${what}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

function finite(v: unknown, dflt: number, what: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads a Keras functional model config and converts it. `file` names the source in errors. Refuses, by
 * layer name and class: Lambda layers, classes TF.js lacks, options TF.js cannot express, nested models.
 */
export function convertKerasConfig(raw: unknown, file: string, inputSize?: [number, number]): KerasGraph {
  if (!isObject(raw) || typeof raw.class_name !== 'string') throw new UserError(`${file}: the model config has no class_name`);
  if (raw.class_name === 'Sequential') {
    throw new UserError(
      `${file}: is a Sequential model: an encoder-decoder without skip connections (a U-Net concatenates encoder features into the decoder); not supported`,
    );
  }
  if (!['Functional', 'Model'].includes(raw.class_name) || !isObject(raw.config) || !Array.isArray(raw.config.layers)) {
    throw new UserError(`${file}: the model is a ${raw.class_name}; only functional Keras models (keras.Model(inputs, outputs)) can be converted`);
  }
  const entries = raw.config.layers as unknown[];
  if (entries.length > 10000) throw new UserError(`${file}: the model has ${entries.length} layers; refused`);
  const layers: KerasLayer[] = [];
  const channels = new Map<string, number>();
  const spatial = new Map<string, [number, number]>();
  const weights = new Map<string, ExpectedWeight[]>();
  let input = '';

  for (const [i, e] of entries.entries()) {
    if (!isObject(e) || typeof e.class_name !== 'string' || !isObject(e.config)) throw new UserError(`${file}: layer entry ${i} is not {class_name, config}`);
    const cls = e.class_name;
    const c = e.config;
    const name = typeof e.name === 'string' ? e.name : typeof c.name === 'string' ? c.name : '';
    if (!/^[A-Za-z0-9_.\-]{1,200}$/.test(name)) throw new UserError(`${file}: layer entry ${i} (${cls}) has a bad name ${JSON.stringify(name)}`);
    const what = `${file}: layer ${name} (${cls})`;
    if (channels.has(name)) throw new UserError(`${file}: two layers are named ${name}`);
    if (cls === 'Lambda' || cls === 'TFOpLambda' || cls === 'SlicingOpLambda') {
      throw new UserError(
        `${what}: a Lambda layer is Python code stored in the file, which is never run here; rebuild the model without it (or with a built-in layer that does the same)`,
      );
    }
    if (!(cls in SUPPORTED)) {
      const nested = ['Functional', 'Model', 'Sequential'].includes(cls) ? ' (a nested model; save the model with its layers flattened)' : '';
      throw new UserError(`${what}: not a layer class unet-transfer converts${nested}; supported: ${Object.keys(SUPPORTED).join(', ')}`);
    }
    const inbound = inboundOf(e, what);
    const want = SUPPORTED[cls]!;
    if (want === Infinity ? inbound.length < 2 : inbound.length !== want)
      throw new UserError(`${what}: takes ${inbound.length} inputs, expected ${want === Infinity ? 'two or more' : want}`);
    for (const n of inbound) if (!channels.has(n)) throw new UserError(`${what}: reads layer ${n}, which comes later or does not exist`);
    const inCh = inbound.length ? channels.get(inbound[0]!)! : 0;
    const inHW = inbound.length ? spatial.get(inbound[0]!)! : ([0, 0] as [number, number]);
    const df = c.data_format;
    if (df !== undefined && df !== null && df !== 'channels_last')
      throw new UserError(`${what}: data_format ${JSON.stringify(df)}; only channels_last is supported`);
    const activation = (key = 'activation'): string => {
      const a = c[key] ?? 'linear';
      if (typeof a !== 'string' || !ACTIVATIONS.has(a))
        throw new UserError(`${what}: activation ${JSON.stringify(a).slice(0, 60)} is not one TF.js has (${[...ACTIVATIONS].join(', ')})`);
      return a === 'silu' ? 'swish' : a;
    };
    const useBias = c.use_bias !== false;
    const w: ExpectedWeight[] = [];
    const add = (weight: string, shape: number[]) => w.push({ layer: name, weight, shape });
    let out = inCh;
    let hw: [number, number] = inHW;
    let config: Json;
    let resizeLayer = false;
    const convGeometry = (k: [number, number]) => {
      const strides = pair(c.strides ?? 1, `${what} strides`);
      const dilation = pair(c.dilation_rate ?? 1, `${what} dilation_rate`);
      const padding = c.padding ?? 'valid';
      if (padding !== 'same' && padding !== 'valid') throw new UserError(`${what}: padding ${JSON.stringify(padding)}; expected same or valid`);
      if (c.groups !== undefined && c.groups !== 1) throw new UserError(`${what}: groups ${JSON.stringify(c.groups)}; grouped convolutions are not supported`);
      return { strides, dilation, padding: padding as string };
    };
    const outSize = (n: number, k: number, s: number, d: number, padding: string) =>
      padding === 'same' ? Math.ceil(n / s) : Math.floor((n - (k - 1) * d - 1) / s) + 1;
    switch (cls) {
      case 'InputLayer': {
        const shape = c.batch_shape ?? c.batch_input_shape;
        if (!Array.isArray(shape) || shape.length !== 4)
          throw new UserError(`${what}: the input must be an image batch [batch, height, width, channels], got ${JSON.stringify(shape)}`);
        const [, h, wd, ch] = inputSize ? [null, inputSize[0], inputSize[1], shape[3]] : shape;
        if (h === null || wd === null)
          throw new UserError(
            `${what}: the input size is not fixed (${JSON.stringify(shape)}); save the model with a fixed input shape, e.g. keras.Input((256, 256, 3))`,
          );
        out = count(ch, `${what} channels`);
        hw = [count(h, `${what} height`), count(wd, `${what} width`)];
        if (input) throw new UserError(`${what}: a second input; a U-Net has one`);
        input = name;
        config = { name, batch_input_shape: [null, hw[0], hw[1], out], dtype: 'float32', sparse: false };
        break;
      }
      case 'Conv2D':
      case 'Conv2DTranspose':
      case 'SeparableConv2D':
      case 'DepthwiseConv2D': {
        const k = pair(c.kernel_size, `${what} kernel_size`);
        const g = convGeometry(k);
        config = {
          name,
          kernel_size: k,
          strides: g.strides,
          padding: g.padding,
          data_format: 'channels_last',
          dilation_rate: g.dilation,
          activation: activation(),
          use_bias: useBias,
        };
        if (cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D') {
          const dm = count(c.depth_multiplier ?? 1, `${what} depth_multiplier`);
          config.depth_multiplier = dm;
          add('depthwise_kernel', [k[0], k[1], inCh, dm]);
          out = inCh * dm;
        }
        if (cls === 'SeparableConv2D') {
          out = count(c.filters, `${what} filters`);
          add('pointwise_kernel', [1, 1, inCh * (config.depth_multiplier as number), out]);
        }
        if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
          out = count(c.filters, `${what} filters`);
          add('kernel', cls === 'Conv2D' ? [k[0], k[1], inCh, out] : [k[0], k[1], out, inCh]);
        }
        if (cls !== 'DepthwiseConv2D') config.filters = out;
        if (useBias) add('bias', [out]);
        if (cls === 'Conv2DTranspose') {
          if (c.output_padding !== undefined && c.output_padding !== null) throw new UserError(`${what}: output_padding is not supported`);
          if (g.dilation.some((d) => d !== 1)) throw new UserError(`${what}: a dilated transposed convolution is not supported`);
          hw = [0, 1].map((a) => (g.padding === 'same' ? inHW[a]! * g.strides[a]! : inHW[a]! * g.strides[a]! + Math.max(k[a]! - g.strides[a]!, 0))) as [
            number,
            number,
          ];
        } else hw = [0, 1].map((a) => outSize(inHW[a]!, k[a]!, g.strides[a]!, g.dilation[a]!, g.padding)) as [number, number];
        break;
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
        if (axis !== -1 && axis !== 3) throw new UserError(`${what}: axis ${JSON.stringify(c.axis)}; only the channel axis (-1) is supported`);
        if (c.renorm === true) throw new UserError(`${what}: batch renormalisation is not supported`);
        const center = c.center !== false;
        const scale = c.scale !== false;
        config = { name, axis: -1, momentum: finite(c.momentum, 0.99, `${what} momentum`), epsilon: finite(c.epsilon, 1e-3, `${what} epsilon`), center, scale };
        if (scale) add('gamma', [inCh]);
        if (center) add('beta', [inCh]);
        add('moving_mean', [inCh]);
        add('moving_variance', [inCh]);
        break;
      }
      case 'Activation':
        config = { name, activation: activation() };
        break;
      case 'ReLU': {
        if (finite(c.negative_slope, 0, what) !== 0 || finite(c.threshold, 0, what) !== 0)
          throw new UserError(`${what}: negative_slope and threshold must be 0 (TF.js's ReLU has neither); use LeakyReLU`);
        config = { name, max_value: c.max_value ?? null };
        break;
      }
      case 'LeakyReLU':
        // Keras 2 calls the slope alpha (default 0.3), Keras 3 negative_slope (same default).
        config = { name, alpha: finite(c.negative_slope ?? c.alpha, 0.3, `${what} negative_slope`) };
        break;
      case 'Dropout':
      case 'SpatialDropout2D': {
        if (c.noise_shape !== undefined && c.noise_shape !== null) throw new UserError(`${what}: noise_shape is not supported`);
        const rate = finite(c.rate, 0, `${what} rate`);
        if (rate < 0 || rate >= 1) throw new UserError(`${what}: rate ${rate} is not in [0, 1)`);
        // TF.js has no SpatialDropout2D; at inference both are the identity, and fine-tuning drops pixels instead of channels.
        config = { name, rate };
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = pair(c.pool_size ?? 2, `${what} pool_size`);
        const strides = c.strides === null || c.strides === undefined ? pool : pair(c.strides, `${what} strides`);
        const padding = c.padding ?? 'valid';
        if (padding !== 'same' && padding !== 'valid') throw new UserError(`${what}: padding ${JSON.stringify(padding)}; expected same or valid`);
        config = { name, pool_size: pool, strides, padding, data_format: 'channels_last' };
        hw = [0, 1].map((a) => outSize(inHW[a]!, pool[a]!, strides[a]!, 1, padding as string)) as [number, number];
        break;
      }
      case 'UpSampling2D': {
        const size = pair(c.size ?? 2, `${what} size`);
        const interpolation = c.interpolation ?? 'nearest';
        if (interpolation !== 'nearest' && interpolation !== 'bilinear')
          throw new UserError(`${what}: interpolation ${JSON.stringify(interpolation)}; TF.js has nearest and bilinear`);
        config = { name, size, interpolation, data_format: 'channels_last' };
        if (interpolation === 'bilinear') {
          // Keras resizes with half-pixel centres, TF.js's UpSampling2D without: our resize layer does Keras's.
          if (size[0] !== 2 || size[1] !== 2) throw new UserError(`${what}: bilinear up-sampling by ${size.join('x')}; only 2x2 is supported`);
          resizeLayer = true;
          config = { name, align_corners: false, half_pixel_centers: true };
        }
        hw = [inHW[0] * size[0], inHW[1] * size[1]];
        break;
      }
      case 'ZeroPadding2D':
      case 'Cropping2D': {
        const key = cls === 'ZeroPadding2D' ? 'padding' : 'cropping';
        const v = c[key];
        const sides: [[number, number], [number, number]] =
          Array.isArray(v) && v.every(Array.isArray)
            ? [pair(v[0], `${what} ${key}`, 0), pair(v[1], `${what} ${key}`, 0)]
            : (() => {
                const [a, b] = pair(v ?? 1, `${what} ${key}`, 0);
                return [
                  [a, a],
                  [b, b],
                ] as [[number, number], [number, number]];
              })();
        config = { name, [key]: sides, data_format: 'channels_last' };
        const sign = cls === 'ZeroPadding2D' ? 1 : -1;
        hw = [inHW[0] + sign * (sides[0][0] + sides[0][1]), inHW[1] + sign * (sides[1][0] + sides[1][1])];
        break;
      }
      case 'Rescaling': {
        if (typeof c.scale !== 'number' || !(typeof c.offset === 'number' || c.offset === undefined))
          throw new UserError(`${what}: only a single number scale and offset map to TF.js`);
        config = { name, scale: c.scale, offset: c.offset ?? 0 };
        break;
      }
      case 'Concatenate': {
        const axis = c.axis ?? -1;
        if (axis !== -1 && axis !== 3) throw new UserError(`${what}: concatenates along axis ${JSON.stringify(axis)}; only the channel axis (-1) is supported`);
        config = { name, axis: -1 };
        out = inbound.reduce((s, n) => s + channels.get(n)!, 0);
        break;
      }
      default: {
        // Add, Multiply: element-wise, same shapes.
        config = { name };
        if (inbound.some((n) => channels.get(n) !== inCh))
          throw new UserError(`${what}: its inputs have different channel counts (${inbound.map((n) => channels.get(n)).join(', ')})`);
      }
    }
    if (inbound.length > 1) {
      const shapes = inbound.map((n) => spatial.get(n)!.join('x'));
      if (new Set(shapes).size > 1)
        throw new UserError(`${what}: its inputs have different sizes (${inbound.map((n, j) => `${n} ${shapes[j]}`).join(', ')}); crop or pad them to match`);
    }
    if (hw.some((d) => d < 1)) throw new UserError(`${what}: its output would be ${hw.join('x')}`);
    if (out > 1 << 16) throw new UserError(`${what}: ${out} channels; refused`);
    config.trainable = true;
    layers.push({ name, className: resizeLayer ? 'ResizeBilinear2x' : cls === 'SpatialDropout2D' ? 'Dropout' : cls, kerasClass: cls, inbound, config });
    channels.set(name, out);
    spatial.set(name, hw);
    weights.set(name, w);
  }
  if (!input) throw new UserError(`${file}: the model has no InputLayer`);
  const ends = (key: string): string => {
    const v = (raw.config as Json)[key];
    // One tensor: [name, 0, 0] (Keras 3 may write it unnested) or [[name, 0, 0]].
    const list = Array.isArray(v) && v.length > 0 && !Array.isArray(v[0]) ? [v] : v;
    if (!Array.isArray(list) || list.length !== 1)
      throw new UserError(`${file}: ${key} must name one layer (a U-Net has one input and one output), got ${JSON.stringify(v)?.slice(0, 80)}`);
    const t = tensorRef(list[0], `${file}: ${key}`);
    if (!channels.has(t.layer)) throw new UserError(`${file}: ${key} names layer ${t.layer}, which the model does not have`);
    return t.layer;
  };
  if (ends('input_layers') !== input) throw new UserError(`${file}: input_layers does not name the InputLayer ${input}`);
  const output = ends('output_layers');
  const name = typeof raw.config.name === 'string' ? raw.config.name : 'model';
  return { name, layers, input, output, weights, channels };
}

/** The TF.js model topology (model.json's modelTopology) of a converted graph. */
export function tfjsTopology(g: KerasGraph): Json {
  return {
    class_name: 'Model',
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
    config: {
      name: g.name,
      layers: g.layers.map((l) => ({
        class_name: l.className,
        name: l.name,
        config: l.config,
        inbound_nodes: l.inbound.length ? [l.inbound.map((n) => [n, 0, 0, {}])] : [],
      })),
      input_layers: [[g.input, 0, 0]],
      output_layers: [[g.output, 0, 0]],
    },
  };
}
