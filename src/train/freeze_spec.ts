// Freeze specs (`--train SPEC`, ../shared/DESIGN.md): which layers are trainable; everything else is frozen.
//
//   all | none | a region (encoder, bottleneck, decoder, head) | a block (enc2, dec1) | a block range (enc1-2)
//   | a layer-name glob (dec*_up, *_bn*) | !selector (removes) ; joined by ',' or '+', read left to right.
//   A spec that starts with a removal starts from `all` ('!encoder' = everything but the encoder).
//   Named policies: full, scratch (all, from random init), shallow:K (the first K blocks from the input side),
//   deep:K (the last K blocks before the output: head, dec1, ...); `encoder+bottleneck` etc. are plain unions.
import { REGIONS, type Region } from '../model/layer-map.js';
import { badInputOption } from '../util/errors.js';

/** What a spec is resolved against: the model's blocks in U order (input side first) and its layers. */
export interface SpecTarget {
  blocks: readonly { name: string; region: Region }[];
  layers: readonly { name: string; block: string }[];
}

export interface ResolvedSpec {
  spec: string;
  /** Names of the trainable layers, in model order. */
  trainable: string[];
  /** Blocks with at least one trainable layer, in U order. */
  blocks: string[];
  /** `scratch`: train everything from a fresh initialisation instead of the pretrained weights. */
  fromScratch: boolean;
}

function blockList(t: SpecTarget): string {
  return t.blocks.map((b) => b.name).join(', ');
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** The layers one selector names (without its '!'). */
function select(selector: string, t: SpecTarget, spec: string): string[] {
  const layersOf = (blocks: Set<string>) => t.layers.filter((l) => blocks.has(l.block)).map((l) => l.name);
  const blockNames = t.blocks.map((b) => b.name);
  if (selector === 'all' || selector === 'full' || selector === 'scratch') return t.layers.map((l) => l.name);
  if ((REGIONS as readonly string[]).includes(selector)) {
    return layersOf(new Set(t.blocks.filter((b) => b.region === selector).map((b) => b.name)));
  }
  if (blockNames.includes(selector)) return layersOf(new Set([selector]));
  const depthPolicy = /^(shallow|deep):(\d+)$/.exec(selector);
  if (depthPolicy) {
    const k = Number(depthPolicy[2]);
    if (k < 1 || k > blockNames.length)
      throw badInputOption('train', `${spec}: ${depthPolicy[1]}:K needs K from 1 to ${blockNames.length} (the model's blocks: ${blockList(t)})`);
    const chosen = depthPolicy[1] === 'shallow' ? blockNames.slice(0, k) : blockNames.slice(-k);
    return layersOf(new Set(chosen));
  }
  const range = /^([a-z]+)(\d+)-(\d+)$/.exec(selector);
  if (range) {
    const [lo, hi] = [Number(range[2]), Number(range[3])].sort((a, b) => a - b);
    const chosen = new Set<string>();
    for (let i = lo; i <= hi; i++) {
      const name = `${range[1]}${i}`;
      if (!blockNames.includes(name)) throw badInputOption('train', `${spec}: the model has no block ${name} (its blocks: ${blockList(t)})`);
      chosen.add(name);
    }
    return layersOf(chosen);
  }
  if (/[*?]/.test(selector)) {
    const re = globToRegExp(selector);
    const matched = t.layers.filter((l) => re.test(l.name)).map((l) => l.name);
    if (matched.length === 0) throw badInputOption('train', `${spec}: the glob ${selector} matches no layer`);
    return matched;
  }
  throw badInputOption(
    'train',
    `${spec}: unknown selector "${selector}"; use all, a region (${REGIONS.join(', ')}), a block (${blockList(t)}), a block range like enc1-2, a layer glob like dec*_up, shallow:K or deep:K`,
  );
}

export function resolveTrainSpec(spec: string, t: SpecTarget): ResolvedSpec {
  const items = spec
    .split(/[,+]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw badInputOption('train', `: empty spec; name what to train, e.g. all, decoder, enc1-2 (blocks: ${blockList(t)})`);
  const chosen = new Set<string>(items[0].startsWith('!') ? t.layers.map((l) => l.name) : []);
  for (const item of items) {
    if (item === 'none') continue;
    const remove = item.startsWith('!');
    for (const name of select(remove ? item.slice(1) : item, t, spec)) {
      if (remove) chosen.delete(name);
      else chosen.add(name);
    }
  }
  const trainable = t.layers.map((l) => l.name).filter((n) => chosen.has(n));
  if (trainable.length === 0) {
    throw badInputOption('train', `${spec} selects nothing to train; name at least one of the blocks: ${blockList(t)} (or a region: ${REGIONS.join(', ')})`);
  }
  const blocksWithTrainable = new Set(t.layers.filter((l) => chosen.has(l.name)).map((l) => l.block));
  return {
    spec,
    trainable,
    blocks: t.blocks.map((b) => b.name).filter((b) => blocksWithTrainable.has(b)),
    fromScratch: items.includes('scratch'),
  };
}

/** The named policies a sweep runs by default (../shared/DESIGN.md). */
export const NAMED_POLICIES = ['full', 'scratch', 'encoder', 'decoder', 'bottleneck', 'head', 'decoder+head', 'encoder+bottleneck', 'shallow:2', 'deep:2'];
