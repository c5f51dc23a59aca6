/**
 * Report charts as static SVG (ECharts server-side rendering): no script, no animation, the same
 * bytes for the same data, so the PDF needs nothing but the HTML.
 */
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { TrustReport } from './report-model.js';

echarts.use([BarChart, GridComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

/** The report's palette; the stylesheet uses the same colours. */
const chartColors = {
  ink: '#1b2a41',
  muted: '#5b6b82',
  grid: '#e3e8ef',
  succeeded: '#2f8f6b',
  failed: '#c2410c',
  denied: '#d9a21b',
  awaiting: '#7c8db5',
  baseline: '#b8c2d1',
  primary: '#1f4e8c',
} as const;

const textStyle = {
  fontFamily: 'Liberation Sans, DejaVu Sans, Arial, sans-serif',
  color: chartColors.ink,
};

type Option = echarts.EChartsCoreOption;

function toSvg(option: Option, width: number, height: number, id: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, silent: true, textStyle, ...option });
    // Inline SVG in HTML needs no namespaces; hover styles and ECharts metadata mean nothing on paper.
    return stableIds(chart.renderToSVGString(), id)
      .replace(/ (xmlns(:xlink)?|ecmeta_\w+)="[^"]*"/g, '')
      .replace(/<style[\s\S]*?<\/style>\s*/g, '');
  } finally {
    chart.dispose();
  }
}

/** zrender numbers instances, classes and clip paths process-wide; renumber them per chart. */
function stableIds(svg: string, id: string): string {
  const seen = new Map<string, number>();
  return svg.replace(/\bzr\d+-([a-z]+-?)(\d+)\b/g, (_, kind: string, n: string) => {
    const key = kind + n;
    if (!seen.has(key)) seen.set(key, seen.size);
    return `${id}-${kind}${seen.get(key)}`;
  });
}

const weekday = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });

/** Runs per day of the week, stacked by outcome. */
export function runsByDayChart(rows: TrustReport['runsByDay']): string {
  const series = (['succeeded', 'failed', 'denied', 'awaiting'] as const).map((outcome) => ({
    name: outcome[0]?.toUpperCase() + outcome.slice(1),
    type: 'bar',
    stack: 'runs',
    emphasis: { disabled: true },
    barWidth: '55%',
    itemStyle: { color: chartColors[outcome] },
    data: rows.map((row) => row[outcome]),
  }));
  return toSvg(
    {
      legend: { top: 0, right: 0, itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 11 } },
      grid: { left: 36, right: 8, top: 30, bottom: 24 },
      xAxis: {
        type: 'category',
        data: rows.map((row) => weekday(row.day)),
        axisTick: { show: false },
      },
      yAxis: {
        type: 'value',
        minInterval: 1,
        splitLine: { lineStyle: { color: chartColors.grid } },
      },
      series,
    },
    660,
    220,
    'runs',
  );
}

/** Share of routine events resolved by playbooks, as a bar against the goal line; null without data. */
export function coverageChart(coverage: TrustReport['coverage']): string | null {
  if (coverage.share === null) return null;
  const pct = (value: number) => Math.round(value * 1000) / 10;
  const met = coverage.share >= coverage.goal;
  return toSvg(
    {
      grid: { left: 8, right: 16, top: 22, bottom: 22 },
      xAxis: {
        type: 'value',
        min: 0,
        max: 100,
        interval: 20,
        axisLabel: { formatter: '{value} %', fontSize: 10 },
        splitLine: { lineStyle: { color: chartColors.grid } },
      },
      yAxis: { type: 'category', data: [''], axisLine: { show: false }, axisTick: { show: false } },
      series: [
        {
          type: 'bar',
          barWidth: 26,
          emphasis: { disabled: true },
          data: [pct(coverage.share)],
          itemStyle: { color: met ? chartColors.succeeded : chartColors.failed },
          label: {
            show: true,
            position: 'insideRight',
            color: '#fff',
            fontWeight: 'bold',
            formatter: '{c} %',
          },
          markLine: {
            symbol: 'none',
            silent: true,
            lineStyle: { color: chartColors.ink, type: 'dashed', width: 1.5 },
            label: { formatter: `Goal ${pct(coverage.goal)} %`, position: 'end', fontSize: 10 },
            data: [{ xAxis: pct(coverage.goal) }],
          },
        },
      ],
    },
    660,
    90,
    'coverage',
  );
}

/** Mean minutes to mitigate per playbook this week, beside its pre-automation baseline. */
export function mttmChart(rows: TrustReport['slo']['mttm']): string | null {
  if (rows.length === 0) return null;
  const ordered = [...rows].reverse(); // ECharts draws categories bottom-up
  const bar = (name: string, color: string, data: (number | null)[]) => ({
    name,
    type: 'bar',
    barGap: '15%',
    emphasis: { disabled: true },
    itemStyle: { color },
    label: { show: true, position: 'right', fontSize: 10, formatter: '{c} min' },
    data,
  });
  return toSvg(
    {
      legend: { top: 0, right: 0, itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 11 } },
      grid: { left: 8, right: 56, top: 28, bottom: 20 },
      xAxis: {
        type: 'value',
        splitLine: { lineStyle: { color: chartColors.grid } },
        axisLabel: { fontSize: 10 },
      },
      yAxis: {
        type: 'category',
        data: ordered.map((row) => row.playbook),
        axisTick: { show: false },
      },
      series: [
        bar(
          'Baseline (before automation)',
          chartColors.baseline,
          ordered.map((r) => r.baselineMinutes),
        ),
        bar(
          'Mean this week',
          chartColors.primary,
          ordered.map((r) => r.meanMinutes),
        ),
      ],
    },
    660,
    Math.max(120, 48 + rows.length * 34),
    'mttm',
  );
}
