import { useEffect, useRef } from 'preact/hooks';
import {
  ArcElement,
  BarController,
  BarElement,
  BubbleController,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';

// Only what the console draws, so the rest of Chart.js stays out of the bundle.
Chart.register(
  BarController,
  BarElement,
  BubbleController,
  PointElement,
  DoughnutController,
  ArcElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
);
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
Chart.defaults.color = '#3b4456';
// Drawn at once: the numbers change while people type, and an animation would always lag behind them.
Chart.defaults.animation = false;

export const PALETTE = ['#2a5bd7', '#e07b39', '#2f9e6e', '#b8458f', '#8c6bd8', '#c9a227', '#4aa3c7', '#d1495b', '#6c757d', '#5c946e'];

/**
 * A Chart.js chart in a canvas that says what it shows (`label`, read by screen readers, and the `name` tests find it
 * by). The chart is made once and updated in place when `config` changes.
 */
export function ChartView<T extends ChartType>({
  config,
  label,
  height = 220,
}: {
  config: ChartConfiguration<T>;
  label: string;
  height?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart>(undefined);
  // The chart instance is typed loosely: each caller's config is checked against its own chart type above.
  const loose = config as unknown as ChartConfiguration;
  useEffect(() => {
    chart.current = new Chart(canvas.current!, { ...loose, options: sized(loose.options) });
    return () => chart.current?.destroy();
    // Made once; updated in place below.
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data = loose.data;
    c.options = sized(loose.options);
    c.update();
  }, [config]);
  return (
    <div class="chart" style={{ height: `${height}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** Fills its box (the box has the height), whatever the canvas' own size. */
const sized = (options: ChartConfiguration['options']): NonNullable<ChartConfiguration['options']> => ({
  responsive: true,
  maintainAspectRatio: false,
  ...options,
});

export interface Bar {
  label: string;
  value: number;
}

/** Horizontal bars: counts per value, the longest first as the API sorts them. */
export function BarChart({
  bars,
  label,
  color = PALETTE[0]!,
  format,
}: {
  bars: Bar[];
  label: string;
  color?: string;
  format?: (n: number) => string;
}) {
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: bars.map((b) => b.label),
      datasets: [{ label, data: bars.map((b) => b.value), backgroundColor: color, borderRadius: 3 }],
    },
    options: {
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: format ? { callbacks: { label: (item) => format(Number(item.raw)) } } : {},
      },
      scales: {
        x: {
          beginAtZero: true,
          // Counts get whole-number ticks only.
          ticks: {
            ...(bars.every((b) => Number.isInteger(b.value)) ? { precision: 0 } : {}),
            ...(format ? { callback: (v) => format(Number(v)) } : {}),
          },
        },
        y: { ticks: { autoSkip: false } },
      },
    },
  };
  const summary = `${label}: ${bars.map((b) => `${b.label} ${format ? format(b.value) : b.value}`).join(', ')}`;
  return <ChartView config={config} label={summary} height={Math.max(90, 26 * bars.length + 40)} />;
}

/** Parts of a whole, as a ring. */
export function DoughnutChart({ bars, label, colors }: { bars: Bar[]; label: string; colors?: string[] }) {
  const config: ChartConfiguration<'doughnut'> = {
    type: 'doughnut',
    data: {
      labels: bars.map((b) => b.label),
      datasets: [{ label, data: bars.map((b) => b.value), backgroundColor: colors ?? bars.map((_, i) => PALETTE[i % PALETTE.length]!) }],
    },
    options: { plugins: { legend: { position: 'right' } }, cutout: '55%' },
  };
  return <ChartView config={config} label={`${label}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`} height={200} />;
}
