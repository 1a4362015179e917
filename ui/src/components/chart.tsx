import { useEffect, useRef, useState } from "preact/hooks";
import type uPlot from "uplot";

/**
 * uPlot charts, loaded on first use so the sign-in and list pages do not pay for the library.
 * Width follows the container; series colours come from the palette below.
 */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars instead of a line. */
  bars?: boolean;
  /** Values are 0..1 ratios shown as percentages. */
  percent?: boolean;
  fill?: boolean;
}

export const PALETTE = ["#2f5bd3", "#c2352b", "#1d7a46", "#d68b00", "#6b4fd3", "#229ed9", "#5d6778"];

let loading: Promise<typeof uPlot> | null = null;
function loadUPlot() {
  loading ??= Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([m]) => m.default);
  return loading;
}

export function TimeChart({
  label,
  times,
  series,
  height = 200,
  yMax,
}: {
  /** Accessible name: the chart is also described by the data table or figures next to it. */
  label: string;
  /** Unix seconds. */
  times: number[];
  series: ChartSeries[];
  height?: number;
  yMax?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [failed, setFailed] = useState(false);
  const data = [times, ...series.map((s) => s.values)] as uPlot.AlignedData;
  const latest = useRef(data);
  latest.current = data;
  // The chart is rebuilt only when its shape (series, height, yMax) changes; new figures
  // (polling) go through setData.
  const shape = JSON.stringify({
    series: series.map(({ values: _v, ...rest }) => rest),
    height,
    yMax,
    sparse: series.map((s) => s.values.filter((v) => v !== null).length <= 48),
  });

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | undefined;
    loadUPlot()
      .then((UPlot) => {
        if (cancelled || !box.current) return;
        plot.current?.destroy();
        plot.current = new UPlot(
          chartOptions(UPlot, box.current.clientWidth || 600, height, series, yMax, times),
          latest.current,
          box.current,
        );
        observer = new ResizeObserver(() => {
          if (box.current && plot.current) plot.current.setSize({ width: box.current.clientWidth, height });
        });
        observer.observe(box.current);
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(latest.current);
  });

  if (failed) return <p class="chart-empty">The chart could not be drawn. Reload the page to try again.</p>;
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

function chartOptions(
  UPlot: typeof uPlot,
  width: number,
  height: number,
  series: ChartSeries[],
  yMax: number | undefined,
  times: number[],
): uPlot.Options {
  const bars = UPlot.paths.bars?.({ size: [0.7, 40] });
  const step = times.length > 1 ? times[1]! - times[0]! : 3600;
  return {
    width,
    height,
    legend: { show: series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: {
      // Half a bucket of room on each side so the first and last bars are drawn whole.
      x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] },
      y: yMax !== undefined ? { range: [0, yMax] } : { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    axes: [
      { stroke: "#5d6778", grid: { stroke: "#eef0f3" } },
      {
        stroke: "#5d6778",
        grid: { stroke: "#eef0f3" },
        values: series[0]?.percent ? (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) : undefined,
      },
    ],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        fill: s.bars || s.fill ? `${s.color}33` : undefined,
        paths: s.bars ? bars : undefined,
        spanGaps: false,
        // Dots where values are few, so a lone bucket with requests is still visible.
        points: { show: !s.bars && s.values.filter((v) => v !== null).length <= 48, size: 7, fill: s.color },
        value: s.percent ? (_u: uPlot, v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`) : undefined,
      })),
    ],
  };
}
