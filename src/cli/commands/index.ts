// Every CLI command, in the order `unet-transfer --help` lists them.
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { MODEL_COMMANDS } from './model.js';
import { modelImportCommand } from './import.js';
import { dataDigitsCommand, dataInspectCommand, dataWorldCommand } from './data.js';
import { TRAIN_COMMANDS } from './train.js';
import { ANALYSIS_COMMANDS } from './analysis.js';
import { SWEEP_COMMANDS } from './sweep.js';
import { reportCommand } from './report.js';
import { demoCommand } from './demo.js';
import { predictCommand } from './predict.js';

export const COMMANDS: Command[] = [
  demoCommand,
  benchCommand,
  ...MODEL_COMMANDS,
  modelImportCommand,
  dataDigitsCommand,
  dataWorldCommand,
  dataInspectCommand,
  ...TRAIN_COMMANDS,
  predictCommand,
  ...SWEEP_COMMANDS,
  ...ANALYSIS_COMMANDS,
  reportCommand,
];
