// The lanes panel's delay chart, as numbers: each lane's latest samples turned into SVG points and axis ticks in the
// chart box's own pixels. The panel (lesson/panels/lanes_panel.js) draws them; this file only does the arithmetic.
'use strict';

window.wsDemo = window.wsDemo || {};

// Drawn in the box's own pixels (the panel sets the width from its box): its 11 px text stays 11 px on a phone.
wsDemo.DELAY_CHART = { width: 640, height: 240, left: 48, right: 12, top: 22, bottom: 32 };

// The chart's width follows its box, never under 280 px (the returned observer is the panel's to disconnect).
wsDemo.fitChartWidth = function fitChartWidth(box, chart) {
  const MIN_CHART_WIDTH = 280;
  const resizer = new ResizeObserver(() => {
    chart.width = Math.max(MIN_CHART_WIDTH, Math.round(box.clientWidth));
  });
  resizer.observe(box);
  return resizer;
};

// 1, 2 or 5 times a power of ten: axis steps a reader can add up.
wsDemo.niceStep = function niceStep(rough) {
  if (!(rough > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const scaled = rough / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
};

// shown: [[laneId, samples]] with samples [seq, madeAt, receivedAt] (ms); offsetMs: the server clock minus ours.
// The delay axis starts at 0 and ends on a nice step above the longest delay; seq runs across.
wsDemo.delayChart = function delayChart(shown, offsetMs, c) {
  let minSeq = Infinity;
  let maxSeq = -Infinity;
  let maxDelay = 1;
  for (const [, samples] of shown) {
    for (const [seq, madeAt, receivedAt] of samples) {
      minSeq = Math.min(minSeq, seq);
      maxSeq = Math.max(maxSeq, seq);
      maxDelay = Math.max(maxDelay, receivedAt + offsetMs - madeAt);
    }
  }
  if (minSeq === Infinity) { minSeq = 0; maxSeq = 1; }
  if (maxSeq === minSeq) maxSeq = minSeq + 1;
  const step = wsDemo.niceStep(maxDelay / 4);
  const top = Math.ceil(maxDelay / step) * step;
  const x = (seq) => c.left + (seq - minSeq) / (maxSeq - minSeq) * (c.width - c.left - c.right);
  const y = (ms) => c.height - c.bottom - Math.max(0, ms) / top * (c.height - c.top - c.bottom);
  const xStep = wsDemo.niceStep((maxSeq - minSeq) / 5);
  const xTicks = [];
  for (let seq = Math.ceil(minSeq / xStep) * xStep; seq <= maxSeq; seq += xStep) xTicks.push({ value: seq, x: x(seq) });
  const yTicks = [];
  for (let ms = 0; ms <= top + 1e-9; ms += step) yTicks.push({ value: +ms.toFixed(1), y: y(ms) });
  return {
    xTicks, yTicks,
    series: shown.map(([id, samples]) => ({
      id, count: samples.length,
      points: [...samples].sort((a, b) => a[0] - b[0])
        .map(([seq, madeAt, receivedAt]) => `${x(seq).toFixed(1)},${y(receivedAt + offsetMs - madeAt).toFixed(1)}`)
        .join(' '),
    })),
  };
};

// The chart in words, for a screen reader: each lane's median and how many updates it is over.
wsDemo.delayChartLabel = function delayChartLabel(title, lanes, summaries) {
  const parts = lanes.map((lane) => {
    const summary = summaries[lane.id];
    return summary ? `${lane.title}: median ${summary.p50.toFixed(1)} ms over ${summary.count} updates`
      : `${lane.title}: no updates yet`;
  });
  return `${title}. ${parts.join('; ')}.`;
};
