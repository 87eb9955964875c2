// `import 'unet-transfer/layers'`: registers the package's custom layers (ResizeBilinear2x, for imported
// PyTorch U-Nets that up-sample with align_corners=True) with tfjs-layers, and a `file://` loader in Node,
// so that a model folder this package wrote loads with stock `tf.loadLayersModel`. No native dependency:
// it works in a browser bundle too (there, load the model over http(s)).
import { registerFileRouter } from './model/file_router.js';

export { ResizeBilinear2x, type ResizeBilinear2xArgs } from './model/layers/resize-bilinear-2x.js';
export { registerFileRouter } from './model/file_router.js';

registerFileRouter();
