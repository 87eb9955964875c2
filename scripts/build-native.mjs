// Builds the native kernel families (native/binding.gyp) with node-gyp against the system oneDNN.
// Usage: node scripts/build-native.mjs [family ...]   (no family: all of them)
// Builds are incremental (make); a lock keeps parallel builds in one tree from racing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const require = createRequire(import.meta.url);
const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
const families = process.argv.slice(2);
const lockDir = join(nativeDir, '.build-lock');

function lock() {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lockDir);
      return;
    } catch {
      if (i > 1200) throw new Error(`native build lock ${lockDir} held for 10 minutes; remove it if no build runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}

lock();
try {
  const run = (args) => execFileSync(process.execPath, [nodeGyp, ...args], { cwd: nativeDir, stdio: 'inherit' });
  // Build against the headers of the running Node (no download: this machine may be offline).
  const prefix = dirname(dirname(process.execPath));
  const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '');
  // binding.gyp lists each family's *.cc when configured: configure again when that list changes.
  const sources = execFileSync('sh', ['-c', 'ls -1 src/*/*.cc'], { cwd: nativeDir }).toString();
  const stamp = join(nativeDir, 'build', 'sources.txt');
  const configured = existsSync(join(nativeDir, 'build', 'Makefile')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === sources;
  if (!configured) run(['configure', '--release', '--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])]);
  if (!configured) writeFileSync(stamp, sources);
  const jobs = `-j${cpus().length}`;
  const targets = families.map((f) => `unet_${f}`);
  execFileSync('make', ['-C', join(nativeDir, 'build'), 'BUILDTYPE=Release', jobs, ...targets], { stdio: 'inherit' });
} finally {
  rmSync(lockDir, { recursive: true, force: true });
}
