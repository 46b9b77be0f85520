import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace is on the default export under ESM.
const { onnx } = onnxProto;

export type AttributeValue = number | number[] | string | { floats: number[] };

/** One graph input or output: a float or uint8 tensor with fixed or named (symbolic) dimensions. */
export interface ValueSpec {
  name: string;
  elementType: 'float' | 'uint8';
  dims: (number | string)[];
}

/**
 * Accumulates the nodes and initializers of an ONNX graph. Node outputs get unique names derived from
 * a readable prefix, so a model viewer shows where each tensor comes from.
 */
export class OnnxGraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A float initializer (weights, biases, per-channel scales). Its bytes are copied only when encoding. */
  floats(name: string, dims: readonly number[], values: Float32Array): string {
    const unique = this.uniqueName(name);
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push({ name: unique, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw });
    return unique;
  }

  /** An int64 initializer (shapes, slice bounds, pads). */
  int64s(name: string, values: readonly number[]): string {
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] });
    return unique;
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: readonly string[], outputName: string, attributes: Record<string, AttributeValue> = {}): string {
    const output = this.uniqueName(outputName);
    this.nodes.push({
      opType,
      name: output,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  /** A node with several outputs (e.g. MaxPool's values and indices); returns their names in order. */
  nodeWithOutputs(opType: string, inputs: readonly string[], outputNames: readonly string[], attributes: Record<string, AttributeValue> = {}): string[] {
    const outputs = outputNames.map((n) => this.uniqueName(n));
    this.nodes.push({
      opType,
      name: outputs[0],
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }

  /** A float32 scalar initializer. */
  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  /** Renames the producer of `tensor` so the graph exposes it under `name` (graph outputs). */
  rename(tensor: string, name: string): string {
    const producer = this.nodes.find((n) => n.output?.[0] === tensor);
    if (!producer?.output) throw new Error(`no node produces ${tensor}`);
    producer.output[0] = name;
    this.used.add(name);
    return name;
  }

  /** The serialized ModelProto. */
  encode(options: { graphName: string; inputs: ValueSpec[]; outputs: ValueSpec[]; opset: number; docString: string; metadata: Record<string, string> }): Uint8Array {
    const model: Onnx.IModelProto = {
      irVersion: 8,
      producerName: 'stm-studio',
      docString: options.docString,
      opsetImport: [{ domain: '', version: options.opset }],
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

function attribute(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: types.INT, i: value };
  if (Array.isArray(value)) return { name, type: types.INTS, ints: value };
  return { name, type: types.FLOATS, floats: value.floats };
}

function valueInfo(spec: ValueSpec): Onnx.IValueInfoProto {
  const elemType = spec.elementType === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.UINT8;
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: spec.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
