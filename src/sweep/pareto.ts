// Pareto fronts: the policies no other policy beats on both quality (higher is better) and cost (lower is
// better). A point is dominated when another is at least as good on both and strictly better on one.

export interface ParetoPoint {
  cost: number;
  quality: number;
}

/** Indices of the non-dominated points (points with a non-finite value are never on the front). */
export function paretoFront(points: readonly ParetoPoint[]): number[] {
  const ok = (p: ParetoPoint) => Number.isFinite(p.cost) && Number.isFinite(p.quality);
  const front: number[] = [];
  for (const [i, p] of points.entries()) {
    if (!ok(p)) continue;
    const dominated = points.some((q, j) => j !== i && ok(q) && q.cost <= p.cost && q.quality >= p.quality && (q.cost < p.cost || q.quality > p.quality));
    if (!dominated) front.push(i);
  }
  return front;
}

/** The best quality among points with cost <= budget, or null when none fits. */
export function bestWithin(points: readonly ParetoPoint[], budget: number): number | null {
  let best: number | null = null;
  for (const [i, p] of points.entries()) {
    if (!Number.isFinite(p.quality) || !(p.cost <= budget)) continue;
    if (best === null || p.quality > points[best]!.quality || (p.quality === points[best]!.quality && p.cost < points[best]!.cost)) best = i;
  }
  return best;
}
