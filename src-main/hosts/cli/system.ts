import type { Command } from 'commander';
import { withoutProject, printJson, intOption } from './context.ts';
import type { DoctorReport } from '../../core/doctor.ts';

function formatDoctor(r: DoctorReport): string {
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const lines = [
    `${mark(r.node.ok)} Node ${r.node.version}`,
    `${mark(r.electron.available)} Electron: ${r.electron.reason}`,
    `${mark(!!r.ffmpeg.path)} ffmpeg: ${r.ffmpeg.path ? `${r.ffmpeg.version} at ${r.ffmpeg.path} (via ${r.ffmpeg.source})` : r.ffmpeg.reason}`,
    `${mark(!!r.ffprobe.path)} ffprobe: ${r.ffprobe.path ? `${r.ffprobe.version} at ${r.ffprobe.path} (via ${r.ffprobe.source})` : r.ffprobe.reason}`,
    `✓ SQLite ${r.sqlite.version}`,
    'Compute backends (best first):',
    ...r.backends.map((b) => `  ${mark(b.available)} ${b.name.padEnd(14)} ${b.reason}`),
  ];
  return lines.join('\n');
}

export function registerSystem(program: Command): void {
  program
    .command('doctor')
    .description('check Node, Electron, ffmpeg/ffprobe, SQLite and every compute backend')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const { client } = withoutProject();
      const report = await client.call('app.doctor', {});
      if (opts.json) printJson(report);
      else process.stdout.write(`${formatDoctor(report)}\n`);
    });

  program
    .command('serve')
    .description('serve the app in a browser at a local URL with an access token')
    .argument('[project]', 'project folder to open (created if missing); default: the last project, else the default one')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 0)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--open', 'open the system browser')
    .action(async (project: string | undefined, opts: { port: number; host: string; open?: boolean }) => {
      const { startWebHost } = await import('../web/server.ts');
      const { openInBrowser } = await import('../web/open-browser.ts');
      const { resolveStartupProject } = await import('../../api/startup.ts');
      const projectDir = project ?? (await resolveStartupProject());
      const host = await startWebHost({ projectDir, port: opts.port, host: opts.host });
      process.stdout.write(`STM Studio is serving ${host.projectDir ?? 'no project'} at ${host.url}\n`);
      if (opts.open) openInBrowser(host.openUrl());
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          void host.close().then(resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
