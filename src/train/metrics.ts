// Segmentation metrics from a confusion matrix (../shared/DESIGN.md, Measures): per-class IoU, mean IoU over the
// classes present in truth or prediction, Dice, pixel accuracy; background (class 0) counts as a class and the
// means are also reported without it.

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

/** The mean of the non-null values (0 when there are none). */
function mean(xs: (number | null)[]): number {
  const present = xs.filter((x): x is number => x !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
}
