// `npm install unet-transfer`: builds the native kernels when oneDNN's headers are there (Debian:
// libdnnl-dev), and otherwise says how to get them; the package then runs on the slow JavaScript backend.
// Never fails the install. In this repository's own checkout, scripts/setup.mjs builds them instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, '.git'))) process.exit(0); // a checkout: setup.mjs builds (and reports) it
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) {
  console.error(
    'unet-transfer: oneDNN is missing, so the native engine is not built and training will be slow.\n' +
      'unet-transfer: install it (Debian: sudo apt-get install -y libdnnl-dev), then run: npm rebuild unet-transfer',
  );
  process.exit(0);
}
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) console.error('unet-transfer: the native build failed (see above); the package runs on the slow JavaScript backend.');
