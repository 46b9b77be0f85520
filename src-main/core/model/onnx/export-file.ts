import { writeFileAtomic } from '../../files/atomic-write.ts';
import { checkpointInfoFromMetadata } from '../checkpoint.ts';
import type { StmVariant } from '../config.ts';
import { readSafetensors } from '../safetensors.ts';
import { buildStmOnnx, type OnnxInputFormat } from './export.ts';

export interface ExportOnnxRequest {
  /** A checkpoint or weights file (safetensors, PyTorch names, architecture in `__metadata__`). */
  weights: string;
  out: string;
  input?: OnnxInputFormat;
  /** Square input side; default: the checkpoint's. */
  size?: number;
  /** A fixed batch of clips per run (faster in ONNX Runtime); default: dynamic. */
  clips?: number;
}

export interface ExportOnnxResult {
  out: string;
  bytes: number;
  variant: StmVariant;
  frames: number;
  size: number;
  classes: number;
  /** Fixed clips per run, or null for a dynamic batch. */
  clips: number | null;
  input: { name: string; format: OnnxInputFormat; shape: (number | string)[] };
  outputs: { name: string; shape: (number | string)[] }[];
  opset: number;
}

/** ONNX bytes of the network a weights file describes, with its class names and normalisation in the metadata. */
export function onnxFromWeights(weights: string, options: Pick<ExportOnnxRequest, 'input' | 'size' | 'clips'> = {}): { bytes: Uint8Array; result: Omit<ExportOnnxResult, 'out' | 'bytes'> } {
  const file = readSafetensors(weights);
  const info = checkpointInfoFromMetadata(file.metadata, weights);
  const format = options.input ?? 'float-nchw';
  const { bytes, summary } = buildStmOnnx(
    file.tensors,
    info.config,
    { input: format, normalization: info.normalization, classNames: info.classNames, inputSize: options.size, clips: options.clips },
    weights,
  );
  return {
    bytes,
    result: {
      variant: info.config.variant,
      frames: info.config.frames,
      size: options.size ?? info.config.inputSize,
      classes: info.config.classes,
      clips: options.clips ?? null,
      input: { name: summary.input.name, format, shape: summary.input.dims },
      outputs: summary.outputs.map((o) => ({ name: o.name, shape: o.dims })),
      opset: summary.opset,
    },
  };
}

/** Exports a weights file to an ONNX file, written atomically (files/atomic-write.ts). */
export function exportOnnxFile(request: ExportOnnxRequest): ExportOnnxResult {
  const { bytes, result } = onnxFromWeights(request.weights, request);
  writeFileAtomic(request.out, bytes, 'ONNX file');
  return { out: request.out, bytes: bytes.length, ...result };
}
