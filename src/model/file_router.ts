// A read-only `file://` loader for stock `tf.loadLayersModel('file:///path/model.json')` in Node without
// @tensorflow/tfjs-node (which registers one of its own, and cannot be installed offline). It reads the
// model.json and the weight files its manifest names, each of which must stay inside the model's folder.
// Browser-safe to import: Node's fs is only looked up when a file:// URL is loaded.
import * as tf from '@tensorflow/tfjs-core';

type Fs = typeof import('node:fs');
type Path = typeof import('node:path');

const nodeModule = <T>(name: string): T | null => {
  const get = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process?.getBuiltinModule;
  return get ? (get(name) as T) : null;
};

class FileLoader implements tf.io.IOHandler {
  constructor(private readonly file: string) {}

  async load(): Promise<tf.io.ModelArtifacts> {
    const fs = nodeModule<Fs>('node:fs');
    const path = nodeModule<Path>('node:path');
    if (!fs || !path) throw new Error('file:// models load in Node only');
    const json = JSON.parse(fs.readFileSync(this.file, 'utf8')) as tf.io.ModelJSON;
    const dir = path.dirname(this.file);
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Uint8Array[] = [];
    for (const group of json.weightsManifest ?? []) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const full = path.resolve(dir, p);
        if (path.relative(dir, full).startsWith('..') || path.isAbsolute(p) || /^[a-z]+:/i.test(p))
          throw new Error(`${this.file}: weight path ${JSON.stringify(p)} leaves the model folder`);
        buffers.push(fs.readFileSync(full));
      }
    }
    const total = buffers.reduce((s, b) => s + b.byteLength, 0);
    const weightData = new Uint8Array(total);
    let at = 0;
    for (const b of buffers) {
      weightData.set(b, at);
      at += b.byteLength;
    }
    return {
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      weightSpecs: specs,
      weightData: weightData.buffer,
    };
  }
}

let registered = false;

/** Registers the `file://` loader once (unless TF.js already has one, e.g. from tfjs-node). */
export function registerFileRouter(): void {
  if (registered) return;
  registered = true;
  if (tf.io.getLoadHandlers('file:///probe/model.json').length > 0) return;
  tf.io.registerLoadRouter(((url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    if (typeof u !== 'string' || !u.startsWith('file://')) return null;
    return new FileLoader(decodeURIComponent(u.slice('file://'.length)));
  }) as Parameters<typeof tf.io.registerLoadRouter>[0]);
}
