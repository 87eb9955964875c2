// The API reference in docs/api/ is generated from the types by TypeDoc; this fails when it is stale.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('docs/api is generated from the current exports and their doc comments', () => {
  const r = spawnSync(process.execPath, ['scripts/api-reference.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
