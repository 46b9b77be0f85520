import { describe, expect, it } from 'vitest';
import { formatDivergence, formatFigure, formatFps } from '../../../src-renderer/src/lib/format.ts';

describe('numbers as the views show them', () => {
  it('gives small divergences their digits, so rows sort visibly', () => {
    expect([2.4e-4, 3.1e-5, 1.2e-8, 0, 0.31].map(formatDivergence)).toEqual(['2.4e-4', '3.1e-5', '1.2e-8', '0', '0.310']);
  });

  it('shows counts as counts and one frame rate one way', () => {
    expect(formatFigure(1)).toBe('1'); // "best epoch 1", not "1.000"
    expect(formatFigure(0.8766)).toBe('0.877');
    expect(formatFigure(0.00012)).toBe('1.20e-4');
    expect([12, 11.99999, 12.000001, 29.97, 25].map(formatFps)).toEqual(['12 fps', '12 fps', '12 fps', '29.97 fps', '25 fps']);
  });
});
