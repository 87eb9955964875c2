// `model import`: bring a pretrained U-Net from PyTorch (.pth/.pt, .safetensors) or Keras (2/3 .h5, 3 .keras) into a
// model folder. The file is read as data only: no pickle code, no Lambda layer, nothing from it is run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { useBestBackend } from '../../engine/index.js';
import { importModel } from '../../model/import/import.js';
import { ARCHS, parseInputSize } from '../../model/options.js';
import { HEAD_MODES, type HeadMode } from '../../model/head_mode.js';
import { UsageError } from '../../util/errors.js';
import { choiceOption, intOption, type Command } from '../command.js';

export const modelImportCommand: Command = {
  name: 'model import',
  summary:
    'import pretrained weights (PyTorch state dict .pth/.pt, .safetensors, Keras 2/3 .h5, Keras 3 .keras) into a model folder, ' +
    'reading them as data only (no pickle code or Lambda layer is ever run); reports every tensor mapped, skipped or missed',
  usage: 'FILE --out DIR [--arch A] [--mapping milesial|keras-course|MAP.json] [--input HxW] [--head-mode M]',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'the model folder to write' },
    arch: {
      type: 'string',
      description: `our architecture: ${ARCHS.join(', ')} (default: bn for PyTorch files; for Keras files course when the file is the course U-Net, else the model is converted as it is: adopted)`,
    },
    mapping: {
      type: 'string',
      valueName: 'NAME|FILE',
      description:
        'milesial (milesial/Pytorch-UNet), keras-course (the course Keras U-Net), or a JSON file {"source name": "layer/weight"} (default: chosen from the tensor names)',
    },
    classes: { type: 'string', valueName: 'N', description: 'encoder archs (mobilenetv2, resnet18, resnet34): classes of the fresh head (default 23)' },
    input: { type: 'string', valueName: 'HxW', description: 'input height and width for the model (channels come from the weights; default 96x128)' },
    'allow-lambda': { type: 'boolean', description: 'import a Keras model with Lambda layers anyway (their code is not run; rebuild what they did yourself)' },
    'allow-missing': { type: 'boolean', description: 'save even if some of our weights have no source tensor (they keep a fresh initialisation)' },
    force: { type: 'boolean', description: 'replace a model already in --out' },
    'head-mode': {
      type: 'string',
      valueName: 'M',
      description: `${HEAD_MODES.join(', ')} (default: from the output activation: softmax multiclass, sigmoid binary or multilabel)`,
    },
  },
  examples: [
    'unet-transfer model import unet_carvana.pth --arch bn --input 320x480 --out models/carvana',
    'unet-transfer model import course_unet.h5 --out models/course',
    'unet-transfer model import unet_model.keras --out models/mine',
    'unet-transfer model import resnet34-b627a593.pth --arch resnet34 --classes 23 --input 128x128 --out models/r34',
    'unet-transfer model import other.safetensors --mapping my-map.json --arch classic --out models/other',
  ],
  async run(args, io) {
    if (args.positionals.length !== 1)
      throw new UsageError(`expected one weights FILE, got ${args.positionals.length === 0 ? 'none' : args.positionals.join(' ')}`);
    const file = args.positionals[0];
    const out = args.values.out;
    if (typeof out !== 'string' || out.length === 0) throw new UsageError('--out DIR is required (the model folder to write)');
    if (existsSync(join(out, 'model.json')) && args.values.force !== true)
      throw new UsageError(`${out} already holds a model (model.json); pass --force to replace it`);
    const arch = args.values.arch === undefined ? undefined : choiceOption(args, 'arch', ARCHS);
    let inputSize: [number, number] | undefined;
    if (args.values.input !== undefined) {
      const [h, w] = parseInputSize(String(args.values.input), '--input');
      inputSize = [h, w];
    }
    await useBestBackend('native', io.err);
    const r = await importModel({
      file,
      out,
      arch,
      mapping: typeof args.values.mapping === 'string' ? args.values.mapping : undefined,
      inputSize,
      allowLambda: args.values['allow-lambda'] === true,
      allowMissing: args.values['allow-missing'] === true,
      headMode: args.values['head-mode'] === undefined ? undefined : (String(args.values['head-mode']) as HeadMode),
      classes: args.values.classes === undefined ? undefined : intOption(args, 'classes', 1, 65536),
      provenance: { createdBy: 'unet-transfer model import' },
    });
    if (io.json) {
      io.out(JSON.stringify({ out, file, ...r }));
      return 0;
    }
    const o = r.options;
    io.out(
      `${out}: imported ${r.mapped.length} tensors from ${file} (${r.format}, mapping ${r.mapping}) into a ${o.arch} U-Net: depth ${o.depth}, filters ${o.filters}, ${r.headMode} head with ${o.classes} output channel${o.classes > 1 ? 's' : ''}, input ${o.input.join('x')}${'upsample' in o ? `, ${o.upsample} up-sampling` : ''}`,
    );
    if (!io.quiet) {
      io.out('mapped:');
      for (const m of r.mapped) io.out(`  ${m.source} -> ${m.target} [${m.shape.join(', ')}]`);
      io.out(`skipped (${r.skipped.length}):`);
      for (const s of r.skipped) io.out(`  ${s.name}: ${s.reason}`);
      io.out(`missed (${r.missed.length}):`);
      for (const m of r.missed) io.out(`  ${m}: not in the file, freshly initialised`);
    }
    for (const n of r.notes) io.err(`note: ${n}`);
    return 0;
  },
};
