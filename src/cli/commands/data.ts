// `data digits` (built-in MNIST digit scenes, optionally shifted), `data world` (built-in video-game
// scenes: town streets and rooms, in several looks) and `data inspect` (what a folder data set holds, what
// is wrong with it, and a contact sheet to look at).
import { join } from 'node:path';

import { UsageError, UserError } from '../../util/errors.js';
import { intOption, type Command } from '../command.js';
import { DEFAULT_DIGIT_SCENES, generateDigitScenes, type DigitSceneOptions } from '../../data/digit-scenes.js';
import { describeBad } from '../../data/folder-dataset.js';
import { inspectDataset } from '../../data/inspect.js';
import { parseShifts, SHIFT_NAMES } from '../../data/shifts.js';
import { DEFAULT_WORLD_OPTIONS, STYLES, WORLDS, writeWorldScenes, type WorldName, type WorldStyle } from '../../data/world/index.js';

/** "A-B" or "A" as a numeric range; integers only unless `float`. */
export function rangeOption(raw: unknown, name: string, float = false): [number, number] {
  const text = String(raw);
  const m = /^\s*([0-9.]+)\s*(?:-\s*([0-9.]+)\s*)?$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  const ok = Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi && (float || (Number.isInteger(lo) && Number.isInteger(hi)));
  if (!ok) throw new UsageError(`--${name} must be a range like ${float ? '0.3-0.5' : '1-3'} (low-high, low <= high), got ${JSON.stringify(text)}`);
  return [lo, hi];
}

/** --max-megapixels as a pixel count. */
export function maxPixelsOption(raw: unknown): number {
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(v) || v <= 0 || v > 10_000)
    throw new UsageError(`--max-megapixels must be a number above 0 and at most 10000, got ${JSON.stringify(raw)}`);
  return Math.round(v * 1e6);
}

export const dataDigitsCommand: Command = {
  name: 'data digits',
  summary: 'write a segmentation data set of real MNIST digit scenes, optionally with a domain shift',
  usage: '--out DIR [--size 64] [--count 2000] [--digits 0-4] [--per-image 1-3] [--shift SPEC] [--seed S]',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'folder to write (train/, val/, classes.json, scenes.jsonl)' },
    size: { type: 'string', default: String(DEFAULT_DIGIT_SCENES.size), valueName: 'PX', description: 'canvas side in pixels' },
    count: {
      type: 'string',
      default: String(DEFAULT_DIGIT_SCENES.count),
      valueName: 'N',
      description: 'training scenes (digits from the MNIST training split)',
    },
    'val-count': { type: 'string', valueName: 'N', description: 'validation scenes (digits from the MNIST test split; default count/4, 0 for none)' },
    digits: { type: 'string', default: '0-4', valueName: 'A-B', description: 'digit range: class 1 is digit A, class 2 is A+1, ... (0 is background)' },
    'per-image': { type: 'string', default: '1-3', valueName: 'A-B', description: 'digits per scene' },
    scale: { type: 'string', default: '0.3-0.5', valueName: 'A-B', description: 'digit side as a fraction of the canvas side' },
    threshold: {
      type: 'string',
      default: String(DEFAULT_DIGIT_SCENES.threshold),
      valueName: 'V',
      description: "stroke intensity (1-255) from which a pixel is the digit's class",
    },
    shift: {
      type: 'string',
      default: 'none',
      valueName: 'SPEC',
      description: `input-level shifts applied in order, e.g. speckle:0.5,blur:1.5 (${SHIFT_NAMES.join(', ')})`,
    },
    seed: { type: 'string', default: '0', valueName: 'S', description: 'random seed: the same seed gives byte-identical files' },
    force: { type: 'boolean', description: 'replace DIR if it exists and is not empty' },
  },
  examples: [
    'unet-transfer data digits --out data/source --digits 0-4',
    'unet-transfer data digits --out data/speckle --digits 0-4 --shift speckle:0.5,blur:1 --seed 1   # input-level shift',
    'unet-transfer data digits --out data/newdigits --digits 5-9 --seed 2                           # output-level shift',
  ],
  async run(args, io) {
    const out = args.values.out;
    if (typeof out !== 'string' || out === '') throw new UsageError('--out DIR is required (the folder to write the data set to)');
    if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])} (the output folder goes in --out)`);
    const count = intOption(args, 'count', 1, 10_000_000);
    const opts: DigitSceneOptions = {
      size: intOption(args, 'size', 16, 2048),
      count,
      valCount: args.values['val-count'] === undefined ? Math.max(1, Math.round(count / 4)) : intOption(args, 'val-count', 0, 10_000_000),
      digits: rangeOption(args.values.digits, 'digits'),
      perImage: rangeOption(args.values['per-image'], 'per-image'),
      scale: rangeOption(args.values.scale, 'scale', true),
      threshold: intOption(args, 'threshold', 1, 255),
      shifts: parseShifts(String(args.values.shift)),
      seed: intOption(args, 'seed', 0, 2 ** 32 - 1),
    };
    const summary = await generateDigitScenes(out, opts, {
      force: args.values.force === true,
      onProgress: io.json || io.quiet ? undefined : (done, total) => io.err(`  ${done}/${total} scenes`),
    });
    if (io.json) {
      io.out(JSON.stringify(summary));
      return 0;
    }
    const shift = summary.shift as { input: string[]; output: { description: string } | null };
    io.out(
      `wrote ${summary.train} training and ${summary.val} validation scenes (${opts.size}x${opts.size}) to ${summary.out} in ${summary.seconds.toFixed(1)} s`,
    );
    io.out(`classes: ${summary.classes.map((c) => `${c.id}=${c.name}`).join(', ')}`);
    io.out(`input shift: ${shift.input.length ? shift.input.join(', ') : 'none'}; output shift: ${shift.output ? shift.output.description : 'none'}`);
    return 0;
  },
};

/** --size HxW (e.g. 96x128) as [height, width]. */
export function sizeOption(raw: unknown, name = 'size'): [number, number] {
  const m = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(String(raw));
  if (!m) throw new UsageError(`--${name} must be HEIGHTxWIDTH in pixels like 96x128, got ${JSON.stringify(raw)}`);
  return [Number(m[1]), Number(m[2])];
}

export const dataWorldCommand: Command = {
  name: 'data world',
  summary: 'write a segmentation data set of rendered video-game scenes: town streets (CARLA classes) or rooms',
  usage: '--world town|indoor --out DIR [--style day|night|fog|toon|retro] [--count N] [--size 96x128] [--seed S]',
  options: {
    world: {
      type: 'string',
      valueName: 'W',
      description: `${WORLDS.join(' or ')}: a street seen from a car (CARLA's 23 classes and colours) or rooms (15 classes)`,
    },
    style: {
      type: 'string',
      default: DEFAULT_WORLD_OPTIONS.style,
      valueName: 'S',
      description: `the look (${STYLES.join(', ')}); it changes the pictures, never the masks`,
    },
    count: { type: 'string', default: '1000', valueName: 'N', description: 'frames in all (training and validation)' },
    size: {
      type: 'string',
      default: `${DEFAULT_WORLD_OPTIONS.size[0]}x${DEFAULT_WORLD_OPTIONS.size[1]}`,
      valueName: 'HxW',
      description: 'frame height x width in pixels',
    },
    'val-fraction': {
      type: 'string',
      default: String(DEFAULT_WORLD_OPTIONS.valFraction),
      valueName: 'F',
      description: 'share of the frames written to val/ (0 for none)',
    },
    seed: {
      type: 'string',
      default: '0',
      valueName: 'S',
      description: 'random seed: the same seed gives byte-identical files, in every style the same scenes',
    },
    out: { type: 'string', valueName: 'DIR', description: 'folder to write (train/, val/, classes.json, scenes.jsonl)' },
    force: { type: 'boolean', description: 'replace DIR if it exists and is not empty' },
  },
  examples: [
    'unet-transfer data world --world town --count 1500 --out data/town',
    'unet-transfer data world --world town --style night --count 500 --seed 1 --out data/town-night   # input-level shift',
    'unet-transfer data world --world indoor --count 500 --seed 2 --out data/rooms                  # output-level shift',
  ],
  async run(args, io) {
    if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])} (the output folder goes in --out)`);
    if (typeof args.values.out !== 'string' || args.values.out === '') throw new UsageError('--out DIR is required (the folder to write the data set to)');
    if (typeof args.values.world !== 'string') throw new UsageError(`--world is required: ${WORLDS.join(' or ')}`);
    const valFraction = Number(args.values['val-fraction']);
    if (!Number.isFinite(valFraction)) throw new UsageError(`--val-fraction must be a number like 0.2, got ${JSON.stringify(args.values['val-fraction'])}`);
    const summary = await writeWorldScenes(
      {
        world: args.values.world as WorldName,
        style: String(args.values.style) as WorldStyle,
        count: intOption(args, 'count', 1, 10_000_000),
        size: sizeOption(args.values.size),
        seed: intOption(args, 'seed', 0, 2 ** 32 - 1),
        valFraction,
        out: args.values.out,
        force: args.values.force === true,
      },
      io.json || io.quiet ? undefined : (done, total) => io.err(`  ${done}/${total} frames`),
    );
    if (io.json) {
      io.out(JSON.stringify(summary));
      return 0;
    }
    io.out(
      `wrote ${summary.train} training and ${summary.val} validation ${summary.world} frames (${summary.style}) to ${summary.out} in ${summary.seconds.toFixed(1)} s`,
    );
    io.out(`classes: ${summary.classes.map((c) => `${c.id}=${c.name}`).join(', ')}`);
    return 0;
  },
};

export const dataInspectCommand: Command = {
  name: 'data inspect',
  summary: 'count, check and summarise a folder data set; write a contact sheet of images and masks',
  usage: 'DIR [--sheet FILE] [--skip-bad] [--json]',
  options: {
    sheet: { type: 'string', valueName: 'FILE', description: 'contact sheet PNG to write (default DIR/contact-sheet.png; "none" for none)' },
    'sheet-count': { type: 'string', default: '8', valueName: 'N', description: 'samples on the contact sheet' },
    'skip-bad': { type: 'boolean', description: 'list bad samples as skipped and exit 0 instead of failing' },
    'max-megapixels': { type: 'string', default: '100', valueName: 'MP', description: 'largest picture accepted, in megapixels' },
  },
  examples: ['unet-transfer data inspect data/source', 'unet-transfer data inspect my-data --skip-bad --json'],
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) throw new UsageError('which data set? Usage: unet-transfer data inspect DIR');
    if (args.positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[1])}`);
    const sheetArg = args.values.sheet;
    const sheet = sheetArg === 'none' ? null : typeof sheetArg === 'string' ? sheetArg : join(dir, 'contact-sheet.png');
    const skipBad = args.values['skip-bad'] === true;
    const report = await inspectDataset(dir, {
      maxPixels: maxPixelsOption(args.values['max-megapixels']),
      sheet,
      sheetCount: intOption(args, 'sheet-count', 1, 200),
    });
    const failed = report.problems.length > 0 && !skipBad;
    if (io.json) {
      io.out(JSON.stringify({ ...report, skipped: skipBad ? report.problems.map((p) => p.file) : [], ok: !failed }));
    } else {
      const splits = Object.entries(report.splits)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      io.out(
        `${report.root}: ${report.usable} usable pairs of ${report.pairs}${splits ? ` (${splits})` : ''}, layout ${report.layout === 'splits' ? 'train/ + val/' : 'images/ + masks/'}`,
      );
      io.out(
        `sizes: ${report.sizes
          .slice(0, 5)
          .map((s) => `${s.width}x${s.height} (${s.count})`)
          .join(', ')}${report.sizes.length > 5 ? `, ... ${report.sizes.length} sizes` : ''}`,
      );
      io.out(
        `formats: ${Object.entries(report.formats)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; channels: ${Object.entries(report.channels)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      io.out(`classes${report.classesFile ? ` (${report.classesFile})` : ' (no classes.json: grey masks of class ids)'}:`);
      for (const c of report.classes)
        io.out(
          `  ${String(c.id).padStart(3)} ${c.name.padEnd(16)} ${(100 * c.share).toFixed(2).padStart(6)}% of pixels, in ${c.masks} masks, weight ${c.weight.toFixed(2)}`,
        );
      const shift = report.meta.shift as { input?: string[]; output?: { description?: string } | null } | undefined;
      if (shift) io.out(`shift: input ${shift.input?.length ? shift.input.join(', ') : 'none'}; output ${shift.output?.description ?? 'none'}`);
      if (report.ignored.length) io.out(`ignored (not pictures): ${report.ignored.join(', ')}`);
      if (report.sheet) io.out(`contact sheet: ${report.sheet}`);
      if (skipBad && report.problems.length) {
        io.out(`skipped ${report.problems.length} bad file(s):`);
        for (const p of report.problems) io.out(`  ${describeBad(p)}`);
      }
    }
    if (failed) {
      for (const p of report.problems) io.err(`problem: ${describeBad(p)}`);
      throw new UserError(`${report.problems.length} problem(s) in ${dir} (listed above; --skip-bad skips them)`);
    }
    return 0;
  },
};
