import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildDemoProject, type DemoOutcome, type DemoStage, type ModelFigures } from '../../../app/demo-pipeline.ts';
import { DEMO_SETTINGS, QUICK_DEMO_SETTINGS } from '../../../core/demo/settings.ts';
import { printJson, withProject } from '../context.ts';
import { interruptSignal, progressBar, type ProgressReporter } from '../progress.ts';
import type { CommandGroups } from './groups.ts';

interface DemoOptions {
  json?: boolean;
  quick?: boolean;
}

export const DEFAULT_DEMO_DIR = 'stm-studio-demo';

/** The figures as `--json` prints them: flat keys, as the README and scripts quote them. */
export function demoJson(outcome: DemoOutcome): Record<string, number | string> {
  const flat: Record<string, number | string> = {};
  for (const [variant, figures] of [['stm', outcome.stm], ['tsn', outcome.tsn]] as const) {
    flat[`${variant}.temporal_top1`] = round(figures.temporalTop1);
    flat[`${variant}.scene_top1`] = round(figures.sceneTop1);
    flat[`${variant}.flip_rate`] = round(figures.flipRate);
  }
  flat.seconds = Math.round(outcome.seconds);
  flat.dir = outcome.dir;
  return flat;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

export function demoTable(outcome: DemoOutcome): string {
  const row = (name: string, pick: (f: ModelFigures) => number) =>
    `${name.padEnd(28)}${pick(outcome.stm).toFixed(2).padStart(6)}${pick(outcome.tsn).toFixed(2).padStart(8)}`;
  return [
    'Synthetic reverse-pair actions (validation clips; a miniature of the STM paper’s temporal claim, not its datasets)',
    `${''.padEnd(28)}${'STM'.padStart(6)}${'TSN'.padStart(8)}`,
    row('temporal pairs top-1', (f) => f.temporalTop1),
    row('scene classes top-1', (f) => f.sceneTop1),
    row('reversal flip rate', (f) => f.flipRate),
    `${outcome.seconds.toFixed(0)} s · project ${outcome.dir} · CSVs in ${outcome.dir}/exports`,
  ].join('\n');
}

/** Registers `demo`. */
export function registerDemo(program: Command, _groups: CommandGroups): void {
  program
    .command('demo')
    .description('generate the synthetic temporal-actions project, train STM and TSN on it, probe, export, and compare')
    .argument('[dir]', 'folder for the demo project (must not hold a project with videos)', DEFAULT_DEMO_DIR)
    .option('--quick', 'fewer videos and epochs (same direction of results, about a third of the time)')
    .option('--json', 'print one JSON object with the figures')
    .action(async (dir: string, opts: DemoOptions) => {
      const target = resolve(dir);
      const interrupt = interruptSignal();
      let bar: ProgressReporter | null = null;
      let current: DemoStage | null = null;
      try {
        const outcome = await withProject(
          target,
          (local) =>
            buildDemoProject(local.client, target, opts.quick ? QUICK_DEMO_SETTINGS : DEMO_SETTINGS, {
              signal: interrupt.signal,
              onProgress: (stage, done, total) => {
                if (stage !== current) {
                  bar?.stop();
                  bar = progressBar(`demo: ${stage}`);
                  current = stage;
                }
                bar?.update(done, Math.max(total, 1));
              },
            }),
          { create: true },
        );
        (bar as ProgressReporter | null)?.stop();
        if (opts.json) printJson(demoJson(outcome));
        else process.stdout.write(`${demoTable(outcome)}\n`);
      } finally {
        (bar as ProgressReporter | null)?.stop();
        interrupt.dispose();
      }
    });
}
