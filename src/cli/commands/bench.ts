// `unet-transfer bench`: how fast is a training step of the course U-Net here, and against PyTorch?
import { cpus } from 'node:os';

import * as tf from '@tensorflow/tfjs-core';

import { benchStepAgainstPeer } from '../../../bench/peer_rounds.js';
import { benchPolicyEpochs } from '../../../bench/policy_epoch.js';
import { benchModelFolderPrecisions, benchStepPrecisions, type PrecisionStepResult } from '../../../bench/precision_step.js';
import { peakRssMb, round } from '../../../bench/train_step.js';
import { addon, useBestBackend, type PrecisionSetting } from '../../engine/index.js';
import { ENCODER_ARCHS } from '../../model/options.js';
import { DEFAULT_CACHE_MB } from '../../train/epoch.js';
import { UsageError } from '../../util/errors.js';
import { choiceOption, intOption, type Command, type CommandIO, type ParsedArgs } from '../command.js';

export const benchCommand: Command = {
  name: 'bench',
  summary: "time a training step of the course U-Net (optionally against PyTorch) or of a model folder (--model), or a fine-tuning policy's epochs (--train)",
  usage:
    '[--model DIR] [--filters 16] [--batch 8] [--height 96] [--width 128] [--classes 23] [--steps 5] [--backend native|cpu] [--precision fp32|bf16|auto] [--peer [--rounds 3]] [--profile] [--json]\n--train SPEC --images N [--epochs 3] [--no-cache] [--cache-mb MB] [--filters 16] [--batch 8] [--height 96] [--width 128] [--json]',
  options: {
    model: { type: 'string', valueName: 'DIR', description: 'time a step of the model folder DIR instead of a course U-Net (its own input size and classes)' },
    filters: { type: 'string', default: '16', description: 'filters of the first block (F)' },
    batch: { type: 'string', default: '8', description: 'images per training step' },
    height: { type: 'string', default: '96', description: 'input height (a multiple of 16)' },
    width: { type: 'string', default: '128', description: 'input width (a multiple of 16)' },
    classes: { type: 'string', default: '23', description: 'output classes' },
    steps: { type: 'string', default: '5', description: 'timed steps (the median is reported; with --peer: per round)' },
    warmup: { type: 'string', default: '5', description: 'untimed steps first (with --peer: on both sides)' },
    backend: { type: 'string', default: 'native', description: 'native or cpu (the pure-JavaScript backend: very slow)' },
    precision: {
      type: 'string',
      valueName: 'P',
      description: 'fp32 (default), or bf16 / auto: time the step in fp32 and in bf16 mixed precision (and PyTorch with and without autocast-bf16 with --peer)',
    },
    arch: {
      type: 'string',
      valueName: 'A',
      description: `the U-Net to time: course (default), ${ENCODER_ARCHS.join(', ')} (their reference widths; --filters ignored)`,
    },
    peer: {
      type: 'boolean',
      description: 'also time PyTorch (/usr/bin/python3, python3-torch) on the same sizes, in rounds alternating with ours, and print the ratio',
    },
    rounds: { type: 'string', default: '3', description: 'with --peer: rounds of --steps steps each, ours then PyTorch' },
    profile: { type: 'boolean', description: 'list every kernel of one step: calls, time share, native or not' },
    train: { type: 'string', valueName: 'SPEC', description: 'time whole epochs of fine-tuning SPEC (e.g. head, decoder+head, all) instead of one step' },
    images: { type: 'string', valueName: 'N', description: 'with --train: digit scenes per epoch, held in memory (default 1000)' },
    epochs: { type: 'string', valueName: 'N', description: 'with --train: epochs to run, the first (fills the cache) and N-1 later ones (default 3)' },
    'no-cache': { type: 'boolean', description: "with --train: do not cache the frozen prefix's activations" },
    'cache-mb': {
      type: 'string',
      valueName: 'MB',
      description: `with --train: memory for cached activations before they spill to disk (default ${DEFAULT_CACHE_MB})`,
    },
  },
  examples: [
    'unet-transfer bench',
    'unet-transfer bench --peer --json',
    'unet-transfer bench --filters 32 --profile',
    'unet-transfer bench --precision bf16 --peer',
    'unet-transfer bench --model models/mine --profile',
    'unet-transfer bench --train decoder+head --images 1000 --height 64 --width 64 --json',
  ],
  async run(args, io) {
    if (args.values.train !== undefined) return runPolicyBench(args, io);
    for (const flag of ['images', 'epochs', 'no-cache', 'cache-mb'])
      if (args.values[flag] !== undefined) throw new UsageError(`--${flag} goes with --train SPEC (timing a fine-tuning policy's epochs)`);
    const o = {
      arch: args.values.arch === undefined ? 'course' : choiceOption(args, 'arch', ['course', ...ENCODER_ARCHS] as const),
      filters: intOption(args, 'filters', 1, 512),
      batch: intOption(args, 'batch', 1, 1024),
      height: intOption(args, 'height', 16, 4096),
      width: intOption(args, 'width', 16, 4096),
      classes: intOption(args, 'classes', 2, 1000),
      steps: intOption(args, 'steps', 1, 1000),
      warmup: intOption(args, 'warmup', 0, 1000),
      profile: args.values.profile === true,
    };
    const backend = await useBestBackend(choiceOption(args, 'backend', ['native', 'cpu'] as const), io.err);
    const threads = addon.loaded.conv?.threads ?? cpus().length;
    const precision = args.values.precision === undefined ? undefined : (String(args.values.precision) as PrecisionSetting);
    if (args.values.model !== undefined) {
      if (args.values.peer) throw new UsageError('--peer times PyTorch on the course U-Net; it does not go with --model');
      const dir = String(args.values.model);
      if (!io.quiet && !io.json) io.err(`timing the model in ${dir} (batch ${o.batch}) on ${backend} with ${threads} threads...`);
      return printStep(await benchModelFolderPrecisions(dir, { ...o, precision }), { backend, threads }, args, io);
    }
    if (!io.quiet && !io.json)
      io.err(
        `timing the ${o.arch === 'course' ? `course U-Net (F=${o.filters}, ` : `${o.arch} U-Net (`}batch ${o.batch}, ${o.height}x${o.width}, ${o.classes} classes) on ${backend} with ${threads} threads...`,
      );
    if (!args.values.peer) {
      return printStep(benchStepPrecisions({ ...o, precision }), { backend, threads }, args, io);
    }
    if (!io.quiet && !io.json) io.err('with the PyTorch peer, in alternating rounds...');
    const cmp = await benchStepAgainstPeer({ ...o, precision, threads, rounds: intOption(args, 'rounds', 1, 100) });
    const timed = cmp.ours;
    const { peer, peerBf16 } = cmp;
    const ratio = (a: number, b: number) => round(a / b, 3);
    const result: Record<string, unknown> = {
      peer: `pytorch ${peer.version}`,
      rounds: cmp.rounds,
      peer_step_ms: peer.step_ms,
      peer_forward_ms: peer.forward_ms,
      peer_parameters: peer.parameters,
      peer_peak_rss_mb: peer.peak_rss_mb,
      training_peak_rss_mb: cmp.trainingPeakRssMb,
      peer_training_peak_rss_mb: peer.training_peak_rss_mb,
      training_rss_ratio: ratio(cmp.trainingPeakRssMb, peer.training_peak_rss_mb),
      peer_step_times_ms: peer.step_times_ms,
      step_ratio: ratio(timed.fp32.step_ms, peer.step_ms),
      step_ratio_rounds: peer.round_ratios,
      forward_ratio: ratio(timed.fp32.forward_ms, peer.forward_ms),
      ...(timed.bf16 ? { bf16_vs_peer_fp32: ratio(timed.bf16.step_ms, peer.step_ms) } : {}),
      ...(peerBf16 && timed.bf16
        ? {
            peer_bf16_step_ms: peerBf16.step_ms,
            peer_bf16_forward_ms: peerBf16.forward_ms,
            peer_bf16_peak_rss_mb: peerBf16.peak_rss_mb,
            peer_bf16_vs_fp32: ratio(peerBf16.step_ms, peer.step_ms),
            bf16_step_ratio: ratio(timed.bf16.step_ms, peerBf16.step_ms),
            bf16_step_ratio_rounds: peerBf16.round_ratios,
          }
        : {}),
      ...(cmp.peerBf16Error ? { peer_bf16_error: cmp.peerBf16Error } : {}),
    };
    return printStep(timed, { backend, threads, ...result }, args, io);
  },
};

/** Prints a step's timing in fp32 and, when bf16 ran, in bf16 (and the PyTorch peer's, in `extra`, when it ran). */
function printStep(timed: PrecisionStepResult, extra: { backend: string; threads: number } & Record<string, unknown>, args: ParsedArgs, io: CommandIO): number {
  const { backend, threads, ...peer } = extra;
  const ours = timed.bf16 ?? timed.fp32;
  const { requested, cpu } = timed;
  const result: Record<string, unknown> = {
    backend,
    threads,
    ...ours,
    precision_requested: requested,
    onednn_isa: cpu.onednnIsa,
    avx512_bf16: cpu.avx512Bf16,
    amx: cpu.amx,
    peak_rss_mb: peakRssMb(),
    ...peer,
  };
  delete result.profile;
  delete result.step_times_ms;
  if (timed.bf16) {
    Object.assign(result, {
      fp32_step_ms: timed.fp32.step_ms,
      fp32_forward_ms: timed.fp32.forward_ms,
      bf16_step_ms: timed.bf16.step_ms,
      bf16_forward_ms: timed.bf16.forward_ms,
      bf16_vs_fp32: timed.bf16_vs_fp32,
      bf16_impls: timed.bf16_impls,
    });
  }
  if (ours.profile) result.kernels = ours.profile.map((k) => ({ ...k, ms: Math.round(k.ms * 100) / 100 }));
  if (io.json) {
    io.out(JSON.stringify(result));
    return 0;
  }
  io.out(
    `backend ${backend}, ${threads} threads, tfjs ${tf.version_core}, oneDNN ISA ${cpu.onednnIsa}, precision ${timed.precision}${requested !== timed.precision ? ` (requested ${requested})` : ''}`,
  );
  io.out(`parameters       ${ours.parameters.toLocaleString('en-US')}`);
  if (timed.bf16) {
    io.out(
      `training step    fp32 ${timed.fp32.step_ms} ms, bf16 ${timed.bf16.step_ms} ms: bf16 / fp32 ${timed.bf16_vs_fp32}x  (${ours.gflop_per_step} GFLOP; ${timed.fp32.gflops} and ${timed.bf16.gflops} GFLOP/s)`,
    );
    io.out(`forward pass     fp32 ${timed.fp32.forward_ms} ms, bf16 ${timed.bf16.forward_ms} ms`);
    io.out(
      `bf16 kernels     ${Object.entries(timed.bf16_impls ?? {})
        .map(([k, n]) => `${k} (${n})`)
        .join(', ')}`,
    );
  } else {
    io.out(`training step    ${ours.step_ms} ms  (${ours.gflop_per_step} GFLOP, ${ours.gflops} GFLOP/s)`);
    io.out(`forward pass     ${ours.forward_ms} ms`);
  }
  for (const r of timed.bf16 ? [timed.fp32, timed.bf16] : [timed.fp32]) {
    const c = r.conv_phases_ms;
    io.out(
      `conv time        ${timed.bf16 ? `${r.precision}: ` : ''}${c.compute} ms in the primitives, ${c.weights} ms weight layouts, ${c.gradients} ms weight gradients to HWIO${c.activations > 0 ? `, ${c.activations} ms activation copies (${r.precision === 'bf16' ? 'to bf16' : "Winograd's blocked layout"})` : ''} (per step); ${r.page_faults_per_step} page faults per step`,
    );
  }
  io.out(`peak memory      ${result.peak_rss_mb} MB (resident, whole process)`);
  if (args.values.peer) {
    io.out(`PyTorch step     ${result.peer_step_ms} ms, forward ${result.peer_forward_ms} ms, peak ${result.peer_peak_rss_mb} MB (${result.peer})`);
    io.out(
      `training peak    ours ${result.training_peak_rss_mb} MB, PyTorch ${result.peer_training_peak_rss_mb} MB: ${result.training_rss_ratio}x (resident, after the training rounds)`,
    );
    if (result.peer_bf16_step_ms !== undefined)
      io.out(
        `PyTorch bf16     ${result.peer_bf16_step_ms} ms, forward ${result.peer_bf16_forward_ms} ms (torch.autocast cpu bfloat16): ${result.peer_bf16_vs_fp32}x its fp32 step`,
      );
    if (result.peer_bf16_error !== undefined) io.out(`PyTorch bf16     not timed: ${result.peer_bf16_error}`);
    io.out(
      `ours / PyTorch   step ${result.step_ratio}x, forward ${result.forward_ratio}x (fp32)${result.bf16_step_ratio !== undefined ? `; bf16 step ${result.bf16_step_ratio}x` : ''}`,
    );
    if (result.bf16_vs_peer_fp32 !== undefined) io.out(`ours bf16 / PyTorch fp32   step ${result.bf16_vs_peer_fp32}x`);
    const rounds = (name: string) => (result[name] as number[] | undefined)?.map((r) => `${r}x`).join(', ');
    io.out(
      `per round        fp32 step ${rounds('step_ratio_rounds')}${result.bf16_step_ratio_rounds ? `; bf16 step ${rounds('bf16_step_ratio_rounds')}` : ''} (${result.rounds} rounds of ${args.values.steps} steps each side)`,
    );
  }
  if (ours.profile) {
    const total = ours.profile.reduce((s, k) => s + k.ms, 0);
    io.out('');
    const js = ours.profile.filter((k) => !k.native).reduce((s, k) => s + k.ms, 0);
    io.out(
      `kernels of a training step (mean of ${ours.profile_steps} profiled steps; ${total.toFixed(1)} ms in kernels, ${js.toFixed(1)} ms = ${((100 * js) / total).toFixed(1)}% of it in JavaScript):`,
    );
    io.out(`  ${'kernel'.padEnd(28)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'share'.padStart(7)}  where`);
    for (const k of ours.profile) {
      io.out(
        `  ${k.kernel.padEnd(28)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(2).padStart(9)} ${((100 * k.ms) / total).toFixed(1).padStart(6)}%  ${k.native ? 'native' : 'JS'}`,
      );
    }
  }
  return 0;
}

/** `bench --train SPEC`: a policy's epoch times over in-memory digit scenes, and its share of the FLOPs of `all`. */
async function runPolicyBench(args: ParsedArgs, io: CommandIO): Promise<number> {
  for (const flag of ['peer', 'profile', 'precision'])
    if (args.values[flag] !== undefined) throw new UsageError(`--${flag} times a single step; it does not go with --train`);
  const train = String(args.values.train);
  const o = {
    train,
    images: args.values.images === undefined ? 1000 : intOption(args, 'images', 1, 1_000_000),
    filters: intOption(args, 'filters', 1, 512),
    classes: intOption(args, 'classes', 2, 1000),
    batch: intOption(args, 'batch', 1, 1024),
    height: intOption(args, 'height', 16, 4096),
    width: intOption(args, 'width', 16, 4096),
    epochs: args.values.epochs === undefined ? 3 : intOption(args, 'epochs', 2, 1000),
    cache: args.values['no-cache'] !== true,
    cacheMb: args.values['cache-mb'] === undefined ? DEFAULT_CACHE_MB : intOption(args, 'cache-mb', 0, 1 << 30),
    seed: 0,
  };
  for (const d of ['height', 'width'] as const) if (o[d] % 16 !== 0) throw new UsageError(`--${d} must be a multiple of 16 (four 2x2 poolings), got ${o[d]}`);
  const backend = await useBestBackend(choiceOption(args, 'backend', ['native', 'cpu'] as const), io.err);
  const threads = addon.loaded.conv?.threads ?? cpus().length;
  const say = (line: string) => {
    if (!io.quiet && !io.json) io.err(line);
  };
  say(
    `timing ${o.epochs} epochs of --train ${train} over ${o.images} digit scenes (course U-Net F=${o.filters}, batch ${o.batch}, ${o.height}x${o.width}) on ${backend} with ${threads} threads...`,
  );
  const r = await benchPolicyEpochs(o, say);
  const result = { backend, threads, ...r, peak_rss_mb: peakRssMb() };
  if (io.json) {
    io.out(JSON.stringify(result));
    return 0;
  }
  io.out(`policy           ${r.policy} (${r.trainable_params.toLocaleString('en-US')} trainable parameters)`);
  io.out(`activation cache ${r.cache ? `used (${r.cache_mb} MiB): ${r.cache_reason}` : `not used: ${r.cache_reason}`}`);
  io.out(`first epoch      ${r.first_epoch_ms} ms${r.cache ? ' (fills the cache)' : ''}`);
  io.out(`later epoch      ${r.epoch_ms} ms (median of ${r.later_epochs_ms.length}; ${r.step_ms} ms per step)`);
  io.out(`FLOPs per step   ${r.gflop_per_step} GFLOP, ${r.flops_share} of training everything (${r.gflop_per_step_all} GFLOP)`);
  io.out(`peak memory      ${result.peak_rss_mb} MB (resident, whole process)`);
  return 0;
}
