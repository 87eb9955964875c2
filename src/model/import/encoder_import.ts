// `model import` of a torchvision ImageNet state dict into an encoder U-Net (resnet18, resnet34 from
// torchvision.models.resnet*, mobilenetv2 from torchvision.models.mobilenet_v2): the model is built in
// the torchvision flavour (symmetric padding, torchvision's BatchNorm epsilon), whose layer map records
// every encoder layer's torchvision module name; each of those layers takes `<module>.weight` (conv
// OIHW -> HWIO, depthwise [C, 1, kh, kw] -> [kh, kw, C, 1]) or BatchNorm's weight, bias and running
// statistics. Decoder and head keep their seeded fresh initialisation. The width multiplier comes from
// the weights' shapes; the classifier (fc.*, classifier.*) and what lies past the tutorial's last tap
// are reported as skipped, encoder weights the file lacks as missed.
import * as tf from '@tensorflow/tfjs-core';

import { UserError } from '../../util/errors.js';
import { saveModelFolder, type Provenance, type WeightsRecord } from '../folder.js';
import { namedNormalization, type EncoderArch, type UNetOptions } from '../options.js';
import { buildUNet } from '../unet.js';
import type { ImportResult } from './import.js';
import { torchKernelToTf } from './mapping.js';
import type { SourceTensor, SourceWeights } from './tensors.js';

export interface EncoderImportOptions {
  arch: EncoderArch;
  file: string;
  out: string;
  classes?: number;
  inputSize?: [number, number];
  seed?: number;
  allowMissing?: boolean;
  provenance?: Partial<Provenance>;
}

export type EncoderImportResult = ImportResult & { weights: WeightsRecord };

const BN_FIELDS: Record<string, string> = { gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };

/** A DataParallel / wrapper prefix (`module.`, `backbone.`, `encoder.`) before the anchor tensor's name. */
function findPrefix(w: SourceWeights, anchor: string, second: string, arch: string): string {
  // `conv1.weight` also ends `layer1.0.conv1.weight`: a prefix counts only if the second anchor follows it too.
  const hits = [...w.tensors.keys()].filter((k) => (k === anchor || k.endsWith(`.${anchor}`)) && w.tensors.has(k.slice(0, -anchor.length) + second));
  if (hits.length !== 1) {
    const sample = [...w.tensors.keys()].slice(0, 4).join(', ');
    throw new UserError(`not a torchvision ${arch} state dict: expected one tensor named ${anchor}, found ${hits.length} (the file has ${sample}, ...)`);
  }
  return hits[0]!.slice(0, -anchor.length);
}

function widthMultiplier(w: SourceWeights, arch: EncoderArch, prefix: string): number {
  const t = (n: string): SourceTensor => {
    const s = w.tensors.get(prefix + n);
    if (!s || s.shape.length !== 4) throw new UserError(`torchvision ${arch} state dict: ${prefix + n} is missing or not a 4-D conv weight`);
    return s;
  };
  if (arch === 'mobilenetv2') return t('features.17.conv.2.weight').shape[0]! / 320;
  const blocks = arch === 'resnet34' ? 'layer3.5.conv1.weight' : 'layer3.2.conv1.weight';
  const has34 = w.tensors.has(`${prefix}layer3.5.conv1.weight`);
  if ((arch === 'resnet34') !== has34)
    throw new UserError(
      `the file is a ${has34 ? 'resnet34' : 'resnet18'} state dict (${has34 ? 'it has' : 'no'} ${prefix}${blocks}); import it with arch ${has34 ? 'resnet34' : 'resnet18'}`,
    );
  return t('conv1.weight').shape[0]! / 64;
}

/** How a source tensor becomes the TF.js weight of one of our layers. */
function convert(t: SourceTensor, className: string, weight: string, target: number[]): Float32Array {
  if (weight === 'kernel' || weight === 'depthwise_kernel') {
    if (t.shape.length !== 4) throw new UserError(`${t.name}: expected a 4-D conv weight, got [${t.shape.join(', ')}]`);
    const hwio = torchKernelToTf(t); // [kh, kw, in, out]; a depthwise [C, 1, kh, kw] gives [kh, kw, 1, C], the same order as TF.js' [kh, kw, C, 1]
    const shape = className === 'DepthwiseConv2D' ? [hwio.shape[0]!, hwio.shape[1]!, hwio.shape[3]!, 1] : hwio.shape;
    if (shape.join('x') !== target.join('x')) throw new UserError(`${t.name} is [${t.shape.join(', ')}], which does not fit our [${target.join(', ')}]`);
    return hwio.data;
  }
  if (t.shape.length !== 1 || t.shape[0] !== target[0])
    throw new UserError(`${t.name} is [${t.shape.join(', ')}], which does not fit our [${target.join(', ')}]`);
  return t.data;
}

function skipReason(name: string, arch: EncoderArch): string {
  if (/num_batches_tracked$/.test(name)) return 'BatchNorm step counter, not a weight';
  if (/^(fc|classifier)\./.test(name)) return 'the ImageNet classifier, not part of the encoder';
  if (arch === 'mobilenetv2' && /^features\.(17\.conv\.3|18)\./.test(name))
    return 'after block_16_project (features.17.conv.2), where the tutorial taps the encoder';
  return 'no layer of our encoder has this name';
}

export async function importEncoderModel(source: SourceWeights, o: EncoderImportOptions): Promise<EncoderImportResult> {
  if (source.layout !== 'torch')
    throw new UserError(`${o.file}: arch ${o.arch} imports torchvision state dicts (PyTorch layout); this is a ${source.format} file`);
  const anchor = o.arch === 'mobilenetv2' ? 'features.0.0.weight' : 'conv1.weight';
  const prefix = findPrefix(source, anchor, o.arch === 'mobilenetv2' ? 'features.1.conv.0.0.weight' : 'layer1.0.conv1.weight', o.arch);
  const alpha = widthMultiplier(source, o.arch, prefix);
  const [h, w] = o.inputSize ?? [128, 128];
  const channels = source.tensors.get(prefix + anchor)!.shape[1]!;
  const unet = buildUNet({
    arch: o.arch,
    alpha,
    flavour: 'torchvision',
    classes: o.classes,
    input: [h, w, channels],
    seed: o.seed ?? 0,
    inputNormalization: channels === 3 ? namedNormalization('imagenet', 3) : namedNormalization('unit', channels),
  });
  try {
    const mapped: ImportResult['mapped'] = [];
    const missed: string[] = [];
    const used = new Set<string>();
    const loaded: string[] = [];
    let fresh = 0;
    for (const info of unet.layerMap.layers) {
      const layer = unet.model.getLayer(info.name);
      if (layer.weights.length === 0) continue;
      if (info.region !== 'encoder' && info.region !== 'bottleneck') {
        fresh += layer.weights.length;
        continue;
      }
      const values = layer.weights.map((v) => {
        const short = v.originalName.slice(v.originalName.lastIndexOf('/') + 1);
        const field = info.kind === 'bn' ? BN_FIELDS[short] : short === 'kernel' || short === 'depthwise_kernel' ? 'weight' : undefined;
        const name = field && info.sourceName !== undefined ? `${prefix}${info.sourceName}.${field}` : undefined;
        const t = name ? source.tensors.get(name) : undefined;
        if (!t) {
          missed.push(`${v.originalName}${name ? ` (${name})` : ''}`);
          return v.read().clone();
        }
        const data = convert(t, info.className, short, v.shape as number[]);
        used.add(t.name);
        mapped.push({ source: t.name, target: v.originalName, shape: v.shape as number[] });
        return tf.tensor(data, v.shape as number[], 'float32');
      });
      layer.setWeights(values);
      tf.dispose(values);
      if (values.length > 0) loaded.push(info.name);
    }
    if (missed.length && !o.allowMissing) {
      throw new UserError(
        `${missed.length} encoder weights of our ${o.arch} have no tensor in ${o.file}: ${missed.slice(0, 6).join(', ')}${missed.length > 6 ? ', ...' : ''}; pass --allow-missing to keep their fresh initialisation`,
      );
    }
    const skipped = [
      ...source.skipped,
      ...[...source.tensors.keys()].filter((n) => !used.has(n)).map((name) => ({ name, reason: skipReason(name.slice(prefix.length), o.arch) })),
    ];
    const notes = [...source.notes, `decoder and head: ${fresh} weights keep their seeded fresh initialisation (seed ${unet.options.seed})`];
    if (alpha !== 1) notes.push(`width multiplier ${alpha} (from the weights' shapes)`);
    const provenance: Partial<Provenance> = {
      createdAt: new Date().toISOString(),
      trainedOn: null,
      parent: null,
      importedFrom: { file: o.file, format: source.format, mapping: `torchvision-${o.arch}`, mapped: mapped.length, skipped: skipped.length, missed },
      pretrained: {
        weights: 'torchvision state dict',
        encoder:
          o.arch === 'mobilenetv2'
            ? 'torchvision mobilenet_v2 features up to features.17.conv.2 (block_16_project)'
            : `torchvision ${o.arch} (conv1, bn1, layer1..layer4)`,
        inputNormalization: 'ImageNet mean/std on [0, 1], as torchvision',
        padding: 'symmetric (ZeroPadding2D + valid conv), as torchvision',
      },
      ...o.provenance,
    };
    const marked = { ...unet, layerMap: unet.layerMap.withPretrained(unet.model, loaded) };
    const record = await saveModelFolder(o.out, marked, { provenance });
    return {
      format: source.format,
      mapping: `torchvision-${o.arch}`,
      options: unet.options,
      headMode: 'multiclass',
      mapped,
      skipped,
      missed,
      notes,
      weights: record,
    };
  } finally {
    unet.model.dispose();
  }
}
