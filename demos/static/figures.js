// The statistics behind the demo's figures, computed in the learner's browser from what its own sockets saw. The
// definitions are those of demos/protocol/metrics.py (the benchmark's), so a figure means the same on the page and in a
// benchmark table; tests/unit/test_metrics.py runs this file in node and checks that both give the same numbers for
// the same samples (summarize, estimateClockOffset).
'use strict';

window.wsDemo = window.wsDemo || {};

// The q-th percentile (0..100) of ascending `sorted`, by linear interpolation between closest ranks (type 7).
wsDemo.percentile = (sorted, q) => {
  const rank = (sorted.length - 1) * q / 100;
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
};

wsDemo.summarize = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    p50: wsDemo.percentile(sorted, 50),
    p95: wsDemo.percentile(sorted, 95),
    p99: wsDemo.percentile(sorted, 99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
};

// NTP-style: the exchange with the shortest round trip bounds the error best (offset ± round trip / 2).
// Exchanges are [client_sent, server_time, client_received]; a negative round trip (a clock jump) is ignored.
wsDemo.estimateClockOffset = (exchanges) => {
  let best = null;
  for (const [clientSent, serverTime, clientReceived] of exchanges) {
    const roundTrip = clientReceived - clientSent;
    if (roundTrip < 0) continue;
    if (best === null || roundTrip < best.roundTripMs) {
      best = { offsetMs: serverTime - (clientSent + clientReceived) / 2, roundTripMs: roundTrip };
    }
  }
  return best && { ...best, maxErrorMs: best.roundTripMs / 2, exchanges: exchanges.length };
};

// Updates skipped between the first and the last one received (0 = every update arrived).
wsDemo.missingSeqs = (seqs) => {
  if (seqs.size === 0) return 0;
  let low = Infinity;
  let high = -Infinity;
  for (const seq of seqs) {
    low = Math.min(low, seq);
    high = Math.max(high, seq);
  }
  return high - low + 1 - seqs.size;
};

// Fill a content template: "Polling asked {requests} times" with { requests: 12 }. Unknown names stay visible.
wsDemo.fill = (template, values) => template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));

// Figures as the page shows them: thousands separated, a fixed number of decimals, a dash when unknown.
wsDemo.formatNumber = (value, decimals = 0) => (value === null || value === undefined || Number.isNaN(value) ? '—'
  : Number(value).toLocaleString('en', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }));
