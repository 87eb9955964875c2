# An independent forward pass of the Keras layer specs the import tests write (test/import/keras3_files.ts),
# in NumPy, following Keras's definitions: 'same' padding as TensorFlow pads (the odd pixel after),
# BatchNormalization at inference, nearest up-sampling, sigmoid/softmax outputs. Reads JSON on stdin
# {layers: [{name, cls, config, inbound}], weights: {"layer/var": {shape, data}}, input: {shape, data}}
# and writes the model output {shape, data} on stdout.
import json
import sys

import numpy as np


def pad_same(x, k, s=1):
    n, h, w, c = x.shape
    def amount(size, kk):
        out = -(-size // s)
        total = max((out - 1) * s + kk - size, 0)
        return total // 2, total - total // 2
    return np.pad(x, ((0, 0), amount(h, k[0]), amount(w, k[1]), (0, 0)))


def conv2d(x, kernel, bias, padding):
    kh, kw, cin, cout = kernel.shape
    if padding == 'same':
        x = pad_same(x, (kh, kw))
    n, h, w, _ = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((n, oh, ow, cout), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum('nhwc,cd->nhwd', x[:, i:i + oh, j:j + ow, :], kernel[i, j])
    return out + bias


def bilinear_half_pixel(x, size):
    # TensorFlow 2's resize (what Keras's UpSampling2D uses): output i samples (i + 0.5) / s - 0.5.
    def axis_weights(n, s):
        src = (np.arange(n * s) + 0.5) / s - 0.5
        f = np.floor(src)
        lo = np.clip(f, 0, n - 1).astype(int)
        hi = np.clip(f + 1, 0, n - 1).astype(int)
        return lo, hi, src - f
    _, h, w, _ = x.shape
    lo, hi, t = axis_weights(h, size[0])
    x = x[:, lo] * (1 - t)[None, :, None, None] + x[:, hi] * t[None, :, None, None]
    lo, hi, t = axis_weights(w, size[1])
    return x[:, :, lo] * (1 - t)[None, None, :, None] + x[:, :, hi] * t[None, None, :, None]


def activation(x, name):
    if name == 'relu':
        return np.maximum(x, 0)
    if name == 'sigmoid':
        return 1 / (1 + np.exp(-x))
    if name == 'softmax':
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == 'linear':
        return x
    raise ValueError(name)


def main():
    spec = json.load(sys.stdin)
    W = {k: np.array(v['data'], dtype=np.float64).reshape(v['shape']) for k, v in spec['weights'].items()}
    x0 = np.array(spec['input']['data'], dtype=np.float64).reshape(spec['input']['shape'])
    out = {}
    last = None
    for l in spec['layers']:
        name, cls, cfg = l['name'], l['cls'], l['config']
        ins = [out[i] for i in l['inbound']]
        if cls == 'InputLayer':
            y = x0
        elif cls == 'Conv2D':
            y = activation(conv2d(ins[0], W[name + '/kernel'], W[name + '/bias'], cfg['padding']), cfg['activation'])
        elif cls == 'BatchNormalization':
            g, b, m, v = (W[name + '/' + k] for k in ('gamma', 'beta', 'moving_mean', 'moving_variance'))
            y = g * (ins[0] - m) / np.sqrt(v + cfg['epsilon']) + b
        elif cls == 'ReLU':
            y = np.maximum(ins[0], 0)
        elif cls == 'Dropout':
            y = ins[0]
        elif cls == 'MaxPooling2D':
            a = ins[0]
            n, h, w, c = a.shape
            y = a[:, :h // 2 * 2, :w // 2 * 2, :].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
        elif cls == 'UpSampling2D' and cfg['interpolation'] == 'bilinear':
            y = bilinear_half_pixel(ins[0], cfg['size'])
        elif cls == 'UpSampling2D':
            y = ins[0].repeat(cfg['size'][0], axis=1).repeat(cfg['size'][1], axis=2)
        elif cls == 'Concatenate':
            y = np.concatenate(ins, axis=-1)
        else:
            raise ValueError('no reference for ' + cls)
        out[name] = y
        last = y
    json.dump({'shape': list(last.shape), 'data': last.ravel().tolist()}, sys.stdout)


main()
