// Writes docs/api/ (the library's API reference, Markdown) from the types with TypeDoc (typedoc.json), so the
// reference cannot drift from the code. Usage: node scripts/api-reference.mjs [--check]
// (--check: write to a temporary folder and exit 1 if docs/api/ differs from it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const target = join(root, 'docs', 'api');
const out = check ? mkdtempSync(join(tmpdir(), 'unet-api-')) : target;

const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
const r = spawnSync(process.execPath, [typedoc, '--out', out, '--logLevel', 'Warn'], { cwd: root, encoding: 'utf8' });
if (r.status !== 0 || /\[warning\]/.test(r.stdout + r.stderr)) {
  process.stderr.write(r.stdout + r.stderr);
  console.error('TypeDoc failed or warned (see above)');
  process.exit(1);
}
if (!check) {
  console.log(`wrote ${target}`);
  process.exit(0);
}

const files = (dir) => {
  try {
    return readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort();
  } catch {
    return [];
  }
};
const want = files(out);
const have = files(target);
const stale = [...new Set([...want, ...have])].filter(
  (f) => !want.includes(f) || !have.includes(f) || readFileSync(join(out, f), 'utf8') !== readFileSync(join(target, f), 'utf8'),
);
rmSync(out, { recursive: true, force: true });
if (stale.length > 0) {
  console.error(`docs/api is out of date (${stale.join(', ')}): run \`node scripts/api-reference.mjs\``);
  process.exit(1);
}
