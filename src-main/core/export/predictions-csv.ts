/** The predictions CSV (docs/formats.md): one row per window and direction, all videos in one file. */
import { argmax } from '../figures/metrics.ts';
import { seconds, writeCsvTable, type CsvCell } from './csv-table.ts';

export interface PredictionCsvRow {
  video: string;
  videoPath: string;
  direction: 'forward' | 'reversed';
  window: number;
  startFrame: number;
  endFrame: number;
  startS: number;
  endS: number;
  probabilities: ArrayLike<number>;
}

export function predictionsCsvHeader(classNames: readonly string[]): string[] {
  return [
    'video', 'video_path', 'model', 'direction', 'window', 'start_frame', 'end_frame', 'start_s', 'end_s',
    'top1', 'top1_score', ...classNames.map((c) => `p_${c}`),
  ];
}

export async function writePredictionsCsv(
  file: string,
  model: string,
  classNames: readonly string[],
  rows: Iterable<PredictionCsvRow> | AsyncIterable<PredictionCsvRow>,
): Promise<number> {
  async function* cells(): AsyncIterable<CsvCell[]> {
    for await (const r of rows) {
      const best = argmax(r.probabilities);
      yield [
        r.video, r.videoPath, model, r.direction, r.window, r.startFrame, r.endFrame, seconds(r.startS), seconds(r.endS),
        classNames[best], r.probabilities[best], ...Array.from(r.probabilities),
      ];
    }
  }
  return writeCsvTable(file, predictionsCsvHeader(classNames), cells());
}
