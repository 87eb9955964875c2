// The package as a user gets it: `npm pack`, install the tarball into an empty folder, compile the README's
// TypeScript example (examples/finetune.ts) against the installed types with `tsc --strict`, and run it on a
// tiny model. It imports from 'unet-transfer' only, so it proves the public API, the exports map and the
// shipped .d.ts files (not src/). Installed with --ignore-scripts: the example runs on the JavaScript
// backend, which is enough for a 32x32 model. skipLibCheck as TF.js's own .d.ts files need (they do not
// compile under --strict themselves); the example's code is checked strictly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env, timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

test('the packed package installs, and the README example compiles under tsc --strict and runs', { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unet-packed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  run('npm', ['pack', '--silent', '--pack-destination', dir], root);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  assert.ok(tarball, 'npm pack wrote no tarball');
  const app = join(dir, 'app');
  run('mkdir', ['-p', app], dir);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--silent',
      join(dir, tarball),
      `@types/node@${JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')).version}`,
    ],
    app,
  );
  copyFileSync(join(root, 'examples', 'finetune.ts'), join(app, 'main.ts'));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmitOnError: true,
        skipLibCheck: true,
        types: ['node'],
      },
      files: ['main.ts'],
    }),
  );
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  const out = run(process.execPath, ['main.js', join(dir, 'work')], app, { ...process.env, UNET_TRANSFER_NO_NATIVE: '1' });
  const last = JSON.parse(out.trim().split('\n').pop()!) as { best: number; frozenEncoderMoved: boolean; report: string };
  assert.match(out, /epoch 2\/2: val mIoU 0\.\d+/);
  assert.equal(last.frozenEncoderMoved, false, 'decoder+head left the encoder as it was');
  assert.ok(last.best > 0 && last.best <= 1);
  assert.match(readFileSync(last.report, 'utf8'), /<html/);
});

test('the README shows the example exactly as examples/finetune.ts has it', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(
    readme.includes(readFileSync(join(root, 'examples', 'finetune.ts'), 'utf8').trim()),
    'README.md: the "Use it from TypeScript" example differs from examples/finetune.ts',
  );
});
