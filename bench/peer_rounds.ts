// Our training step against PyTorch's, in alternating rounds: `steps` of ours, then `steps` of the peer's, `rounds`
// times (and the same in bf16 against PyTorch's autocast when the precision is bf16). Both sides are built and
// warmed up first, and only one side runs at a time, so each round compares the two in the same phase of the
// machine; the medians pool every round's steps, and the per-round ratios show how far the phases moved them.
import { getPrecision, setPrecision, type Precision } from '../src/engine/index.js';
import { trainingStepFlops } from '../src/model/index.js';
import { UserError } from '../src/util/errors.js';
import { PeerSession, type PeerInfo } from './peer.js';
import { precisionResult, requestedPrecision, type PrecisionBenchOptions, type PrecisionStepResult } from './precision_step.js';
import { buildBenchUNet, median, peakRssMb, round, StepTimer, summarizeSteps, type StepBenchOptions, type StepSample } from './train_step.js';

/** The peer's side of one precision. */
export interface PeerTiming extends PeerInfo {
  /** Median over all rounds' steps. */
  step_ms: number;
  forward_ms: number;
  step_times_ms: number[];
  /** Per round: the median of our steps / the median of the peer's. */
  round_ratios: number[];
  /** The peak RSS after the training rounds, before the forward passes are timed. */
  training_peak_rss_mb: number;
}

export interface PeerComparison {
  ours: PrecisionStepResult;
  peer: PeerTiming;
  /** PyTorch under torch.autocast bf16, when our precision is bf16 and the peer could run it. */
  peerBf16?: PeerTiming;
  /** Why the bf16 peer did not run (PyTorch 1.13 lacks some bf16 CPU kernels, e.g. ReLU6's backward). */
  peerBf16Error?: string;
  rounds: number;
  /** Our process's peak RSS after the training rounds (MB), before the forward passes (whose kept weight copies
   * an inference adds) are timed. */
  trainingPeakRssMb: number;
}

export type PeerBenchOptions = Omit<StepBenchOptions, 'precision'> & PrecisionBenchOptions & { threads: number; rounds: number };

/** The U-Net of `o` (course or an encoder arch) against the same network in PyTorch, in `o.rounds` rounds per precision. */
export async function benchStepAgainstPeer(o: PeerBenchOptions): Promise<PeerComparison> {
  const { requested, precision } = requestedPrecision(o);
  const precisions: Precision[] = precision === 'bf16' ? ['fp32', 'bf16'] : ['fp32'];
  const sessions: Partial<Record<Precision, PeerSession>> = {};
  let peerBf16Error: string | undefined;
  const unet = buildBenchUNet(o);
  const timer = new StepTimer(unet.model, o.batch);
  const before = getPrecision();
  try {
    sessions.fp32 = await PeerSession.start(o);
    if (precision === 'bf16') {
      try {
        sessions.bf16 = await PeerSession.start({ ...o, bf16: true });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        peerBf16Error = e.message;
      }
    }
    for (const p of precisions) {
      setPrecision(p);
      timer.warmUp(o.warmup);
    }
    const ours: Record<Precision, StepSample[]> = { fp32: [], bf16: [] };
    const theirs: Record<Precision, number[][]> = { fp32: [], bf16: [] };
    for (let r = 0; r < o.rounds; r++) {
      for (const p of precisions) {
        setPrecision(p);
        ours[p].push(timer.timeSteps(o.steps));
        const session = sessions[p];
        if (session) theirs[p].push(await session.steps(o.steps));
      }
    }
    const trainingPeakRssMb = peakRssMb();
    const peerTrainingRss: Partial<Record<Precision, number>> = {};
    for (const p of precisions) {
      const session = sessions[p];
      if (session) peerTrainingRss[p] = await session.peakRssMb();
    }
    const forwards: Record<Precision, number[]> = { fp32: [], bf16: [] };
    const peerForwards: Record<Precision, number[]> = { fp32: [], bf16: [] };
    for (const p of precisions) {
      setPrecision(p);
      forwards[p] = timer.timeForwards(o.steps);
      const session = sessions[p];
      if (session) peerForwards[p] = await session.forwards(o.steps);
    }
    const flops = trainingStepFlops(unet, o.batch).total;
    const summary = (p: Precision) => {
      setPrecision(p);
      const profile = o.profile && p === precision ? { kernels: timer.profile(o.steps), steps: o.steps } : undefined;
      return summarizeSteps(unet.model, flops, ours[p], forwards[p], profile);
    };
    const fp32 = summary('fp32');
    const bf16 = precision === 'bf16' ? summary('bf16') : undefined;
    const peerTiming = async (p: Precision): Promise<PeerTiming | undefined> => {
      const session = sessions[p];
      if (!session) return undefined;
      const info = await session.close();
      const times = theirs[p].flat();
      return {
        ...info,
        step_ms: round(median(times)),
        forward_ms: round(median(peerForwards[p])),
        step_times_ms: times.map((t) => round(t)),
        round_ratios: theirs[p].map((t, r) => round(median(ours[p][r]!.times) / median(t), 3)),
        training_peak_rss_mb: peerTrainingRss[p]!,
      };
    };
    const peer = (await peerTiming('fp32'))!;
    const peerBf16 = await peerTiming('bf16');
    return {
      ours: precisionResult(requested, precision, fp32, bf16),
      peer,
      ...(peerBf16 ? { peerBf16 } : {}),
      ...(peerBf16Error ? { peerBf16Error } : {}),
      rounds: o.rounds,
      trainingPeakRssMb,
    };
  } finally {
    setPrecision(before);
    for (const s of Object.values(sessions)) s.kill();
    timer.dispose();
    unet.model.dispose();
  }
}
