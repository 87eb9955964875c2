// The contact sheet: for a handful of samples, the picture, its mask in class colours and the mask laid over
// the picture, side by side, so a person can see at a glance whether images and masks belong together.
import { colorOf, defaultColor, type ClassSet } from './classes.js';
import { toChannels, type Raster } from './raster.js';
import { resizeBilinear, resizeNearest } from './resize.js';

export interface SheetItem {
  image: Raster;
  /** Class ids at the image's resolution. */
  ids: Int32Array;
}

export interface SheetOptions {
  /** Side of each square tile in pixels (default 128). */
  tile?: number;
  /** Samples per row of the sheet (default 2: six tiles across). */
  perRow?: number;
  /** Overlay opacity of class colours (default 0.5). */
  alpha?: number;
}

const GAP = 4;
const MARGIN = 12;
const BG = 40;

/** Renders the sheet as an RGB raster; encode it with encodePng. */
export function renderContactSheet(items: SheetItem[], classes: ClassSet | null, opts: SheetOptions = {}): Raster {
  const tile = opts.tile ?? 128;
  const perRow = Math.max(1, Math.min(opts.perRow ?? 2, items.length || 1));
  const alpha = opts.alpha ?? 0.5;
  const rows = Math.max(1, Math.ceil(items.length / perRow));
  const cellW = 3 * tile + 2 * GAP;
  const W = MARGIN + perRow * (cellW + MARGIN);
  const H = MARGIN + rows * (tile + MARGIN);
  const out = new Uint8Array(W * H * 3).fill(BG);
  const colour = (id: number): [number, number, number] => {
    const c = classes?.byId.get(id);
    return c ? colorOf(c) : defaultColor(id);
  };
  items.forEach((item, n) => {
    const rgb = toChannels(item.image, 3);
    const scale = Math.min(tile / rgb.width, tile / rgb.height);
    const tw = Math.max(1, Math.round(rgb.width * scale));
    const th = Math.max(1, Math.round(rgb.height * scale));
    const pic = resizeBilinear(rgb, tw, th);
    const ids = resizeNearest({ width: rgb.width, height: rgb.height, channels: 1, data: item.ids }, tw, th);
    const ox = MARGIN + (n % perRow) * (cellW + MARGIN) + ((tile - tw) >> 1);
    const oy = MARGIN + Math.floor(n / perRow) * (tile + MARGIN) + ((tile - th) >> 1);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const i = y * tw + x;
        const id = ids[i]!;
        const [cr, cg, cb] = colour(id);
        for (let panel = 0; panel < 3; panel++) {
          const o = ((oy + y) * W + ox + panel * (tile + GAP) + x) * 3;
          for (let k = 0; k < 3; k++) {
            const p = pic[i * 3 + k]!;
            const c = k === 0 ? cr : k === 1 ? cg : cb;
            const v = panel === 0 ? p : panel === 1 ? c : id === 0 ? p : (1 - alpha) * p + alpha * c;
            out[o + k] = Math.min(255, Math.max(0, Math.round(v)));
          }
        }
      }
    }
  });
  return { width: W, height: H, channels: 3, data: out };
}
