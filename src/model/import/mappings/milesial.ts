// milesial/Pytorch-UNet (https://github.com/milesial/Pytorch-UNet) onto our `bn` U-Net:
//   inc.double_conv.{0,1,3,4}                    -> enc1_conv1, enc1_bn1, enc1_conv2, enc1_bn2
//   down{k}.maxpool_conv.1.double_conv.*          -> enc{k+1}_* (k < depth), bottleneck_* (k = depth)
//   up{k}.up (ConvTranspose2d, transposed mode)   -> dec{depth+1-k}_up
//            (bilinear mode: a weightless resize; the import then builds upsample milesial-bilinear)
//   up{k}.conv.double_conv.*                      -> dec{depth+1-k}_conv1/bn1/conv2/bn2
//   outc.conv                                     -> head_logits
// Its Up block concatenates [skip, up-sampled] where ours concatenates [up-sampled, skip], so the first
// conv of each decoder block gets its input channels reordered. BatchNorm's num_batches_tracked is a step
// counter, not a weight. A DataParallel `module.` (or any other) prefix is found and dropped.
import { UserError } from '../../../util/errors.js';
import type { Mapping, Assignment } from '../mapping.js';
import type { SourceWeights } from '../tensors.js';

const ANCHOR = 'inc.double_conv.0.weight';

/** True when the tensors look like a milesial U-Net. */
export function looksLikeMilesial(w: SourceWeights): boolean {
  return [...w.tensors.keys()].some((k) => k.endsWith(ANCHOR));
}

export function milesialMapping(w: SourceWeights): Mapping {
  const anchors = [...w.tensors.keys()].filter((k) => k === ANCHOR || k.endsWith(`.${ANCHOR}`));
  if (anchors.length !== 1) throw new UserError(`not a milesial/Pytorch-UNet state dict: expected one tensor named ${ANCHOR}, found ${anchors.length}`);
  const prefix = anchors[0].slice(0, -ANCHOR.length);
  const has = (n: string) => w.tensors.has(prefix + n);
  let depth = 0;
  while (has(`down${depth + 1}.maxpool_conv.1.double_conv.0.weight`)) depth++;
  if (depth < 2) throw new UserError(`milesial state dict: found ${depth} down blocks; at least 2 are needed`);
  const transposed = has('up1.up.weight');
  const assignments: Assignment[] = [];
  const skipped: Mapping['skipped'] = [];
  const src = (n: string) => prefix + n;
  const doubleConv = (from: string, block: string, skipChannels?: number) => {
    for (const [i, n] of [
      [0, 1],
      [3, 2],
    ] as const) {
      assignments.push({
        source: src(`${from}.double_conv.${i}.weight`),
        target: `${block}_conv${n}/kernel`,
        ...(n === 1 && skipChannels ? { moveFirstInputsLast: skipChannels } : {}),
      });
    }
    for (const [i, n] of [
      [1, 1],
      [4, 2],
    ] as const) {
      const bn = `${from}.double_conv.${i}`;
      assignments.push({ source: src(`${bn}.weight`), target: `${block}_bn${n}/gamma` });
      assignments.push({ source: src(`${bn}.bias`), target: `${block}_bn${n}/beta` });
      assignments.push({ source: src(`${bn}.running_mean`), target: `${block}_bn${n}/moving_mean` });
      assignments.push({ source: src(`${bn}.running_var`), target: `${block}_bn${n}/moving_variance` });
      if (has(`${bn}.num_batches_tracked`)) skipped.push({ name: src(`${bn}.num_batches_tracked`), reason: 'BatchNorm step counter, not a weight' });
    }
  };
  const outChannels = (n: string): number => {
    const t = w.tensors.get(src(n));
    if (!t || t.shape.length !== 4) throw new UserError(`milesial state dict: ${src(n)} is missing or not a 4-D conv weight`);
    return t.shape[0];
  };
  doubleConv('inc', 'enc1');
  for (let k = 1; k <= depth; k++) doubleConv(`down${k}.maxpool_conv.1`, k < depth ? `enc${k + 1}` : 'bottleneck');
  for (let k = 1; k <= depth; k++) {
    const level = depth + 1 - k;
    const block = `dec${level}`;
    if (transposed) {
      assignments.push({ source: src(`up${k}.up.weight`), target: `${block}_up/kernel` });
      assignments.push({ source: src(`up${k}.up.bias`), target: `${block}_up/bias` });
    }
    // The skip comes from the second conv of enc{level}.
    const skipFrom = level === 1 ? 'inc' : `down${level - 1}.maxpool_conv.1`;
    doubleConv(`up${k}.conv`, block, outChannels(`${skipFrom}.double_conv.3.weight`));
  }
  assignments.push({ source: src('outc.conv.weight'), target: 'head_logits/kernel' });
  assignments.push({ source: src('outc.conv.bias'), target: 'head_logits/bias' });
  return { name: 'milesial', assignments, skipped };
}
