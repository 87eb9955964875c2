// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const files = readdirSync(join(root, 'dist', 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => join('dist', 'test', f));
if (files.length === 0) {
  console.error(`no test files match ${only.join(' ')}`);
  process.exit(1);
}
// Tests run with the buffer pool in poison mode (src/engine/buffer_pool.ts): every kernel output starts as
// garbage, so a kernel that does not write all of its output fails instead of passing on zeroed memory.
const env = { ...process.env, UNET_TRANSFER_POOL_POISON: process.env.UNET_TRANSFER_POOL_POISON ?? '1' };
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
