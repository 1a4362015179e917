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

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | undefined;
    loadUPlot()
      .then((UPlot) => {
        if (cancelled || !box.current) return;
        const width = box.current.clientWidth || 600;
        const bars = UPlot.paths.bars?.({ size: [0.7, 40] });
        const opts: uPlot.Options = {
          width,
          height,
          legend: { show: series.length > 1 },
          cursor: { drag: { x: false, y: false } },
          scales: {
            x: { time: true },
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
              points: { show: times.length < 40 && !s.bars },
              value: s.percent
                ? (_u: uPlot, v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`)
                : undefined,
            })),
          ],
        };
        plot.current?.destroy();
        plot.current = new UPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, box.current);
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
  }, [times, series, height, yMax]);

  if (failed) return <p class="chart-empty">The chart could not be drawn. Reload the page to try again.</p>;
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
