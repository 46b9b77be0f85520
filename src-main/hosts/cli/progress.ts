import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number, note?: string): void;
  stop(): void;
}

/**
 * A progress bar with rate and ETA on stderr (stdout stays clean for --json). Silent when stderr is not a
 * terminal, except for a line every 10%.
 */
export function progressBar(label: string): ProgressReporter {
  if (!process.stderr.isTTY) {
    let lastDecile = -1;
    return {
      update(done, total, note) {
        const decile = total > 0 ? Math.floor((done / total) * 10) : 0;
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${label}: ${done}/${total}${note ? ` ${note}` : ''}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {percentage}% {value}/{total} · ETA {eta_formatted} {note}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, note = '') {
      if (!started) {
        bar.start(total, done, { note });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { note });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** An AbortSignal that fires on the first Ctrl-C; a second Ctrl-C exits at once. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nCancelling… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
