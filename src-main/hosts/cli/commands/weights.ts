import type { Command } from 'commander';
import type { CommandGroups } from './index.ts';
import type { CachedWeights, DownloadProgress, StartingPoint } from '../../../api/contract/weights.ts';
import type { ApiClient } from '../../../api/client.ts';
import { ApiError } from '../../../api/client.ts';
import { printJson, withoutProject } from '../context.ts';
import { interruptSignal, progressBar } from '../progress.ts';

const MB = 1e6;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

function statusOf(e: StartingPoint): string {
  if (e.status === 'cached') return 'downloaded';
  if (e.status === 'partial') return `partial (${mb(e.partialBytes)} of ${e.bytes ? mb(e.bytes) : `≈${mb(e.approxBytes)}`})`;
  return 'not downloaded';
}

function progressNote(p: DownloadProgress): string {
  if (p.phase === 'verifying') return p.note === 'verified' ? 'verified' : 'verifying sha256…';
  if (p.phase === 'retrying') return p.note ?? 'retrying';
  const eta = p.etaS === null ? '' : ` · ETA ${p.etaS < 90 ? `${Math.ceil(p.etaS)} s` : `${Math.ceil(p.etaS / 60)} min`}`;
  return `${mb(p.done)}${p.total ? ` of ${mb(p.total)}` : ''} · ${(p.rate / MB).toFixed(1)} MB/s${eta}`;
}

/** `weights list | get | import`: pretrained starting points in the per-user cache. */
export function registerWeights(program: Command, _groups: CommandGroups): void {
  const weights = program.command('weights').description('pretrained weights to start fine-tuning from: list the catalogue, download, import offline files');

  weights
    .command('list')
    .description('the catalogue (ImageNet ResNet-50, Kinetics-400 and Something-Something v2 TSM) and what is downloaded')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const listing = await withoutProject().client.call('weights.list', {});
      if (opts.json) return printJson(listing);
      const lines: string[] = [];
      for (const e of listing.catalogue) {
        lines.push(
          `${e.name}  ${statusOf(e)}`,
          `  ${e.title}; ${e.bytes ? mb(e.bytes) : `≈${mb(e.approxBytes)}`}, sha256 ${e.sha256.length === 64 ? e.sha256 : `${e.sha256}… (published prefix)`}`,
          `  top-1 ${e.top1.value} on ${e.top1.on} (${e.top1.protocol}); trained on ${e.trainedOn}`,
          `  fits: ${e.fits}; licence: ${e.licence}`,
          `  ${e.downloadUrl}`,
        );
      }
      for (const c of listing.custom) lines.push(`${c.name}  custom (${mb(c.bytes)}, sha256 ${c.sha256}, layout ${c.layers?.join(',')} width ${c.width}) from ${c.origin}`);
      lines.push(`cache: ${listing.cacheDir}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  weights
    .command('get')
    .description('download catalogue weights into the per-user cache (resumes an interrupted download; verified by sha256)')
    .argument('<name>', 'catalogue name (see "weights list")')
    .option('--json', 'print one JSON object')
    .action(async (name: string, opts: { json?: boolean }) => {
      const result = await downloadWithProgress(withoutProject().client, name);
      if (!result) return;
      if (opts.json) printJson(result);
      else process.stdout.write(`${result.name}: ${result.path} (${mb(result.bytes)}, sha256 ${result.sha256})\n`);
    });

  weights
    .command('import')
    .description('file weights you downloaded yourself into the cache: a catalogue file is recognised by its sha256, any other ResNet-50-family file is kept as custom after the loading checks')
    .argument('<file>', 'weights file (.pth, .pth.tar, .pt or .safetensors)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await withoutProject().client.call('weights.import', { file });
      if (opts.json) return printJson(result);
      const w = result.weights;
      const check = result.check;
      const what = result.entry
        ? `${result.entry.title}, recognised by its sha256 ${w.sha256}`
        : check
          ? `not in the catalogue; loads into STM as ${check.source} weights, layout ${check.layers.join(',')} width ${check.width}, ${check.matched} tensors`
          : `custom, sha256 ${w.sha256}`;
      process.stdout.write(`${w.name}: ${result.alreadyCached ? 'already in the cache' : 'filed in the cache'} at ${w.path} (${what})\n`);
    });
}

/**
 * Downloads catalogue weights with a progress bar (MB, rate, ETA) on stderr; the first Ctrl-C cancels and keeps
 * what was downloaded (exit 130). Resolves with the cached file, or null when cancelled.
 */
export async function downloadWithProgress(client: ApiClient, name: string): Promise<CachedWeights | null> {
  const bar = progressBar(`${name} (MB)`);
  const interrupt = interruptSignal();
  const stop = client.on('weights.progress', (p) => {
    if (p.name === name) bar.update(Math.round(p.done / 1e5) / 10, Math.max(Math.round((p.total ?? p.done) / 1e5) / 10, 0.1), progressNote(p));
  });
  const onAbort = () => void client.call('weights.cancel', { name });
  interrupt.signal.addEventListener('abort', onAbort);
  try {
    const result = await client.call('weights.get', { name });
    bar.stop();
    return result;
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'cancelled')) throw err;
    bar.stop();
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 130;
    return null;
  } finally {
    bar.stop();
    stop();
    interrupt.signal.removeEventListener('abort', onAbort);
    interrupt.dispose();
  }
}
