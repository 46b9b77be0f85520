/**
 * `npm run bench -- kernels`: convolution forward, input gradient and filter gradient on the wasm backend
 * (with STM Studio's training kernels) at ResNet-50 shapes, GFLOP/s, and each gradient's time relative to
 * the forward convolution at the same shape (best of 10 interleaved runs each). Targets: dX ≤ 1.5×, dW ≤ 2×
 * forward. Also BatchNorm's per-channel mean over N·H·W against what the stock wasm kernel does (transpose,
 * then reduce the last axis); target ≥ 1.5× faster.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src-main/core/compute/backends.ts';
import { report, reportRatio, round, timeInterleaved } from './lib/report.ts';

interface Shape {
  label: string;
  x: [number, number, number, number];
  kernel: number;
  outChannels: number;
  stride: number;
}

const SHAPES: Shape[] = [
  { label: 'layer1 3x3 s1 8x28x28x64->64', x: [8, 28, 28, 64], kernel: 3, outChannels: 64, stride: 1 },
  { label: 'layer2.0 3x3 s2 8x56x56x128->128', x: [8, 56, 56, 128], kernel: 3, outChannels: 128, stride: 2 },
  { label: 'bottleneck 1x1 s1 8x28x28x256->64', x: [8, 28, 28, 256], kernel: 1, outChannels: 64, stride: 1 },
  { label: 'downsample 1x1 s2 8x56x56x256->512', x: [8, 56, 56, 256], kernel: 1, outChannels: 512, stride: 2 },
];

const SUITE = 'kernels';

export async function run(): Promise<void> {
  const selection = await selectBackend('wasm');
  report({ suite: SUITE, figure: 'backend', value: 0, unit: 'info', backend: selection.name });
  for (const shape of SHAPES) await measureShape(shape);
  await measureChannelMean([8, 56, 56, 256]);
}

async function measureChannelMean(shape: [number, number, number, number]): Promise<void> {
  const x = tf.randomNormal(shape) as tf.Tensor4D;
  const rows = x.reshape([-1, shape[3]]);
  const once = (op: () => tf.Tensor) => () => tf.tidy(() => void op().dataSync());
  const [oursMs, stockMs] = await timeInterleaved([once(() => tf.mean(x, [0, 1, 2])), once(() => tf.mean(tf.transpose(rows), 1))]);
  tf.dispose([x, rows]);
  const label = `channel mean ${shape.join('x')}`;
  report({ suite: SUITE, figure: `wasm ${label}`, value: round(oursMs, 2), unit: 'ms', stockMs: round(stockMs, 2) });
  reportRatio(SUITE, `${label}: stock kernel / heap pass`, stockMs / oursMs, { min: 1.5 });
}

async function measureShape(shape: Shape): Promise<void> {
  const { x: xShape, kernel: k, outChannels, stride } = shape;
  const x = tf.randomNormal(xShape) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, xShape[3], outChannels]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, stride, 'same');
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const flops = 2 * y.size * k * k * xShape[3];

  const once = (op: () => tf.Tensor) => () => {
    const out = op();
    out.dataSync();
    out.dispose();
  };
  const filterShape = w.shape;
  const [forwardMs, inputGradMs, filterGradMs] = await timeInterleaved([
    once(() => tf.conv2d(x, w, stride, 'same')),
    once(() => tf.conv2dTranspose(dy, w, xShape, stride, 'same')),
    once(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape }) as tf.Tensor),
  ]);
  tf.dispose([x, w, y, dy]);

  for (const [op, ms] of [
    ['forward', forwardMs],
    ['input grad', inputGradMs],
    ['filter grad', filterGradMs],
  ] as const) {
    report({ suite: SUITE, figure: `wasm conv ${op} ${shape.label}`, value: round(ms, 2), unit: 'ms', gflops: round(flops / ms / 1e6, 2) });
  }
  reportRatio(SUITE, `input grad / forward ${shape.label}`, inputGradMs / forwardMs, { max: 1.5 });
  reportRatio(SUITE, `filter grad / forward ${shape.label}`, filterGradMs / forwardMs, { max: 2 });
}
