/** Number formats shared by the views, so one quantity reads the same everywhere. */

/**
 * A Jensen–Shannon divergence (bits, 0…1) with enough digits to tell rows apart: small ones, which are most
 * of a confident model's, in scientific notation rather than as "0.000".
 */
export function formatDivergence(bits: number): string {
  if (bits === 0) return '0';
  return bits >= 0.01 ? bits.toFixed(3) : bits.toExponential(1);
}

/** A job or model figure: counts as integers ("best epoch 1"), small values with their digits, others to 3 places. */
export function formatFigure(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 0.01) return value.toExponential(2);
  return value.toFixed(3);
}

/** A frame rate as "12 fps" or "29.97 fps": whole rates without decimals, others to two places. */
export function formatFps(fps: number | null | undefined): string {
  if (!fps) return '? fps';
  const rounded = Math.round(fps * 100) / 100;
  return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(2)} fps`;
}
