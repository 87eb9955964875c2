// Before TF.js builds a model from model.json it allocates every weight of every layer (zero-filled),
// and only then compares them with the manifest. A hostile topology (say, a conv after a chain of
// concatenations with 2^30 channels) would exhaust memory at that point. So the topology is read first,
// as data: the channels of every layer's output are propagated through the graph, each layer's weight
// count follows from its config, and a topology that would build more weights than the (size-checked)
// manifest holds is refused. Layer classes outside what a segmentation network uses are refused too,
// since their weight counts cannot be known in advance.
import { UserError } from '../util/errors.js';

/** Layers without weights whose output channels equal their (largest) input's. */
const PASS_THROUGH = new Set([
  'MaxPooling2D',
  'AveragePooling2D',
  'MaxPooling1D',
  'AveragePooling1D',
  'UpSampling2D',
  'Dropout',
  'SpatialDropout2D',
  'GaussianDropout',
  'GaussianNoise',
  'AlphaDropout',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
  'ZeroPadding2D',
  'Cropping2D',
  'Add',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Subtract',
  'Flatten',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Masking',
  // Ours (src/model/layers/): a weightless 2x bilinear resize.
  'ResizeBilinear2x',
]);

type Config = Record<string, unknown>;

function num(v: unknown, what: string, file: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`${file}: ${what} is not a non-negative integer: ${JSON.stringify(v)}`);
  return n;
}

function kernelArea(cfg: Config, file: string, name: string): number {
  const k = cfg.kernel_size;
  const dims = Array.isArray(k) ? k : [k];
  return dims.reduce((a: number, d) => a * num(d, `layer ${name} kernel_size`, file), 1);
}

/** Names of the layers feeding a layer config (the first call of the layer; later calls share its weights). */
function inboundNames(layer: Config): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  const first = nodes[0];
  if (!Array.isArray(first)) return [];
  return first.map((e) => (Array.isArray(e) ? String(e[0]) : String((e as Config)?.args ?? ''))).filter((n) => n.length > 0);
}

/**
 * The number of weight values that building this topology allocates; throws a UserError naming the
 * file and layer for anything it cannot size, or when the count exceeds `budget` (the manifest's).
 */
export function checkTopologyBudget(topology: Config, budget: number, file: string): number {
  const model = (topology.model_config ?? topology) as Config;
  const cfg = model.config as Config | Config[] | undefined;
  const layers = (Array.isArray(cfg) ? cfg : (cfg?.layers as Config[] | undefined)) ?? [];
  if (!Array.isArray(layers)) throw new UserError(`${file}: modelTopology has no layer list`);
  const sequential = model.class_name === 'Sequential';
  const channels = new Map<string, number>();
  let previous = 0;
  let total = 0;
  const CHANNEL_LIMIT = 1 << 24;
  for (const [i, layer] of layers.entries()) {
    const className = String(layer?.class_name);
    const c = (layer?.config ?? {}) as Config;
    const name = String(c.name ?? `#${i}`);
    const inputShape = (c.batch_input_shape ?? c.batch_shape) as unknown[] | undefined;
    let inputs: number[];
    if (sequential) inputs = i === 0 && Array.isArray(inputShape) ? [num(inputShape[inputShape.length - 1], `layer ${name} input channels`, file)] : [previous];
    else {
      inputs = inboundNames(layer).map((n) => {
        const ch = channels.get(n);
        if (ch === undefined) throw new UserError(`${file}: layer ${name} reads layer ${n}, which comes later or does not exist`);
        return ch;
      });
    }
    const inCh = inputs.length ? Math.max(...inputs) : 0;
    let out: number;
    let weights = 0;
    const bias = c.use_bias === false ? 0 : 1;
    switch (className) {
      case 'InputLayer':
        if (!Array.isArray(inputShape) || inputShape.length === 0) throw new UserError(`${file}: input layer ${name} has no batch_input_shape`);
        out = num(inputShape[inputShape.length - 1], `layer ${name} input channels`, file);
        break;
      case 'Conv1D':
      case 'Conv2D':
      case 'Conv3D':
      case 'Conv2DTranspose':
      case 'Conv3DTranspose': {
        out = num(c.filters, `layer ${name} filters`, file);
        weights = kernelArea(c, file, name) * inCh * out + bias * out;
        break;
      }
      case 'DepthwiseConv2D': {
        const dm = num(c.depth_multiplier ?? 1, `layer ${name} depth_multiplier`, file);
        out = inCh * dm;
        weights = kernelArea(c, file, name) * inCh * dm + bias * out;
        break;
      }
      case 'SeparableConv2D': {
        const dm = num(c.depth_multiplier ?? 1, `layer ${name} depth_multiplier`, file);
        out = num(c.filters, `layer ${name} filters`, file);
        weights = kernelArea(c, file, name) * inCh * dm + inCh * dm * out + bias * out;
        break;
      }
      case 'Dense':
        out = num(c.units, `layer ${name} units`, file);
        weights = inCh * out + bias * out;
        break;
      case 'BatchNormalization':
        out = inCh;
        weights = 4 * inCh;
        break;
      case 'LayerNormalization':
        out = inCh;
        weights = 2 * inCh;
        break;
      case 'PReLU':
        out = inCh;
        weights = inCh;
        break;
      case 'Concatenate':
        out = inputs.reduce((a, b) => a + b, 0);
        break;
      case 'Reshape': {
        const target = c.target_shape as unknown[] | undefined;
        out = Array.isArray(target) && target.length ? num(target[target.length - 1], `layer ${name} target_shape`, file) : inCh;
        break;
      }
      default:
        if (!PASS_THROUGH.has(className)) {
          throw new UserError(`${file}: layer ${name} is a ${className}, which unet-transfer does not load (it cannot size its weights before building)`);
        }
        out = inCh;
    }
    if (out > CHANNEL_LIMIT) throw new UserError(`${file}: layer ${name} would have ${out} channels; refused`);
    total += weights;
    if (total > budget) {
      throw new UserError(
        `${file}: building the topology needs more weights (${total} values by layer ${name}) than the manifest holds (${budget}); refused before allocating`,
      );
    }
    channels.set(name, out);
    previous = out;
  }
  return total;
}
