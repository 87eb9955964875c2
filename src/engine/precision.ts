// The precision of the convolutions: fp32 (default) or bf16 mixed precision, where the native conv kernels
// (forward, backward-data, backward-weights) read bf16 copies of their inputs and weights and accumulate in
// fp32; their outputs, and everything else (BatchNorm, loss, softmax, reductions, optimizer state, saved
// models), stay fp32. `auto` means bf16 where the CPU has bf16 units that oneDNN uses (AVX512-BF16 or AMX).
import { invalidOption, OptionError } from '../util/errors.js';
import { family } from './addon.js';

export const PRECISION_SETTINGS = ['fp32', 'bf16', 'auto'] as const;
export type PrecisionSetting = (typeof PRECISION_SETTINGS)[number];
export type Precision = Exclude<PrecisionSetting, 'auto'>;

/** Set to 1 to treat the CPU as one without bf16 units (to try the fp32 fallback and the error path). */
export const NO_BF16_ENV = 'UNET_TRANSFER_CPU_NO_BF16';

export interface CpuCapabilities {
  /** oneDNN's effective ISA (avx512_core_bf16, avx512_core_amx, avx2, ...), or 'unknown' without the conv family. */
  onednnIsa: string;
  /** cpuid: the AVX512-BF16 instructions. */
  avx512Bf16: boolean;
  /** cpuid: AMX with bf16 tiles. */
  amx: boolean;
  /** Whether bf16 convolutions can run here (the units exist, oneDNN uses them, not hidden by the environment). */
  bf16: boolean;
  /** Why bf16 cannot run (when bf16 is false). */
  bf16Unavailable?: string;
}

interface NativeCpuInfo {
  isa: string;
  avx512Bf16: boolean;
  amxBf16: boolean;
  bf16Isa: boolean;
}

let cached: CpuCapabilities | undefined;

/** What this CPU offers the convolutions (queried once per process; the environment override is read then). */
export function cpuCapabilities(): CpuCapabilities {
  if (cached) return cached;
  const conv = family('conv');
  if (!conv || typeof conv.cpuInfo !== 'function') {
    cached = { onednnIsa: 'unknown', avx512Bf16: false, amx: false, bf16: false, bf16Unavailable: 'the native conv kernels did not load' };
    return cached;
  }
  const info = conv.cpuInfo() as NativeCpuInfo;
  const caps: CpuCapabilities = { onednnIsa: info.isa, avx512Bf16: info.avx512Bf16, amx: info.amxBf16, bf16: false };
  if (process.env[NO_BF16_ENV] === '1') caps.bf16Unavailable = `${NO_BF16_ENV}=1 hides this CPU's bf16 units`;
  else if (!info.avx512Bf16 && !info.amxBf16) caps.bf16Unavailable = `this CPU has neither AVX512-BF16 nor AMX (oneDNN ISA ${info.isa})`;
  else if (!info.bf16Isa) caps.bf16Unavailable = `oneDNN does not use this CPU's bf16 units (its ISA is ${info.isa})`;
  else caps.bf16 = true;
  cached = caps;
  return caps;
}

/** Reads a precision option; `option` names the options field in the error (OptionError). */
export function parsePrecision(value: unknown, option = 'precision'): PrecisionSetting {
  if (typeof value === 'string' && (PRECISION_SETTINGS as readonly string[]).includes(value)) return value as PrecisionSetting;
  throw invalidOption(option, `one of ${PRECISION_SETTINGS.join(', ')}`, value);
}

/** The precision a setting means on this CPU: `auto` is bf16 where supported, else fp32; bf16 without support is an error. */
export function resolvePrecision(setting: PrecisionSetting, option = 'precision'): Precision {
  const wanted = parsePrecision(setting, option);
  const caps = cpuCapabilities();
  if (wanted === 'auto') return caps.bf16 ? 'bf16' : 'fp32';
  if (wanted === 'bf16' && !caps.bf16) {
    throw new OptionError(option, `: bf16 needs a CPU with AVX512-BF16 or AMX that oneDNN uses, but ${caps.bf16Unavailable}; use fp32 or auto`, {
      exitCode: 1,
    });
  }
  return wanted;
}

let current: Precision = 'fp32';

/** Sets the convolutions' precision for what runs next (process-wide); returns the precision now in effect. */
export function setPrecision(setting: PrecisionSetting, option = 'precision'): Precision {
  current = resolvePrecision(setting, option);
  return current;
}

export function getPrecision(): Precision {
  return current;
}

/** Runs fn with the given precision and puts the previous one back afterwards (also when fn throws or rejects). */
export async function withPrecision<T>(setting: PrecisionSetting, fn: (precision: Precision) => Promise<T> | T, option = 'precision'): Promise<T> {
  const before = current;
  const precision = setPrecision(setting, option);
  try {
    return await fn(precision);
  } finally {
    current = before;
  }
}

/** Native convolution calls by the precision they ran in (a bf16 request runs in fp32 where oneDNN has only reference bf16 code). */
export const convPrecisionCounts = { bf16: 0, fp32: 0 };

/** Records one native convolution; `ranBf16` is what the native kernel returned. */
export function countConv(ranBf16: unknown): void {
  if (ranBf16 === true) convPrecisionCounts.bf16++;
  else convPrecisionCounts.fp32++;
}

export interface ConvImplementation {
  kernel: string;
  /** [N, H, W, C, O, KH, KW, OH, OW, SH, SW, DH, DW, padTop, padLeft, padBottom, padRight] */
  geometry: number[];
  /** oneDNN's implementation name, e.g. jit:avx512_core_bf16 */
  impl: string;
  bf16: boolean;
}

/** Milliseconds the native conv kernels spent, by phase, since the last reset (for benchmarks). */
export interface ConvPhaseTimes {
  /** the oneDNN convolution primitives */
  compute: number;
  /** fp32 -> bf16 copies of activations (bf16 only) */
  activations: number;
  /** weights reordered into the primitives' layouts (skipped while the same weight tensor comes back) */
  weights: number;
  /** weight gradients reordered from the primitives' layouts to TF.js's HWIO */
  gradients: number;
}

/** The conv kernels' time by phase since the last reset; `reset` starts a new count. Zeros without the native addon. */
export function convPhaseTimes(reset = false): ConvPhaseTimes {
  const conv = family('conv');
  if (!conv || typeof conv.conv2dPhaseTimes !== 'function') return { compute: 0, activations: 0, weights: 0, gradients: 0 };
  return conv.conv2dPhaseTimes(reset) as ConvPhaseTimes;
}

/** The oneDNN implementations the native conv kernels created in this process, in creation order. */
export function convImplementations(): ConvImplementation[] {
  const conv = family('conv');
  return conv && typeof conv.conv2dImplementations === 'function' ? (conv.conv2dImplementations() as ConvImplementation[]) : [];
}
