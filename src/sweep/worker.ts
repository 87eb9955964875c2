// A trial process, as the sweep driver (driver.ts) starts it: `node worker.js DIR INDEX` runs trial INDEX
// of the sweep in DIR and prints one JSON line on stdout ({status, index, result | heldBy}); a failure
// prints its message as the last line on stderr and exits 1.
import { UserError } from '../util/errors.js';
import { watchParent } from './driver.js';
import { runTrial } from './run.js';

const [dir, indexText] = process.argv.slice(2);
const index = Number(indexText);
if (!dir || !Number.isInteger(index) || index < 0) {
  process.stderr.write('usage: node worker.js SWEEP_DIR TRIAL_INDEX\n');
  process.exit(2);
}
watchParent();
try {
  // The driver is the only worker for this index: a lock from another machine is a dead worker's.
  const r = await runTrial(dir, index, { log: (l) => process.stderr.write(`${l}\n`), ignoreForeignLock: true });
  process.stdout.write(`${JSON.stringify({ status: r.status, index, ...('result' in r ? { result: r.result } : { heldBy: r.heldBy }) })}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof UserError ? e.message : ((e as Error).stack ?? String(e))}\n`);
  process.exitCode = 1;
}
