// Segmentation metrics from a confusion matrix (../shared/DESIGN.md, Measures): per-class IoU, mean IoU over the
// classes present in truth or prediction, Dice, pixel accuracy; background (class 0) counts as a class and the
// means are also reported without it. A binary head is a 2-class matrix (background, foreground): miou is
// over both, miou_fg the foreground's IoU. Multilabel heads count per label (MultilabelConfusion).

export interface SegmentationMetrics {
  /** IoU per class id; null where the class is in neither truth nor prediction. */
  iou: (number | null)[];
  dice: (number | null)[];
  miou: number;
  /** Mean IoU over the present classes other than class 0 (background). */
  miou_fg: number;
  mean_dice: number;
  mean_dice_fg: number;
  pixel_accuracy: number;
  pixels: number;
}

export class ConfusionMatrix {
  /** counts[truth * classes + predicted] */
  readonly counts: Float64Array;

  constructor(readonly classes: number) {
    this.counts = new Float64Array(classes * classes);
  }

  /** Adds one batch of class ids (same length, values in [0, classes)). */
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (truth.length !== predicted.length) throw new Error(`confusion matrix: ${truth.length} truths vs ${predicted.length} predictions`);
    const k = this.classes;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      const p = predicted[i];
      if (t < 0 || t >= k || p < 0 || p >= k) throw new Error(`confusion matrix: class id out of [0, ${k}): truth ${t}, predicted ${p}`);
      this.counts[t * k + p]++;
    }
  }

  merge(other: ConfusionMatrix): void {
    if (other.classes !== this.classes) throw new Error('confusion matrix: class counts differ');
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  metrics(): SegmentationMetrics {
    const k = this.classes;
    const iou: (number | null)[] = [];
    const dice: (number | null)[] = [];
    let correct = 0;
    let total = 0;
    for (let c = 0; c < k; c++) {
      let truthC = 0;
      let predC = 0;
      for (let j = 0; j < k; j++) {
        truthC += this.counts[c * k + j];
        predC += this.counts[j * k + c];
      }
      const tp = this.counts[c * k + c];
      correct += tp;
      total += truthC;
      const union = truthC + predC - tp;
      iou.push(union > 0 ? tp / union : null);
      dice.push(truthC + predC > 0 ? (2 * tp) / (truthC + predC) : null);
    }
    return {
      iou,
      dice,
      miou: mean(iou),
      miou_fg: mean(iou.slice(1)),
      mean_dice: mean(dice),
      mean_dice_fg: mean(dice.slice(1)),
      pixel_accuracy: total > 0 ? correct / total : 0,
      pixels: total,
    };
  }
}

/**
 * Multilabel heads: each pixel holds a set of labels, bit-packed (bit k = label k) in truth and prediction
 * alike. Per label the IoU and Dice of its positive pixels; the means run over the labels present in
 * truth or prediction (miou_fg = miou: a multilabel head has no background label); pixel accuracy is the
 * share of (pixel, label) decisions that are right.
 */
export class MultilabelConfusion {
  /** Per label: true positives, false positives, false negatives. */
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;
  private pixels = 0;

  constructor(readonly labels: number) {
    this.tp = new Float64Array(labels);
    this.fp = new Float64Array(labels);
    this.fn = new Float64Array(labels);
  }

  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    if (truth.length !== predicted.length) throw new Error(`multilabel confusion: ${truth.length} truths vs ${predicted.length} predictions`);
    const k = this.labels;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i]!;
      const p = predicted[i]!;
      for (let b = 0; b < k; b++) {
        const tb = (t >> b) & 1;
        const pb = (p >> b) & 1;
        if (tb & pb) this.tp[b]++;
        else if (pb) this.fp[b]++;
        else if (tb) this.fn[b]++;
      }
    }
    this.pixels += truth.length;
  }

  metrics(): SegmentationMetrics {
    const iou: (number | null)[] = [];
    const dice: (number | null)[] = [];
    let wrong = 0;
    for (let b = 0; b < this.labels; b++) {
      const union = this.tp[b]! + this.fp[b]! + this.fn[b]!;
      iou.push(union > 0 ? this.tp[b]! / union : null);
      dice.push(union > 0 ? (2 * this.tp[b]!) / (2 * this.tp[b]! + this.fp[b]! + this.fn[b]!) : null);
      wrong += this.fp[b]! + this.fn[b]!;
    }
    const decisions = this.pixels * this.labels;
    const miou = mean(iou);
    const md = mean(dice);
    return { iou, dice, miou, miou_fg: miou, mean_dice: md, mean_dice_fg: md, pixel_accuracy: decisions > 0 ? 1 - wrong / decisions : 0, pixels: this.pixels };
  }
}

/** The mean of the non-null values (0 when there are none). */
function mean(xs: (number | null)[]): number {
  const present = xs.filter((x): x is number => x !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
}
