// `demo [--quick] [--domain world|digits] [--out DIR]`: the question this tool answers, on a model that ships
// with it: which layers to fine-tune for input-level and output-level domain shifts, at what cost; one report.
import { resolve } from 'node:path';

import { runDemo } from '../../demo/run.js';
import { DEMO_DOMAINS, type DomainName, type PresetName } from '../../demo/presets.js';

import type { PrecisionSetting } from '../../engine/index.js';
import { UsageError } from '../../util/errors.js';
import type { Command } from '../command.js';

const PRESETS = DEMO_DOMAINS.world.presets;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'which layers to fine-tune, shown end to end: the shipped town16 model on night, indoor and toon scenes (sweeps, analysis, advisor), one report',
  usage: '[--quick] [--domain world|digits] [--precision fp32|bf16|auto] [--out DIR] [--force] [--json]',
  options: {
    quick: {
      type: 'boolean',
      description: `a smaller run (${PRESETS.quick.policies.length} policies, ${PRESETS.quick.seeds} seed, ${PRESETS.quick.epochs} epochs, ${PRESETS.quick.train} training frames per shift; under a minute and a half on 2 cores) instead of the full one (${PRESETS.full.policies.length} policies, ${PRESETS.full.seeds} seeds, ${PRESETS.full.epochs} epochs, ${PRESETS.full.train} frames; under 15 minutes)`,
    },
    // The tests' configuration: the same code path in seconds (not listed in --help's examples).
    tiny: { type: 'boolean', description: 'the smallest configuration (2 policies, 1 epoch, 16 scenes; for tests: its numbers mean little)' },
    domain: {
      type: 'string',
      valueName: 'world|digits',
      description:
        'world (default): models/town16, the course U-Net pretrained on rendered town streets by day, on night streets, indoor rooms (a new head) and the toon look; digits: models/digits04 on speckled digits and new digits (the demo of earlier versions)',
    },
    out: {
      type: 'string',
      valueName: 'DIR',
      description: 'the demo folder: data, one sweep folder per shift, report.html (default runs/demo, or runs/demo-quick with --quick); rerunning resumes it',
    },
    force: { type: 'boolean', description: 'start over in a demo folder that holds a demo with other settings' },
    'trial-processes': {
      type: 'boolean',
      description: 'run each fine-tune in its own process (per-trial peak memory in the report; about 1-2 s more per trial)',
    },
    precision: {
      type: 'string',
      valueName: 'P',
      description:
        "the fine-tunes' convolutions in fp32 (default), bf16 (mixed precision, on CPUs with AVX512-BF16 or AMX) or auto (bf16 where the CPU has it)",
    },
  },
  examples: [
    'unet-transfer demo --quick',
    'unet-transfer demo --out runs/demo',
    'unet-transfer demo --quick --domain digits',
    'unet-transfer demo --quick --precision auto',
    'npm run demo   # sets up what is missing first',
  ],
  async run(args, io) {
    if (args.positionals.length)
      throw new UsageError(`demo takes no positional arguments, got ${JSON.stringify(args.positionals[0])} (the folder goes in --out)`);
    if (args.values.quick && args.values.tiny) throw new UsageError('--quick and --tiny are two sizes of the demo; give one');
    const domain = (typeof args.values.domain === 'string' ? args.values.domain : 'world') as DomainName;
    if (!(domain in DEMO_DOMAINS)) throw new UsageError(`--domain: expected ${Object.keys(DEMO_DOMAINS).join(' or ')}, got ${JSON.stringify(domain)}`);
    const name: PresetName = args.values.tiny ? 'tiny' : args.values.quick ? 'quick' : 'full';
    const out = resolve(typeof args.values.out === 'string' ? args.values.out : name === 'full' ? 'runs/demo' : `runs/demo-${name}`);
    const chatty = !io.json && !io.quiet;
    const r = await runDemo({
      out,
      preset: DEMO_DOMAINS[domain].presets[name],
      domain,
      force: args.values.force === true,
      trialProcesses: args.values['trial-processes'] === true,
      precision: typeof args.values.precision === 'string' ? (args.values.precision as PrecisionSetting) : undefined,
      log: chatty ? io.err : undefined,
    });
    if (io.json) {
      io.out(
        JSON.stringify({
          report: r.report,
          dir: r.dir,
          preset: r.preset.name,
          summary: r.summary,
          seconds: r.seconds,
          shifts: r.shifts.map((s) => ({ ...s, summary: undefined })),
        }),
      );
      return r.shifts.some((s) => s.failed.length) ? 1 : 0;
    }
    io.out(`report: ${r.report}`);
    for (const l of r.summary) io.out(l);
    if (!io.quiet) io.out(`(${r.seconds.total!.toFixed(0)} s on the ${r.backend} backend; open the report in a browser; rerun with the same --out to resume)`);
    for (const s of r.shifts) for (const f of s.failed) io.err(`${s.key}: trial ${f.index} failed: ${f.message}`);
    return r.shifts.some((s) => s.failed.length) ? 1 : 0;
  },
};
