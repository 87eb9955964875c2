// A layer that doubles height and width by bilinear interpolation, with a choice of corner alignment.
// TF.js's UpSampling2D always resizes with alignCorners = false (pixel i of the output samples the input
// at i / 2), whereas PyTorch U-Nets such as milesial/Pytorch-UNet up-sample with
// nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True) (the corner pixels of input and
// output coincide: output i samples the input at i * (in - 1) / (out - 1)), and Keras's UpSampling2D
// (interpolation 'bilinear') resizes with half-pixel centres (output i samples (i + 0.5) / 2 - 0.5).
// Imported weights only give their framework's outputs with its resize, so this layer offers all three.
// It has no weights. (TF.js's resize gradient ignores half-pixel centres: training through such a layer
// back-propagates with the plain mapping, a small difference from Keras.)
// Registered with TF.js's serialization so that model folders holding it load (the topology guard
// lists it as a weightless pass-through layer).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Shape = (number | null)[];

export interface ResizeBilinear2xArgs extends LayerArgs {
  /** PyTorch's align_corners=True (corner pixels coincide); false: TF.js's UpSampling2D. Default false. */
  alignCorners?: boolean;
  /** Keras's / TF2's half-pixel centres (with alignCorners false). Default false. */
  halfPixelCenters?: boolean;
}

export class ResizeBilinear2x extends tfl.layers.Layer {
  static readonly className = 'ResizeBilinear2x';
  readonly alignCorners: boolean;
  readonly halfPixelCenters: boolean;

  constructor(args: ResizeBilinear2xArgs = {}) {
    super(args);
    // The config may come from a model.json on disk: only a boolean is accepted.
    if (args.alignCorners !== undefined && typeof args.alignCorners !== 'boolean') {
      throw new Error(`ResizeBilinear2x ${args.name ?? ''}: alignCorners must be true or false, got ${JSON.stringify(args.alignCorners)}`);
    }
    if (args.halfPixelCenters !== undefined && typeof args.halfPixelCenters !== 'boolean') {
      throw new Error(`ResizeBilinear2x ${args.name ?? ''}: halfPixelCenters must be true or false, got ${JSON.stringify(args.halfPixelCenters)}`);
    }
    this.alignCorners = args.alignCorners ?? false;
    this.halfPixelCenters = args.halfPixelCenters ?? false;
    if (this.alignCorners && this.halfPixelCenters)
      throw new Error(`ResizeBilinear2x ${args.name ?? ''}: alignCorners and halfPixelCenters exclude each other`);
    this.inputSpec = [{ ndim: 4 }];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (s.length !== 4) throw new Error(`ResizeBilinear2x ${this.name}: expected a 4-D NHWC input, got shape ${JSON.stringify(inputShape)}`);
    return [s[0], s[1] == null ? null : 2 * s[1], s[2] == null ? null : 2 * s[2], s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      return tf.image.resizeBilinear(x, [2 * x.shape[1], 2 * x.shape[2]], this.alignCorners, this.halfPixelCenters);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    // halfPixelCenters only when set, so that folders saved before it existed keep their exact model.json.
    return { ...super.getConfig(), alignCorners: this.alignCorners, ...(this.halfPixelCenters ? { halfPixelCenters: true } : {}) };
  }
}

tf.serialization.registerClass(ResizeBilinear2x);
