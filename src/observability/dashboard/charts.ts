/**
 * Dashboard charts as inline SVG (ECharts server-side rendering, as the Trust Report draws its own):
 * no script, no style element or attribute (the page's CSP allows neither), scaled by CSS.
 */
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, LegendComponent, SVGRenderer]);

/** The dashboard's palette; dashboard.css uses the same colours. */
const palette = {
  ink: '#1b2a41',
  muted: '#5b6b82',
  grid: '#e3e8ef',
  succeeded: '#2f8f6b',
  failed: '#c2410c',
  denied: '#c98a12',
  awaiting: '#7c8db5',
  primary: '#1f4e8c',
} as const;

const textStyle = {
  fontFamily: 'Liberation Sans, DejaVu Sans, Arial, sans-serif',
  color: palette.ink,
  fontSize: 13,
};

/** `style="a:b;c:d"` → `a="b" c="d"`: SVG presentation attributes, which no CSP blocks. */
const presentational = (svg: string) =>
  svg.replace(/ style="([^"]*)"/g, (_, css: string) =>
    css
      .split(';')
      .map((decl) => decl.split(':'))
      .filter(
        (pair): pair is [string, string] => pair.length === 2 && /^[a-z-]+$/.test(pair[0] ?? ''),
      )
      .map(([prop, value]) => ` ${prop}="${value.trim()}"`)
      .join(''),
  );

function toSvg(option: echarts.EChartsCoreOption, id: string, width = 440, height = 260) {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, silent: true, textStyle, ...option });
    const seen = new Map<string, number>();
    const svg = chart
      .renderToSVGString()
      // zrender numbers ids process-wide; number them per chart so two never clash on one page.
      .replace(/\bzr\d+-([a-z]+-?)(\d+)\b/g, (_, kind: string, n: string) => {
        if (!seen.has(kind + n)) seen.set(kind + n, seen.size);
        return `${id}-${kind}${seen.get(kind + n)}`;
      })
      .replace(/ (xmlns(:xlink)?|ecmeta_\w+|width|height)="[^"]*"(?=[^>]*viewBox)/g, '')
      .replace(/ (xmlns(:xlink)?|ecmeta_\w+)="[^"]*"/g, '')
      .replace(/<style[\s\S]*?<\/style>\s*/g, '');
    return presentational(svg).replace('<svg ', '<svg aria-hidden="true" focusable="false" ');
  } finally {
    chart.dispose();
  }
}

const legend = {
  top: 0,
  left: 0,
  itemWidth: 10,
  itemHeight: 10,
  itemGap: 12,
  textStyle: { fontSize: 13 },
};
const valueAxis = {
  type: 'value',
  minInterval: 1,
  splitLine: { lineStyle: { color: palette.grid } },
  axisLabel: { color: palette.muted, fontSize: 13 },
};
const categoryAxis = (labels: string[]) => ({
  type: 'category',
  data: labels,
  axisTick: { show: false },
  axisLine: { lineStyle: { color: palette.grid } },
  axisLabel: { color: palette.muted, fontSize: 13, hideOverlap: true },
});

export interface OutcomeSeries {
  labels: string[];
  succeeded: number[];
  failed: number[];
  denied: number[];
  awaiting: number[];
}

/** Runs per bucket of the window, stacked by outcome. */
export function runsChart(s: OutcomeSeries): string {
  const series = (['succeeded', 'failed', 'denied', 'awaiting'] as const).map((outcome) => ({
    name:
      outcome === 'awaiting' ? 'Awaiting approval' : outcome[0]?.toUpperCase() + outcome.slice(1),
    type: 'bar',
    stack: 'runs',
    barMaxWidth: 28,
    itemStyle: { color: palette[outcome] },
    data: s[outcome],
  }));
  return toSvg(
    {
      legend,
      grid: { left: 34, right: 8, top: 36, bottom: 28 },
      xAxis: categoryAxis(s.labels),
      yAxis: valueAxis,
      series,
    },
    'runs',
  );
}

/** The most frequent reasons runs did not succeed, as horizontal bars. */
export function reasonsChart(rows: ReadonlyArray<{ label: string; runs: number }>): string {
  const ordered = [...rows].reverse(); // ECharts draws categories bottom-up
  return toSvg(
    {
      grid: {
        left: 8,
        right: 36,
        top: 8,
        bottom: 22,
        outerBoundsMode: 'same',
        outerBoundsContain: 'axisLabel',
      },
      xAxis: valueAxis,
      yAxis: {
        ...categoryAxis(ordered.map((r) => r.label)),
        axisLabel: { color: palette.ink, fontSize: 13, width: 180, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 18,
          itemStyle: { color: palette.failed },
          label: { show: true, position: 'right', color: palette.ink, fontSize: 13 },
          data: ordered.map((r) => r.runs),
        },
      ],
    },
    'reasons',
    440,
    Math.max(120, 40 + rows.length * 30),
  );
}

/** Actions counted against budgets and decisions a budget denied, per bucket. */
export function budgetChart(s: { labels: string[]; actions: number[]; denied: number[] }): string {
  const bar = (name: string, color: string, data: number[]) => ({
    name,
    type: 'bar',
    barGap: '10%',
    barMaxWidth: 16,
    itemStyle: { color },
    data,
  });
  return toSvg(
    {
      legend,
      grid: { left: 34, right: 8, top: 36, bottom: 28 },
      xAxis: categoryAxis(s.labels),
      yAxis: valueAxis,
      series: [
        bar('Actions within budget', palette.primary, s.actions),
        bar('Denied by a budget', palette.denied, s.denied),
      ],
    },
    'budget',
  );
}
