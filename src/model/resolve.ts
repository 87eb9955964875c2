// Where a model is: a model folder (model.json), or a run folder whose best model is in model/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { badInputOption } from '../util/errors.js';

/** The model folder `dir` names: itself, or its model/ when it is a run folder. `option` names it in errors. */
export function resolveModelDir(dir: string, option: string): string {
  if (existsSync(join(dir, 'model.json'))) return dir;
  if (existsSync(join(dir, 'model', 'model.json'))) return join(dir, 'model');
  if (!existsSync(dir)) throw badInputOption(option, `${dir}: no such folder (expected a model folder or a run folder)`);
  if (existsSync(join(dir, 'run.json')))
    throw badInputOption(option, `${dir}: the run has not written its model yet (${join(dir, 'model')}); finish it with resume`);
  throw badInputOption(option, `${dir}: has no model.json, nor model/model.json (expected a model folder or a run folder)`);
}
