#!/usr/bin/env node
// `node scripts/gpu-pack.mjs [out-dir]`: writes a self-contained folder (under 64 MiB) that runs the model bench
// on a GPU machine that has no Node, no network and no copy of this repository: this Node binary (xz), the bench
// bundled into one file, the probe child bundled likewise, Dawn's native module (webgpu's dawn.node, xz), a
// Vulkan loader for machines without one, the PyTorch reference and run.sh, which unpacks, points Dawn at
// NVIDIA's Vulkan driver and prints the bench's JSON lines. Linux x64 only (the machines it is made for).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'gpu-pack'));
const LIMIT = 64 * 2 ** 20;
const require = createRequire(join(root, 'package.json'));

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`error: the GPU pack is made on and for Linux x64 (this is ${process.platform}-${process.arch})`);
  process.exit(2);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const xz = (src, dest) => writeFileSync(dest, execFileSync('xz', ['-9e', '-T0', '-c', src], { maxBuffer: 512 * 2 ** 20 }));

// One ESM file per entry; `webgpu` stays outside (it loads dawn.node from next to itself). tfjs's CommonJS
// parts call require(), which an ESM bundle does not have.
const banner = { js: "import { createRequire as __packRequire } from 'node:module'; const require = __packRequire(import.meta.url);" };
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'], banner, logLevel: 'error', legalComments: 'none', minify: true };
await build({ ...common, entryPoints: [join(root, 'bench/lib/gpu-run.ts')], outfile: join(out, 'bench.mjs') });
// backends.ts starts the GPU probe from the file next to its own module: here, next to bench.mjs.
await build({ ...common, entryPoints: [join(root, 'src-main/core/compute/gpu-probe-child.mjs')], outfile: join(out, 'gpu-probe-child.mjs') });

const webgpu = dirname(require.resolve('webgpu/package.json'));
const webgpuOut = join(out, 'node_modules/webgpu');
mkdirSync(join(webgpuOut, 'dist/linux-x64'), { recursive: true });
for (const file of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(webgpu, file), join(webgpuOut, file));
xz(join(webgpu, 'dist/linux-x64/dawn.node'), join(out, 'dawn.node.xz'));
xz(realpathSync(process.execPath), join(out, 'node.xz'));

// Dawn dlopens the Vulkan loader; a GPU machine set up for CUDA alone may lack it. run.sh uses this copy only then.
const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1'].find(existsSync);
if (loader) {
  mkdirSync(join(out, 'lib'));
  copyFileSync(realpathSync(loader), join(out, 'lib/libvulkan.so.1'));
}
copyFileSync(join(root, 'bench/reference/stm.py'), join(out, 'stm.py'));

writeFileSync(
  join(out, 'run.sh'),
  `#!/bin/sh
# Runs the STM model bench on this machine's GPU: tfjs on WebGPU (Dawn on Vulkan), then PyTorch on CUDA (fp32,
# and bf16 autocast with channels-last). Prints one JSON line per figure. Needs xz, and python3 with torch for
# the reference figures. Environment: STM_BENCH_MODEL=tiny (smoke test), STM_BACKEND (default webgpu),
# VK_ICD_FILENAMES (default: NVIDIA's Vulkan driver), STM_BENCH_TORCH_DEVICE (default cuda), STM_BENCH_PYTHON.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=\${STM_PACK_WORK:-$(mktemp -d)}
mkdir -p "$work/node_modules/webgpu/dist/linux-x64"
[ -x "$work/node" ] || { xz -dc "$here/node.xz" > "$work/node"; chmod +x "$work/node"; }
[ -f "$work/node_modules/webgpu/dist/linux-x64/dawn.node" ] || xz -dc "$here/dawn.node.xz" > "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$here/node_modules/webgpu/index.js" "$here/node_modules/webgpu/package.json" "$work/node_modules/webgpu/"
cp "$here/bench.mjs" "$here/gpu-probe-child.mjs" "$here/stm.py" "$work/"
if [ -z "\${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$icd" ]; then export VK_ICD_FILENAMES="$icd"; break; fi
  done
fi
if [ -z "\${VK_ICD_FILENAMES:-}" ]; then
  echo '{"suite":"model","figure":"vulkan driver","value":0,"unit":"missing","reason":"no nvidia_icd.json under /usr/share/vulkan/icd.d or /etc/vulkan/icd.d; set VK_ICD_FILENAMES"}'
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\\.so\\.1 ' && [ -d "$here/lib" ]; then
  export LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export STM_BACKEND="\${STM_BACKEND:-webgpu}"
export STM_BENCH_TORCH_DEVICE="\${STM_BENCH_TORCH_DEVICE:-cuda}"
export STM_BENCH_PYTHON="\${STM_BENCH_PYTHON:-python3}"
export STM_BENCH_REFERENCE="$work/stm.py"
cd "$work"
exec "$work/node" "$work/bench.mjs"
`,
);
chmodSync(join(out, 'run.sh'), 0o755);

const sizeOf = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
const total = sizeOf(out);
console.log(`${out}: ${(total / 2 ** 20).toFixed(1)} MiB (limit 64 MiB); run it with ${join(out, 'run.sh')}`);
if (total >= LIMIT) {
  console.error('error: the pack is over 64 MiB');
  process.exit(1);
}
