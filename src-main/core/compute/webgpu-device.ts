/**
 * The WebGPU device tfjs runs on, seen from a job: how many clips fit one run within the adapter's buffer
 * limits, and the device's loss or an out-of-memory error, which fail the job with their reason instead of
 * hanging it or returning zeros. On the other backends every function here is a no-op.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import type { StmConfig } from '../model/config.ts';

/** The parts of a GPUDevice used here (the tfjs webgpu backend keeps the device it requested). */
interface WatchedDevice {
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  lost: Promise<{ reason: string; message: string }>;
  addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string; constructor: { name: string } } }) => void): void;
}

export interface GpuBufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

function activeDevice(): WatchedDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: WatchedDevice }).device ?? null;
}

/** The buffer limits of the device tfjs runs on (tfjs asks the adapter for its maxima), or null off webgpu. */
export function gpuBufferLimits(): GpuBufferLimits | null {
  const device = activeDevice();
  if (!device) return null;
  return { maxBufferSize: device.limits.maxBufferSize, maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize };
}

/**
 * Bytes of the largest buffer one clip needs in a forward or backward pass: the stem's output padded for the
 * max-pool, T·(S/2 + 2)²·width floats (layer 1's output, T·(S/4)²·4·width, is a little smaller), or the padded
 * input frames.
 */
export function largestBufferPerClip(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>): number {
  const { frames, inputSize: size, baseWidth } = config;
  return 4 * frames * Math.max((size / 2 + 2) ** 2 * baseWidth, (size + 6) ** 2 * 3);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;

export interface RunSize {
  /** Clips per forward (and backward) pass: the requested batch, or fewer where the adapter's buffers are too small. */
  clips: number;
  /** Why a batch runs in parts, with the numbers; null when it runs whole. */
  note: string | null;
}

/**
 * How many of `requested` clips one pass may hold on the current device. A clip that cannot fit even alone is a
 * UserError with the numbers (never a driver error halfway through a job).
 */
export function clipsPerRun(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>, requested: number, limits = gpuBufferLimits()): RunSize {
  if (!limits) return { clips: requested, note: null };
  const limit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const perClip = largestBufferPerClip(config);
  const fit = Math.floor(limit / perClip);
  const shape = `${config.frames} frames of ${config.inputSize}×${config.inputSize}, width ${config.baseWidth}`;
  const allowed = `this GPU adapter allows ${mib(limit)} per buffer (maxBufferSize ${mib(limits.maxBufferSize)}, maxStorageBufferBindingSize ${mib(limits.maxStorageBufferBindingSize)})`;
  if (fit < 1) {
    throw new UserError(
      'unavailable',
      `One clip (${shape}) needs a ${mib(perClip)} GPU buffer, but ${allowed}. Use fewer frames or a smaller input size, or a CPU backend.`,
    );
  }
  if (fit >= requested) return { clips: requested, note: null };
  return {
    clips: fit,
    note: `batch of ${requested} clips runs in parts of at most ${fit}: one clip (${shape}) needs a ${mib(perClip)} buffer and ${allowed}`,
  };
}

/** The first problem each device reported: its loss, or an error no caller caught (out of memory, validation). */
const problems = new WeakMap<WatchedDevice, { lost: Promise<never>; error: string | null }>();

function watch(device: WatchedDevice): { lost: Promise<never>; error: string | null } {
  let watched = problems.get(device);
  if (!watched) {
    const state: { lost: Promise<never>; error: string | null } = {
      lost: device.lost.then((info) => {
        throw new UserError('unavailable', `The GPU device was lost (${info.reason}): ${info.message || 'the driver gave no reason'}.`);
      }),
      error: null,
    };
    state.lost.catch(() => {}); // observed through `whileDeviceAlive`; never an unhandled rejection
    device.addEventListener('uncapturederror', (event) => {
      state.error ??= `${event.error.constructor.name === 'GPUOutOfMemoryError' ? 'the GPU ran out of memory' : 'the GPU reported an error'}: ${event.error.message.split('\n')[0]!.replace(/\.$/, '')}`;
    });
    problems.set(device, state);
    watched = state;
  }
  return watched;
}

/** Starts watching the current device for loss and errors (call once a job has selected its backend). */
export function watchGpuDevice(): void {
  const device = activeDevice();
  if (device) watch(device);
}

/**
 * Awaits GPU work (a read of results), failing with the device's reason when it is lost meanwhile or reported
 * an error: a lost device may never answer a pending read, and a failed buffer reads back as zeros.
 */
export async function whileDeviceAlive<T>(work: Promise<T>): Promise<T> {
  const device = activeDevice();
  if (!device) return work;
  const watched = watch(device);
  let result: T;
  try {
    result = await Promise.race([work, watched.lost]);
  } catch (err) {
    // A read that fails because the device went away: report the loss, which says why.
    await Promise.race([watched.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
    throw err;
  }
  const error = watched.error;
  if (error) {
    watched.error = null; // reported once, by the read that noticed it
    throw new UserError('unavailable', `${error[0]!.toUpperCase()}${error.slice(1)}; the job stopped.`);
  }
  return result;
}
