import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { isTempFileName, tempPathFor, writeFileAtomic, writeJsonAtomic } from '../../src/util/atomic.js';
import { tempDir } from './helpers.js';

test('writeFileAtomic replaces a file whole and leaves no temp file behind', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.json');
  writeFileSync(path, 'old');
  writeFileAtomic(path, 'new content');
  assert.equal(readFileSync(path, 'utf8'), 'new content');
  writeJsonAtomic(path, { x: 1 });
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { x: 1 });
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('a failed atomic write keeps the old file and removes its temp file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'missing-folder', 'a.bin');
  assert.throws(() => writeFileAtomic(path, new Uint8Array(4)), /ENOENT/);
  assert.deepEqual(readdirSync(dir), []);
});

test('temp names live beside the target and are recognisable', () => {
  const tmp = tempPathFor('/some/dir/model.json');
  assert.match(tmp, /^\/some\/dir\/\.model\.json\.tmp-\d+-[0-9a-f]{8}$/);
  assert.ok(isTempFileName(tmp.split('/').pop()!));
  assert.ok(!isTempFileName('model.json'));
});
