// The lint step of `npm test`: every source file is as Prettier (.prettierrc.json) writes it.
// `npm run format` rewrites them. Usage: node scripts/lint.mjs
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCES = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.mjs', 'bin/*.js'];

const prettier = join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const r = spawnSync(process.execPath, [prettier, '--check', '--log-level', 'warn', ...SOURCES], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('lint: the files above are not formatted as .prettierrc.json says; run `npm run format`');
  process.exit(1);
}
console.log('lint: every source file is formatted (Prettier)');
