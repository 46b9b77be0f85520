/**
 * GPU rungs are probed in a short-lived child process (gpu-probe-child.mjs): Dawn and CUDA print native
 * warnings straight to stderr, and a broken driver can crash or hang the process that loads it. Here the
 * child's stderr becomes a one-line summary inside the reason, and a crash or a timeout is a reason too.
 * Each rung is probed once per process: the main thread hands its results to worker threads it starts later
 * through the environment (a worker's environment is a copy of the main thread's at its start).
 */
import { spawn } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

export type GpuRung = 'webgpu' | 'tfjs-node-gpu';

export type GpuProbe = { ok: true; description: string; software: boolean } | { ok: false; reason: string };

export interface GpuProbeOptions {
  /** The child script (tests point this at a script that crashes or hangs like a broken driver). */
  script?: string;
  timeoutMs?: number;
}

/** Dawn answers in well under a second; CUDA may compile kernels for a new GPU on first use. */
const TIMEOUT_MS: Record<GpuRung, number> = { webgpu: 20_000, 'tfjs-node-gpu': 60_000 };
const LABEL: Record<GpuRung, string> = { webgpu: 'Dawn (WebGPU)', 'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu' };
const CHILD_SCRIPT = fileURLToPath(new URL('./gpu-probe-child.mjs', import.meta.url));
const CACHE_ENV = 'STM_STUDIO_GPU_PROBES';
/** Enough for every driver message we summarise; a runaway driver must not fill memory. */
const MAX_STDERR_CHARS = 64 * 1024;

const probes = new Map<GpuRung, Promise<GpuProbe>>();

/** The rung's probe result, probing in a child process the first time in this process. */
export function probeGpu(rung: GpuRung): Promise<GpuProbe> {
  let probe = probes.get(rung);
  if (!probe) {
    const inherited = inheritedProbes()[rung];
    probe = inherited ? Promise.resolve(inherited) : runGpuProbe(rung).then((result) => shareWithWorkers(rung, result));
    probes.set(rung, probe);
  }
  return probe;
}

function inheritedProbes(): Partial<Record<GpuRung, GpuProbe>> {
  try {
    return JSON.parse(process.env[CACHE_ENV] ?? '{}') as Partial<Record<GpuRung, GpuProbe>>;
  } catch {
    return {};
  }
}

function shareWithWorkers(rung: GpuRung, result: GpuProbe): GpuProbe {
  if (isMainThread) process.env[CACHE_ENV] = JSON.stringify({ ...inheritedProbes(), [rung]: result });
  return result;
}

interface ChildOutcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError: Error | null;
}

/** Runs the probe child once (no cache). */
export async function runGpuProbe(rung: GpuRung, options: GpuProbeOptions = {}): Promise<GpuProbe> {
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS[rung];
  const outcome = await runChild(options.script ?? CHILD_SCRIPT, [rung], timeoutMs);
  return interpret(rung, outcome, timeoutMs);
}

function runChild(script: string, args: string[], timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    // ELECTRON_RUN_AS_NODE: inside the Electron app, process.execPath is Electron, which must act as plain Node.
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    const outcome: ChildOutcome = { stdout: '', stderr: '', code: null, signal: null, timedOut: false, spawnError: null };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (outcome.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (outcome.stderr.length < MAX_STDERR_CHARS) outcome.stderr += chunk;
    });
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ...outcome, spawnError: err });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ...outcome, code, signal });
    });
  });
}

type ChildReport = { ok: true; description: string; software: boolean } | { ok: false; problem?: string };

function interpret(rung: GpuRung, outcome: ChildOutcome, timeoutMs: number): GpuProbe {
  const label = LABEL[rung];
  const summary = summariseDriverOutput(outcome.stderr);
  const lastWords = summary || lastLine(outcome.stderr);
  const withSummary = (text: string) => (lastWords ? `${text}: ${lastWords}` : text);
  if (outcome.spawnError) return { ok: false, reason: `the ${label} probe could not start: ${outcome.spawnError.message}` };
  if (outcome.timedOut) {
    return { ok: false, reason: withSummary(`${label} did not answer within ${Math.round(timeoutMs / 1000)} s (a hanging GPU driver); the probe was stopped`) };
  }
  const report = parseReport(outcome.stdout);
  if (!report) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
    return { ok: false, reason: withSummary(`${label} crashed while looking for a GPU (the probe process ${how})`) };
  }
  if (report.ok) return report;
  if (report.problem) return { ok: false, reason: `${label} failed: ${report.problem}${summary ? ` (${summary})` : ''}` };
  return { ok: false, reason: `Dawn found no GPU adapter (${summary || 'no working Vulkan, Metal or D3D12 driver'})` };
}

function parseReport(stdout: string): ChildReport | null {
  const line = stdout.trim().split('\n').pop();
  if (!line) return null;
  try {
    return JSON.parse(line) as ChildReport;
  } catch {
    return null;
  }
}

function lastLine(text: string): string {
  const line = text.trim().split(/\r?\n/).pop()?.trim() ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Driver messages that say nothing about the GPU (Dawn asks for a display socket a headless run never has). */
const NOISE = [/XDG_RUNTIME_DIR/];

/**
 * The driver messages of a child's stderr as one line: Dawn's "Warning: Vulkan X required." followed by
 * " - While initializing adapter (backend=BackendType::Vulkan)" becomes "Vulkan: X required"; TensorFlow's
 * "2024-… W tensorflow/…/dso_loader.cc:64] Could not load …" keeps the message after the bracket.
 */
export function summariseDriverOutput(stderr: string): string {
  const lines = stderr.split(/\r?\n/);
  const messages: string[] = [];
  lines.forEach((line, i) => {
    const dawn = /^(?:error|warning):\s*(.+)$/i.exec(line.trim());
    const tensorflow = /^\S+ \S+: [EWF] \S+\]\s*(.+)$/.exec(line.trim());
    const text = (dawn ?? tensorflow)?.[1]?.trim().replace(/\.$/, '');
    if (!text || NOISE.some((re) => re.test(text))) return;
    const backend = /backend=BackendType::(\w+)/.exec(lines[i + 1] ?? '')?.[1];
    const message = backend ? `${backend}: ${text.replace(new RegExp(`^${backend}\\s+`, 'i'), '')}` : text;
    if (!messages.includes(message)) messages.push(message);
  });
  const joined = messages.join('; ');
  return joined.length > 300 ? `${joined.slice(0, 297)}...` : joined;
}
