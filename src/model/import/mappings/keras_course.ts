// The Deep Learning Specialization's Keras U-Net onto our `course` U-Net. Keras names layers by creation
// order (conv2d, conv2d_1, ..., conv2d_transpose, conv2d_transpose_1, ...; the numbers shift when a notebook
// built other models first), so layers are matched by class and order of appearance in the file, which
// follows the model's construction: the Conv2D layers are enc1_conv1, enc1_conv2, ..., bottleneck_conv2,
// decD_conv1, ..., dec1_conv2, head_conv, head_logits; the Conv2DTranspose layers decD_up .. dec1_up.
import { UserError } from '../../../util/errors.js';
import type { Assignment, Mapping } from '../mapping.js';
import type { SourceWeights } from '../tensors.js';

function classOf(w: SourceWeights, layer: string): string | undefined {
  const fromConfig = w.layerClasses?.get(layer);
  if (fromConfig) return fromConfig;
  if (/^conv2d_transpose(_\d+)?$/.test(layer)) return 'Conv2DTranspose';
  if (/^conv2d(_\d+)?$/.test(layer)) return 'Conv2D';
  return undefined;
}

export function kerasCourseMapping(w: SourceWeights): Mapping {
  const layers: string[] = [];
  for (const name of w.tensors.keys()) {
    const layer = name.slice(0, name.lastIndexOf('/'));
    if (!layers.includes(layer)) layers.push(layer);
  }
  const convs = layers.filter((l) => classOf(w, l) === 'Conv2D');
  const ups = layers.filter((l) => classOf(w, l) === 'Conv2DTranspose');
  const others = layers.filter((l) => !convs.includes(l) && !ups.includes(l));
  const depth = ups.length;
  if (depth < 2 || convs.length !== 4 * depth + 4) {
    throw new UserError(
      `not the course U-Net: expected D Conv2DTranspose layers and 4D+4 Conv2D layers (D = depth), found ${ups.length} and ${convs.length}` +
        `${others.length ? `, plus layers with weights of other kinds (${others.slice(0, 5).join(', ')})` : ''}; use options.mapping FILE for other U-Nets`,
    );
  }
  if (others.length)
    throw new UserError(
      `not the course U-Net: layers with weights of other kinds (${others.slice(0, 5).join(', ')}); use options.mapping FILE for other U-Nets`,
    );
  const ours: string[] = [];
  for (let l = 1; l <= depth; l++) ours.push(`enc${l}_conv1`, `enc${l}_conv2`);
  ours.push('bottleneck_conv1', 'bottleneck_conv2');
  for (let l = depth; l >= 1; l--) ours.push(`dec${l}_conv1`, `dec${l}_conv2`);
  ours.push('head_conv', 'head_logits');
  const assignments: Assignment[] = [];
  const skipped: Mapping['skipped'] = [];
  const assign = (src: string, dst: string) => {
    for (const wname of ['kernel', 'bias']) {
      if (!w.tensors.has(`${src}/${wname}`)) throw new UserError(`layer ${src} has no ${wname}`);
      assignments.push({ source: `${src}/${wname}`, target: `${dst}/${wname}` });
    }
    for (const name of w.tensors.keys()) {
      if (name.startsWith(`${src}/`) && !/\/(kernel|bias)$/.test(name)) skipped.push({ name, reason: 'not a kernel or bias' });
    }
  };
  convs.forEach((c, i) => assign(c, ours[i]));
  ups.forEach((u, i) => assign(u, `dec${depth - i}_up`));
  return { name: 'keras-course', assignments, skipped };
}
