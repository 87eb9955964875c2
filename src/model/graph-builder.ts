// What every U-Net builder needs while wiring a functional model: each layer's block (and its name in
// the architecture it follows), and per-layer initialiser seeds derived from the model seed and the
// layer name, so that the same options give bitwise the same weights.
import * as tfl from '@tensorflow/tfjs-layers';

import type { LayerOrigin } from './layer-map.js';

type SymbolicTensor = tfl.SymbolicTensor;

/** FNV-1a of a string: gives every layer its own initialiser seed, derived from the model seed and its name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class GraphBuilder {
  readonly blockOf = new Map<string, string>();
  readonly origins = new Map<string, LayerOrigin>();

  constructor(readonly seed: number) {}

  layerSeed(name: string): number {
    return hashString(`${this.seed}:${name}`);
  }

  heNormal(name: string) {
    return tfl.initializers.heNormal({ seed: this.layerSeed(name) });
  }

  /** PyTorch's default conv init, kaiming_uniform(a=sqrt(5)): uniform +-1/sqrt(fan_in), i.e. variance scaling 1/3. */
  torchDefault(name: string) {
    return tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: this.layerSeed(name) });
  }

  glorot(name: string) {
    return tfl.initializers.glorotUniform({ seed: this.layerSeed(name) });
  }

  /** Applies `layer` to `x`, recording its block and (if given) its name in the source architecture. */
  apply(block: string, layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[], sourceName?: string): SymbolicTensor {
    this.blockOf.set(layer.name, block);
    if (sourceName !== undefined) this.origins.set(layer.name, { sourceName });
    return layer.apply(x) as SymbolicTensor;
  }

  /** Moves already applied layers to another block (a stage ends where its tap is, known only later). */
  reassign(names: Iterable<string>, block: string): void {
    for (const n of names) this.blockOf.set(n, block);
  }
}
