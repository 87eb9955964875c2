// Where a training step of the tiny MobileNetV2-like and ResNet-like U-Nets (bench/tiny_encoders.ts)
// goes: step time and every kernel of one step, native or JavaScript, with the JavaScript kernels' share.
// Not a test. Usage (after `npx tsc -p .`):
//   node dist/bench/tiny-encoder-profile.js [--encoder mobilenetv2|resnet|both] [--batch 8] [--size 128] [--steps 3] [--json]
import { parseArgs } from 'node:util';

import { benchModelStep } from './train_step.js';
import { buildTinyEncoderUNet, TINY_ENCODERS, type TinyEncoder } from './tiny_encoders.js';
import { useBestBackend } from '../src/engine/index.js';

const { values } = parseArgs({
  options: {
    encoder: { type: 'string', default: 'both' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '128' },
    steps: { type: 'string', default: '3' },
    classes: { type: 'string', default: '23' },
    json: { type: 'boolean', default: false },
  },
});
const backend = await useBestBackend('native');
const encoders: readonly TinyEncoder[] = values.encoder === 'both' ? TINY_ENCODERS : [values.encoder as TinyEncoder];
const size = Number(values.size);
for (const encoder of encoders) {
  const model = buildTinyEncoderUNet({ encoder, input: [size, size, 3], classes: Number(values.classes) });
  const r = benchModelStep(model, { batch: Number(values.batch), steps: Number(values.steps), warmup: 1, profile: true });
  model.dispose();
  const kernels = r.profile ?? [];
  const total = kernels.reduce((s, k) => s + k.ms, 0);
  const js = kernels.filter((k) => !k.native).reduce((s, k) => s + k.ms, 0);
  if (values.json) {
    console.log(JSON.stringify({ encoder, backend, ...r, kernel_ms: total, js_kernel_ms: js }));
    continue;
  }
  console.log(
    `${encoder}: ${r.parameters.toLocaleString('en-US')} parameters, step ${r.step_ms} ms, forward ${r.forward_ms} ms (batch ${values.batch}, ${size}x${size}, ${backend})`,
  );
  console.log(`  kernels ${total.toFixed(1)} ms, of which JavaScript ${js.toFixed(1)} ms (${((100 * js) / total).toFixed(1)}%)`);
  for (const k of kernels) {
    console.log(
      `  ${k.kernel.padEnd(28)} ${String(k.calls).padStart(5)} ${k.ms.toFixed(2).padStart(9)} ${((100 * k.ms) / total).toFixed(1).padStart(6)}%  ${k.native ? 'native' : 'JS'}`,
    );
  }
}
