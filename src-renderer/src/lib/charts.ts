import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement,
  PointElement, ScatterController, Tooltip, type ChartConfiguration,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, ScatterController, CategoryScale, LinearScale, Legend, Tooltip, Filler);
Chart.defaults.color = '#9099ab';
Chart.defaults.borderColor = '#2a2f3a';
Chart.defaults.font.size = 11;
Chart.defaults.font.family = 'Inter, system-ui, sans-serif';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

export { Chart };
export type { ChartConfiguration };

/** Series colours that stay apart on the dark theme. */
export const SERIES = { train: '#5b9cff', val: '#f0b44c', ok: '#4cc38a', bad: '#ff6b6b' };
