// A tiny sweep setting: 32x32 digit scenes (3 digit classes), a depth-2 F=4 U-Net, CLI in a child process.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DEFAULT_DIGIT_SCENES, generateDigitScenes } from '../../src/data/index.js';
import { useBestBackend } from '../../src/engine/index.js';
import { buildUNet, saveModelFolder } from '../../src/model/index.js';

export const BIN = fileURLToPath(new URL('../../../bin/unet-transfer.js', import.meta.url));
export const EVIL = '<script>alert(1)</script>';

/** Data (class 1 renamed to EVIL when asked) and a pretrained-stand-in model in DIR/data and DIR/model. */
export async function tinySetting(dir: string, o: { evilName?: boolean } = {}): Promise<{ data: string; model: string }> {
  await useBestBackend('native', () => {});
  const data = join(dir, 'data');
  await generateDigitScenes(data, { ...DEFAULT_DIGIT_SCENES, size: 32, count: 8, valCount: 4, digits: [0, 2], seed: 0 });
  if (o.evilName) {
    const file = join(data, 'classes.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { classes: { id: number; name: string }[] };
    json.classes.find((c) => c.id === 1)!.name = EVIL;
    writeFileSync(file, JSON.stringify(json));
  }
  const unet = buildUNet({ arch: 'course', depth: 2, filters: 4, classes: 4, input: [32, 32, 1], seed: 1 });
  const model = join(dir, 'model');
  await saveModelFolder(model, unet);
  unet.model.dispose();
  return { data, model };
}

export const sweepArgs = (s: { data: string; model: string }, out: string) => [
  'sweep',
  '--model',
  s.model,
  '--data',
  s.data,
  '--policies',
  'full,decoder,head',
  '--seeds',
  '1',
  '--epochs',
  '1',
  '--batch',
  '4',
  '--lr',
  '0.01',
  '--out',
  out,
];

export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
