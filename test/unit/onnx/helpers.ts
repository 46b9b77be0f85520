import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
export { relativeError } from '../../helpers/relative-error.ts';

export const golden = join(import.meta.dirname, '../../fixtures/stm-small.safetensors');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'stm-onnx-'));
}

