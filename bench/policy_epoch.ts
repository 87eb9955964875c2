// Times whole training epochs of one fine-tuning policy on N digit scenes held in memory: the first epoch
// (which also fills the activation cache when the policy has a frozen prefix) and later ones apart, next to
// the policy's share of the FLOPs of training everything.
import { DEFAULT_DIGIT_SCENES, renderScene } from '../src/data/index.js';
import { indicesByDigit, readMnist } from '../src/data/mnist.js';
import { buildUNet, trainingStepFlops } from '../src/model/index.js';
import { UserError } from '../src/util/errors.js';
import { memoryBatchSource } from '../src/train/batch_source.js';
import { policyStepFlops } from '../src/train/cost.js';
import { openPolicyTrainer, type PolicyTrainer } from '../src/train/policy_trainer.js';

export interface PolicyBenchOptions {
  train: string;
  images: number;
  filters: number;
  classes: number;
  batch: number;
  height: number;
  width: number;
  /** Epochs to run (>= 2: the first, then later ones). */
  epochs: number;
  cache: boolean;
  cacheMb: number;
  seed: number;
}

export interface PolicyBenchResult {
  policy: string;
  images: number;
  batch: number;
  trainable_params: number;
  cache: boolean;
  cache_reason: string;
  cache_mb: number;
  first_epoch_ms: number;
  /** Median of the later epochs. */
  epoch_ms: number;
  later_epochs_ms: number[];
  step_ms: number;
  flops_share: number;
  gflop_per_step: number;
  gflop_per_step_all: number;
}

const MAX_SCENE_BYTES = 4 * 2 ** 30;

/** N digit scenes (MNIST digits 0-4 on a black canvas), grey replicated to 3 channels, cropped to H x W. */
export function digitScenesInMemory(n: number, height: number, width: number, seed: number): { images: Float32Array[]; masks: Int32Array[] } {
  const bytes = n * height * width * (3 * 4 + 4);
  if (bytes > MAX_SCENE_BYTES)
    throw new UserError(
      `options.images ${n} at ${height}x${width} needs ${(bytes / 2 ** 20).toFixed(0)} MiB in memory, over ${MAX_SCENE_BYTES / 2 ** 20} MiB; use fewer images`,
    );
  const size = Math.max(height, width, 16);
  const o = { ...DEFAULT_DIGIT_SCENES, size, seed };
  const mnist = readMnist('train');
  const pools = indicesByDigit(mnist);
  const images: Float32Array[] = [];
  const masks: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = renderScene(mnist, pools, 'train', i, o);
    const x = new Float32Array(height * width * 3);
    const y = new Int32Array(height * width);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const v = s.image[r * size + c]! / 255;
        const p = r * width + c;
        x[3 * p] = v;
        x[3 * p + 1] = v;
        x[3 * p + 2] = v;
        y[p] = s.mask[r * size + c]!;
      }
    }
    images.push(x);
    masks.push(y);
  }
  return { images, masks };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export async function benchPolicyEpochs(o: PolicyBenchOptions, log: (line: string) => void = () => {}): Promise<PolicyBenchResult> {
  if (o.epochs < 2) throw new UserError('options.epochs must be at least 2 (the first epoch fills the cache; later ones are timed apart)');
  const unet = buildUNet({ arch: 'course', filters: o.filters, classes: o.classes, input: [o.height, o.width, 3], seed: 1 });
  let trainer: PolicyTrainer | null = null;
  try {
    const { images, masks } = digitScenesInMemory(o.images, o.height, o.width, o.seed);
    const source = memoryBatchSource(images, masks, [o.height, o.width, 3], o.seed);
    trainer = openPolicyTrainer(unet.model, unet.layerMap, {
      policy: o.train,
      source,
      batch: o.batch,
      lr: 1e-3,
      cache: o.cache,
      cacheMb: o.cacheMb,
      seed: o.seed,
    });
    const { frozen, decision } = trainer;
    const times: number[] = [];
    let steps = 0;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      const r = await trainer.epoch(epoch);
      times.push(performance.now() - t0);
      steps = r.steps;
      log(
        `${o.train}: epoch ${epoch + 1}/${o.epochs} (${r.cache === 'off' ? 'no cache' : r.cache === 'fill' ? 'filling the cache' : 'from the cache'}) ${times[epoch]!.toFixed(0)} ms`,
      );
    }
    const trainable = new Set(frozen.variables.map((v) => v.layer));
    const flops = policyStepFlops(unet, o.batch, trainable, trainer.cache ? trainer.cache.split.prefixLayers : []);
    const later = times.slice(1);
    const epochMs = median(later);
    return {
      policy: o.train,
      images: o.images,
      batch: o.batch,
      trainable_params: frozen.variables.reduce((s, v) => s + v.variable.size, 0),
      cache: decision.used,
      cache_reason: decision.reason,
      cache_mb: decision.used ? r1((decision.memory_mb ?? 0) + (decision.disk_mb ?? 0)) : 0,
      first_epoch_ms: r1(times[0]!),
      epoch_ms: r1(epochMs),
      later_epochs_ms: later.map(r1),
      step_ms: r1(epochMs / Math.max(1, steps)),
      flops_share: Math.round(flops.share * 1000) / 1000,
      gflop_per_step: Math.round((flops.total / 1e9) * 100) / 100,
      gflop_per_step_all: Math.round((trainingStepFlops(unet, o.batch).total / 1e9) * 100) / 100,
    };
  } finally {
    trainer?.close();
    unet.model.dispose();
  }
}
