// Every CLI command, in the order `unet-transfer --help` lists them.
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';

export const COMMANDS: Command[] = [benchCommand];
