// What `model summary` shows: blocks and regions with parameter counts, as JSON and as the U drawn in
// text (encoder going down on the left, decoder coming up on the right, skips as arrows across).
import type { ModelFolder } from './folder.js';
import type { Region } from './layer-map.js';
import { isEncoderArch } from './options.js';

export interface ModelSummary {
  dir: string;
  architecture: ModelFolder['options'];
  parameters: number;
  trainableParameters: number;
  blocks: { block: string; region: Region; level: number; parameters: number; layers: number; resolution: string }[];
  regions: { region: Region; parameters: number; blocks: string[] }[];
  layers: { layer: string; block: string; kind: string; parameters: number }[];
  classes: ModelFolder['classes'];
  /** How the outputs become a segmentation (multiclass softmax, binary or multilabel sigmoid). */
  headMode: ModelFolder['headMode'];
  provenance: ModelFolder['provenance'];
  weights: ModelFolder['weights'] & { verified: true };
  warnings: string[];
}

/** Encoder U-Nets' stages start at stride 2 (enc1 is half the input), plain U-Nets' at full resolution. */
function stageShift(arch: string): number {
  return isEncoderArch(arch) ? 1 : 0;
}

export function summarize(f: ModelFolder): ModelSummary {
  const [h, w] = f.options.input;
  const shift = stageShift(f.options.arch);
  const res = (level: number) => `${h / 2 ** (level - 1 + shift)}x${w / 2 ** (level - 1 + shift)}`;
  return {
    dir: f.dir,
    architecture: f.options,
    parameters: f.layerMap.parameters,
    trainableParameters: f.layerMap.trainableParameters,
    blocks: f.layerMap.blocks.map((b) => ({
      block: b.name,
      region: b.region,
      level: b.level,
      parameters: b.parameters,
      layers: b.layers.length,
      resolution: res(b.level),
    })),
    regions: f.layerMap.regions().map((r) => ({ region: r.name, parameters: r.parameters, blocks: r.blocks })),
    layers: f.layerMap.layers.map((l) => ({ layer: l.name, block: l.block, kind: l.kind, parameters: l.parameters })),
    classes: f.classes,
    headMode: f.headMode,
    provenance: f.provenance,
    weights: { ...f.weights, verified: true },
    warnings: f.warnings,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The U in text: one row per level, the bottleneck at the bottom, the head beside dec1. */
export function drawU(s: ModelSummary): string[] {
  const depth = s.architecture.depth;
  const block = (name: string) => s.blocks.find((b) => b.block === name);
  const cell = (name: string) => {
    const b = block(name);
    return b ? `${name} ${fmt(b.parameters)}` : `${name} -`;
  };
  const [h, w] = s.architecture.input;
  const shift = stageShift(s.architecture.arch);
  const resolutions = Array.from({ length: depth + 1 }, (_, i) => `${h / 2 ** (i + shift)}x${w / 2 ** (i + shift)}`);
  const resWidth = Math.max(...resolutions.map((r) => r.length));
  const indent = (level: number) => 2 * (level - 1);
  const leftEnd = (level: number) => indent(level) + cell(`enc${level}`).length;
  let right0 = 0;
  for (let level = 1; level <= depth; level++) right0 = Math.max(right0, leftEnd(level) + indent(level) + 5);
  const lines: string[] = [];
  for (let level = 1; level <= depth; level++) {
    const left = ' '.repeat(indent(level)) + cell(`enc${level}`);
    const rightStart = right0 - indent(level);
    const arrow = ` ${'-'.repeat(Math.max(1, rightStart - left.length - 3))}> `;
    let row = `${resolutions[level - 1].padStart(resWidth)}  ${left}${arrow}${cell(`dec${level}`)}`;
    if (level === 1 && block('head')) row += ` --> ${cell('head')} --> ${h}x${w}x${s.architecture.classes} logits`;
    lines.push(row);
  }
  const bottom = ' '.repeat(indent(depth + 1)) + cell('bottleneck');
  lines.push(`${resolutions[depth].padStart(resWidth)}  ${bottom}`);
  return lines;
}

export function summaryText(s: ModelSummary): string[] {
  const a = s.architecture;
  const title = a.arch === 'adopted' ? 'adopted U-Net' : `${a.arch} U-Net`;
  const extra = a.arch === 'adopted' ? '' : `, dropout ${a.dropout}, ${a.upsample} up-sampling, seed ${a.seed}`;
  const head =
    s.headMode === 'binary'
      ? 'binary head (1 sigmoid channel)'
      : s.headMode === 'multilabel'
        ? `multilabel head (${a.classes} sigmoid labels)`
        : `${a.classes} classes`;
  const pct = (n: number) => `${((100 * n) / Math.max(1, s.parameters)).toFixed(1)}%`;
  return [
    `${s.dir}: ${title}, depth ${a.depth}, ${a.filters} filters, ${head}, input ${a.input.join('x')}${extra}`,
    `${fmt(s.parameters)} parameters (${fmt(s.trainableParameters)} trainable)`,
    '',
    ...drawU(s),
    '',
    `regions: ${s.regions.map((r) => `${r.region} ${fmt(r.parameters)} (${pct(r.parameters)})`).join(', ')}`,
    `weights: ${s.weights.files.join(', ')}, ${fmt(s.weights.bytes)} bytes, sha256 ${s.weights.sha256.slice(0, 16)}... verified`,
    `provenance: created by ${String(s.provenance.createdBy)} at ${String(s.provenance.createdAt)}${s.provenance.trainedOn ? `, trained on ${s.provenance.trainedOn.dataset}` : ''}${s.provenance.parent ? `, from ${s.provenance.parent.dir}` : ''}`,
    ...s.warnings.map((w) => `warning: ${w}`),
  ];
}
