// Sets up whatever is missing, so that `npm test` and `npm run bench` work on a fresh clone:
// npm packages, Debian's oneDNN (libdnnl-dev), the native kernels and the TypeScript build.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const say = (m) => {
  if (!quiet) console.error(`[setup] ${m}`);
};
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

// 1. npm packages: install when node_modules is missing or older than the lock file.
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(join(root, 'package-lock.json')) > mtime(installed)) {
  say('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// Debian packages are installed only when missing, only as root, with one `apt-get update` per run.
const isRoot = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
let aptUpdated = false;
function aptInstall(pkg, why) {
  if (!isRoot) return false;
  say(`installing ${why}: apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  aptUpdated = true;
  return spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env }).status === 0;
}

// 2. oneDNN from Debian. Without it everything still runs, on the slow pure-JavaScript backend.
const DNNL_HEADER = '/usr/include/oneapi/dnnl/dnnl.hpp';
if (!existsSync(DNNL_HEADER)) aptInstall('libdnnl-dev', 'oneDNN');
const haveDnnl = existsSync(DNNL_HEADER);
if (!haveDnnl) {
  console.error(
    '[setup] WARNING: oneDNN is missing, so the native engine cannot be built and training will be very slow.\n' +
      '[setup]          Install it with: sudo apt-get install -y libdnnl-dev   then run this command again.',
  );
}

// 2b. `--peer` (npm run bench): Debian's PyTorch, the speed peer of `bench --peer`.
const haveTorch = () => spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
if (
  process.argv.includes('--peer') &&
  !haveTorch() &&
  !(aptInstall('python3-torch', 'the PyTorch peer') && aptInstall('python3-torchvision', 'the torchvision backbones of the encoder peers') && haveTorch())
) {
  console.error('[setup] WARNING: PyTorch is missing for `bench --peer`; install it with: sudo apt-get install -y python3-torch');
}

// 2c. `--browser` (npm test): Debian's Chromium for the report's browser test (test/report); never a downloaded browser.
if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium') && !aptInstall('chromium', 'Chromium for the report browser test')) {
  console.error('[setup] WARNING: /usr/bin/chromium is missing for the report browser test; install it with: sudo apt-get install -y chromium');
}

// 3. The native kernels (incremental).
if (haveDnnl) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.status !== 0) {
    console.error('[setup] ERROR: the native build failed (see above).');
    process.exit(1);
  }
}

// 4. TypeScript.
say('compiling TypeScript');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
