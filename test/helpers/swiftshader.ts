import { existsSync } from 'node:fs';

/** SwiftShader's Vulkan driver as Debian's chromium package ships it (CPU only: what CI has instead of a GPU). */
export const SWIFTSHADER_ICD = process.env.SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points Dawn at SwiftShader for this process and the workers and probe children it starts, so the webgpu
 * backend runs on a software adapter (the tests force it: auto selection never picks one).
 */
export function useSwiftShader(): void {
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new Error(`SwiftShader's Vulkan driver is not at ${SWIFTSHADER_ICD}: apt-get install -y chromium libvulkan1`);
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
