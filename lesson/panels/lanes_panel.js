// The comparison panel: polling, long polling, Server-Sent Events and WebSocket push on one session's feed. Runs in
// the learner's browser: the clients of demos/static/lanes.js report what they received, the inspection stream
// reports what the server's sockets counted, and this panel computes every figure and draws the chart itself (the
// chart's arithmetic is demos/static/delay_chart.js). The page server hears from it once per run (the `run` event:
// a summary the quiz quotes), never per update.
const COLORS = { poll: '#c2410c', longpoll: '#7c3aed', sse: '#0f766e', push: '#3949ab' };
const REDRAW_MS = 500;
const RUN_EVERY_MS = 10000;
// A running demo outlives a reload of its tab: NiceGUI reloads a page whose app instance died (the proxy has sent it
// to another), which would bring it back idle. The tab's sessionStorage says it was running, recently.
const RUNNING_KEY = 'wsDemo.lanes.running';
const RESUME_WITHIN_MS = 60000;

export default {
  template: `
  <div class="flex flex-col gap-3 w-full" data-panel="lanes">
    <div class="flex flex-wrap items-end gap-2">
      <q-btn no-caps color="primary" icon="play_arrow" :label="texts.start" :disable="!ready || running"
             :loading="starting" @click="start" data-control="start"></q-btn>
      <q-btn no-caps color="primary" icon="stop" :label="texts.stop" :disable="!running" @click="stop"
             data-control="stop"></q-btn>
      <q-btn no-caps outline class="demo-outline" icon="restart_alt" :label="texts.reset" :disable="!ready"
             @click="reset" data-control="reset"></q-btn>
      <label class="flex flex-col text-sm">{{ texts.poll_interval }}
        <select class="demo-select" v-model.number="pollIntervalMs" @change="changeInterval"
                data-control="poll-interval">
          <option v-for="[ms, label] in pollIntervals" :key="ms" :value="ms">{{ label }}</option>
        </select>
      </label>
      <label class="flex flex-col text-sm">{{ texts.update_rate }}
        <select class="demo-select" v-model.number="ratePerS" @change="changeRate" data-control="update-rate"
                :disabled="classFeedRate !== null">
          <option v-for="[rate, label] in rates" :key="rate" :value="rate">{{ label }}</option>
        </select>
      </label>
      <label class="flex flex-col text-sm">{{ texts.link }}
        <select class="demo-select" v-model="linkId" @change="askLink" :disabled="running || classLinkId !== null"
                data-control="link">
          <option v-for="[id, label] in profiles" :key="id" :value="id">{{ label }}</option>
        </select>
      </label>
      <label v-for="(value, name) in (linkId === 'custom' ? custom : {})" :key="name" class="flex flex-col text-sm">
        {{ texts['custom_' + name] }}<input class="demo-select w-28" type="number" min="0" v-model.number="custom[name]"
                               @change="askLink" :disabled="running" :data-control="'link-' + name"></label>
    </div>
    <p v-if="linkError" class="lesson-prose" role="alert" data-link-error>{{ linkError }}</p>
    <p v-if="classFeedRate !== null" class="lesson-prose font-semibold" role="status" data-class-feed
       :data-rate="classFeedRate">{{ classFeedText }}</p>
    <p v-if="classLinkId !== null" class="lesson-prose font-semibold" role="status" data-class-link
       :data-profile="classLinkId">{{ classLinkText }}</p>
    <p v-if="resumed" class="lesson-prose" role="status" data-resumed>{{ texts.resumed }}</p>
    <p class="lesson-prose" data-reading="lanes" aria-live="polite">{{ reading }}</p>
    <div v-if="linkReading" class="lesson-prose" data-link-reading :data-profile="link.profile.id">
      <p class="font-semibold">{{ texts.link_heading }}</p><p>{{ linkReading.intro }}</p>
      <ul><li v-for="line in linkReading.lines" :key="line.id" :data-link-lane="line.id"><strong>{{ line.title }}:</strong>
        {{ line.text }}</li></ul>
    </div>
    <div class="demo-table-box">
      <table class="demo-lanes-table" data-lanes-table>
        <caption class="sr-only">{{ texts.table_caption }}</caption>
        <thead>
          <tr>
            <th scope="col"><span class="sr-only">{{ texts.figure }}</span></th>
            <th v-for="lane in lanes" :key="lane.id" scope="col" :data-lane="lane.id">
              <span class="demo-swatch" :style="{ background: colors[lane.id] }" aria-hidden="true"></span>
              {{ lane.title }}
            </th>
          </tr>
        </thead>
        <tbody>
          <tr class="demo-status-row">
            <th scope="row">{{ texts.status }}</th>
            <td v-for="lane in lanes" :key="lane.id" :data-status="lane.id">{{ statuses[lane.id] }}</td>
          </tr>
          <tr v-for="row in tableRows.main" :key="row.key">
            <th scope="row">{{ row.label }}</th>
            <td v-for="cell in row.cells" :key="cell.name" class="font-mono tabular-nums" :data-figure="cell.name"
                :data-value="cell.raw === null ? '' : cell.raw" :title="cell.label">{{ cell.shown }}</td>
          </tr>
          <tr>
            <td :colspan="lanes.length + 1" class="demo-more-cell">
              <button class="demo-more" :aria-expanded="moreFigures ? 'true' : 'false'"
                      @click="moreFigures = !moreFigures" data-control="more-figures">
                {{ moreFigures ? texts.fewer_figures : texts.more_figures }}</button>
            </td>
          </tr>
          <tr v-for="row in tableRows.more" :key="row.key" v-show="moreFigures">
            <th scope="row">{{ row.label }}</th>
            <td v-for="cell in row.cells" :key="cell.name" class="font-mono tabular-nums" :data-figure="cell.name"
                :data-value="cell.raw === null ? '' : cell.raw" :title="cell.label">{{ cell.shown }}</td>
          </tr>
        </tbody>
      </table>
    </div>
    <p class="text-sm opacity-80">{{ texts.table_notes }}</p>
    <details class="text-sm">
      <summary class="cursor-pointer">{{ texts.good_for }}</summary>
      <dl class="grid grid-cols-1 md:grid-cols-2 gap-x-4 gap-y-2 mt-2">
        <div v-for="lane in lanes" :key="lane.id">
          <dt class="font-semibold flex items-center gap-2">
            <span class="demo-swatch" :style="{ background: colors[lane.id] }" aria-hidden="true"></span>{{ lane.title }}
          </dt>
          <dd class="m-0" :data-good-for="lane.id">{{ lane.good_for }}</dd>
        </div>
      </dl>
    </details>
    <figure class="w-full m-0">
      <figcaption class="text-sm font-semibold">{{ texts.chart }}</figcaption>
      <div class="demo-chart-box">
      <svg :viewBox="'0 0 ' + chart.width + ' ' + chart.height" class="w-full demo-chart" role="img"
           :aria-label="chartLabel" data-chart="delays">
        <g class="demo-axis">
          <line :x1="chart.left" :y1="chart.top" :x2="chart.left" :y2="chart.height - chart.bottom"></line>
          <line :x1="chart.left" :y1="chart.height - chart.bottom" :x2="chart.width - chart.right"
                :y2="chart.height - chart.bottom"></line>
          <template v-for="tick in chartData.yTicks" :key="'y' + tick.value">
            <line :x1="chart.left - 4" :x2="chart.width - chart.right" :y1="tick.y" :y2="tick.y"
                  class="demo-grid"></line>
            <text :x="chart.left - 6" :y="tick.y + 4" text-anchor="end">{{ tick.value }}</text>
          </template>
          <template v-for="tick in chartData.xTicks" :key="'x' + tick.value">
            <text :x="tick.x" :y="chart.height - chart.bottom + 16" text-anchor="middle">{{ tick.value }}</text>
          </template>
          <text :x="(chart.width + chart.left) / 2" :y="chart.height - 2" text-anchor="middle">seq</text>
          <text :x="chart.left - 6" :y="chart.top - 10" text-anchor="end">ms</text>
        </g>
        <polyline v-for="series in chartData.series" :key="series.id" :points="series.points" fill="none"
                  :stroke="colors[series.id]" stroke-width="1.5" :data-series="series.id"
                  :data-points="series.count"></polyline>
        <text v-if="!chartData.series.some((s) => s.count)" :x="chart.width / 2" :y="chart.height / 2"
              text-anchor="middle">{{ texts.chart_empty }}</text>
      </svg>
      </div>
      <div class="flex flex-wrap gap-3 text-sm">
        <span v-for="lane in lanes" :key="lane.id" class="flex items-center gap-1">
          <span class="demo-swatch" :style="{ background: colors[lane.id] }" aria-hidden="true"></span>{{ lane.title }}
        </span>
      </div>
    </figure>
    <details class="text-sm">
      <summary class="cursor-pointer">{{ texts.details }}</summary>
      <div class="flex flex-col gap-1 mt-2">
        <span v-for="(url, kind) in urls" :key="kind" class="font-mono break-all" :data-url="kind">{{ kind }}: {{ url }}</span>
        <span data-figure="clock-offset" :data-value="clock ? clock.offsetMs.toFixed(3) : ''">{{ clockText }}</span>
        <span data-figure="deflate" :data-value="deflate">{{ deflateText }}</span>
      </div>
    </details>
  </div>`,
  props: {
    setup: Object,
    lanes: Array,
    texts: Object,
    pollIntervals: Array,
    rates: Array,
    defaults: Object,
    profiles: Array,
    chartPoints: { type: Number, default: 200 },
  },
  emits: ['run'],
  data() {
    return {
      ready: false,
      resumed: false,  // started again by itself after a reload (see RUNNING_KEY)
      running: false,
      starting: false,
      pollIntervalMs: this.defaults.poll_interval_ms,
      linkId: 'same-room',  // the link profile the session's lanes travel (demos/protocol/link.py)
      custom: { ...wsDemo.CUSTOM_LINK }, // a custom link's figures, as the `link` command names them
      link: null, linkError: '',  // the answer to the latest `link` command: the profile, the model's forecast
      classFeedRate: null,  // the teacher's class feed rate while one feeds this page (the counts stream says)
      classLinkId: null,  // the link profile the teacher put the class on (the counts stream says), else null
      ratePerS: this.defaults.rate_per_s,
      tick: 0,
      statuses: Object.fromEntries(this.lanes.map((lane) => [lane.id, this.texts.status_idle])),
      moreFigures: false,
      server: {},
      deflateOffered: false,
      extensions: '',
      pushOpened: 0,
      urls: {},
      colors: COLORS,
      chart: { ...wsDemo.DELAY_CHART },  // its width follows the box (see mounted)
    };
  },
  created() {
    // Not reactive on purpose: thousands of samples; the figures are recomputed from them when `tick` moves.
    this.samples = Object.fromEntries(this.lanes.map((lane) => [lane.id, []]));
    this.seqs = Object.fromEntries(this.lanes.map((lane) => [lane.id, new Set()]));
    this.counts = Object.fromEntries(this.lanes.map((lane) => [lane.id, { requests: 0, empty: 0, failed: 0 }]));
    this.exchanges = [];
    this.lastRedraw = 0;
    this.lastRun = '';
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.urls = { ...this.hub.urls };
    delete this.urls.inspect;
    this.comparison = new wsDemo.LiveComparison({
      urls: this.hub.urls,
      pollIntervalMs: this.pollIntervalMs,
      onReport: (report) => this.take(report),
      onReady: () => this.feedReady(),
    });
    this.unsubscribe = [
      this.hub.on('inspector', (state) => {
        this.ready = state.state === 'open';
        if (this.ready && !this.running && this.wasRunning()) {
          this.resumed = true;
          this.start();
        }
        if (this.ready && !this.link) this.askLink();  // the model's figures for loopback, before any choice
      }),
      this.hub.on('counts', (counts) => {
        this.server = counts.lanes;
        this.deflateOffered = counts.permessage_deflate;
        this.classFeedRate = counts.class_feed_rate_per_s ?? null;
        if ((counts.class_link ?? null) !== this.classLinkId) this.followClassLink(counts.class_link ?? null);
        this.redraw();
      }),
    ];
    this.runTimer = setInterval(() => {
      if (!this.running) return;
      this.emitRun();
      this.keepRunning();
    }, RUN_EVERY_MS);
    this.resizer = wsDemo.fitChartWidth(this.$el.querySelector('.demo-chart-box'), this.chart);
  },
  unmounted() {
    this.resizer.disconnect();
    this.unsubscribe.forEach((off) => off());
    clearInterval(this.runTimer);
    this.comparison.stop();
  },
  computed: {
    clock() {
      this.tick;  // recomputed with the figures
      return wsDemo.estimateClockOffset(this.exchanges);
    },
    clockText() {
      const clock = this.clock;
      if (!clock) return this.texts.clock_unknown;
      return wsDemo.fill(this.texts.clock, {
        offset: (clock.offsetMs >= 0 ? '+' : '') + clock.offsetMs.toFixed(2), error: clock.maxErrorMs.toFixed(2),
        exchanges: clock.exchanges,
      });
    },
    classFeedText() {
      return wsDemo.fill(this.texts.class_feed_on, { rate: String(this.classFeedRate) });
    },
    deflate() {
      if (!this.pushOpened) return '';
      return this.extensions.includes('permessage-deflate') ? 'on' : 'off';
    },
    deflateText() {
      if (!this.deflate) return '';
      return this.deflate === 'on' ? this.texts.deflate_on : this.texts.deflate_off;
    },
    summaries() {
      this.tick;
      const offset = this.clock ? this.clock.offsetMs : 0;
      return Object.fromEntries(this.lanes.map((lane) => [lane.id, wsDemo.summarize(
        this.samples[lane.id].map(([, madeAt, receivedAt]) => receivedAt + offset - madeAt))]));
    },
    figures() {
      this.tick;
      const t = this.texts;
      return Object.fromEntries(this.lanes.map((lane) => {
        const id = lane.id;
        const server = this.server[id] || {};
        const counts = this.counts[id];
        const summary = this.summaries[id];
        const bytes = server.bytes_in === undefined ? null : server.bytes_in + server.bytes_out;
        const perUpdate = bytes !== null && server.updates_out > 0 ? bytes / server.updates_out : null;
        // The figures to compare at a glance first; the rest one click away (`more`).
        // [kind, name, label (this lane's own words), value, decimals, unit, more]
        const rows = [
          ['updates', `${id}-updates`, t.updates, this.samples[id].length, 0],
          ['requests', `${id}-requests`, lane.requests, counts.requests, 0],
          ['empty', `${id}-empty`, lane.empty, counts.empty, 0],
          ['connections', `${id}-connections`, t.connections, server.tcp_connections ?? null, 0],
          ['bytes-per-update', `${id}-bytes-per-update`, t.bytes_per_update, perUpdate, 1],
          ['delay-p50', `${id}-delay-p50`, t.delay_p50, summary && summary.p50, 1],
          ['delay-model', `${id}-delay-model`, t.delay_model, this.link && this.link.forecast[id].median_ms, 1],
          ['delay-p95', `${id}-delay-p95`, t.delay_p95, summary && summary.p95, 1],
          ['delay-model-p95', `${id}-delay-model-p95`, t.delay_model_p95, this.link && this.link.forecast[id].p95_ms, 1],
          ['missing', `${id}-missing`, t.missing, wsDemo.missingSeqs(this.seqs[id]), 0],
          ['server-updates', id === 'push' ? 'push-frames' : `${id}-server-updates`, t.push_frames,
            server.updates_out ?? null, 0, '', true],
          ['failed', `${id}-failed`, lane.failures, counts.failed, 0, '', true],
          ['bytes', `${id}-bytes`, t.bytes, bytes, 0, '', true],
          ['delay-mean', `${id}-delay-mean`, t.delay_mean, summary && summary.mean, 1, '', true],
        ];
        return [id, rows.map(([kind, name, label, value, decimals, unit, more]) => ({
          kind, name, label, more: Boolean(more),
          raw: value === null || value === undefined ? null : (decimals ? value.toFixed(3) : Math.round(value)),
          shown: value === null || value === undefined ? '—'
            : wsDemo.formatNumber(value, decimals) + (unit ? ` ${unit}` : ''),
        }))];
      }));
    },
    // The same figures as rows of one table: each row one figure, each column one lane, to compare across.
    tableRows() {
      const t = this.texts;
      const labels = {
        updates: t.updates, requests: t.row_requests, empty: t.row_empty, connections: t.connections,
        'bytes-per-update': t.bytes_per_update, 'delay-p50': t.delay_p50, 'delay-p95': t.delay_p95,
        'delay-model': t.delay_model, 'delay-model-p95': t.delay_model_p95,
        missing: t.missing, 'server-updates': t.server_updates, failed: t.row_failed, bytes: t.bytes,
        'delay-mean': t.delay_mean,
      };
      const first = this.figures[this.lanes[0].id];
      const rows = first.map((row) => ({
        key: row.kind, label: labels[row.kind], more: row.more,
        cells: this.lanes.map((lane) => this.figures[lane.id].find((cell) => cell.kind === row.kind)),
      }));
      return { main: rows.filter((row) => !row.more), more: rows.filter((row) => row.more) };
    },
    linkReading() { return wsDemo.linkReading(this.link, this.texts, this.lanes); },
    reading() {
      const s = this.summaries;
      if (!s.poll || !s.push) return this.ready ? this.texts.waiting : this.texts.connecting;
      const poll = this.counts.poll;
      const one = (value) => value.toFixed(1);
      const values = {
        poll_requests: poll.requests, poll_interval_ms: this.pollIntervalMs,
        poll_wasted_percent: poll.requests ? Math.round(100 * Math.min(poll.empty, poll.requests) / poll.requests) : 0,
        poll_p50: Math.round(s.poll.p50), poll_p95: Math.round(s.poll.p95),
        longpoll_p50: s.longpoll ? one(s.longpoll.p50) : '—', longpoll_requests: this.counts.longpoll.requests,
        sse_p50: s.sse ? one(s.sse.p50) : '—', push_p50: one(s.push.p50), push_p95: one(s.push.p95),
      };
      // "from 0 to a whole interval" only where the run bears it out (an outage makes p95 longer; so does a link)
      const late = s.poll.p95 > this.pollIntervalMs ? 'reading_poll_late' : 'reading_poll';
      const parts = [wsDemo.fill(this.texts[this.linkReading ? 'reading_poll_link' : late], values)];
      if (!poll.empty) parts.push(this.texts.reading_no_empty);
      if (s.longpoll) parts.push(wsDemo.fill(this.texts.reading_longpoll, values));
      if (s.sse) parts.push(wsDemo.fill(this.texts.reading_sse, values));
      parts.push(wsDemo.fill(this.texts.reading_push, values));
      const missed = this.lanes.map((lane) => [lane.title, wsDemo.missingSeqs(this.seqs[lane.id])])
        .filter(([, count]) => count > 0);
      if (missed.length) {
        const listed = missed.map(([title, count]) => `${title} ${count}`).join(', ');
        parts.push(wsDemo.fill(this.texts.reading_missed, { missed: listed }));
      }
      return parts.join(' ');
    },
    chartData() {
      this.tick;
      const shown = this.lanes.map((lane) => [lane.id, this.samples[lane.id].slice(-this.chartPoints)]);
      return wsDemo.delayChart(shown, this.clock ? this.clock.offsetMs : 0, this.chart);
    },
    chartLabel() { return wsDemo.delayChartLabel(this.texts.chart, this.lanes, this.summaries); },
    classLinkText() {
      const [, name] = this.profiles.find(([id]) => id === this.classLinkId) || [null, this.classLinkId];
      return wsDemo.fill(this.texts.class_link_on, { profile: name });
    },
  },
  methods: {
    start() {
      if (this.running || !this.ready) return;
      this.running = true;
      this.starting = true;
      this.runId = Date.now(); // numbers the run's summaries: each later run's is larger, across reloads too
      this.hub.command('rate', { rate_per_s: this.ratePerS });
      this.comparison.setPollInterval(this.pollIntervalMs);
      this.comparison.start();
      this.keepRunning();
    },
    keepRunning() {
      const state = { at: Date.now(), rate_per_s: this.ratePerS, poll_interval_ms: this.pollIntervalMs };
      try { sessionStorage.setItem(RUNNING_KEY, JSON.stringify(state)); } catch { /* storage off: no resume */ }
    },
    wasRunning() {
      let state = null;
      try { state = JSON.parse(sessionStorage.getItem(RUNNING_KEY) || 'null'); } catch { return false; }
      if (!state || !(Date.now() - state.at < RESUME_WITHIN_MS)) return false;
      if (this.rates.some(([rate]) => rate === state.rate_per_s)) this.ratePerS = state.rate_per_s;
      if (this.pollIntervals.some(([ms]) => ms === state.poll_interval_ms)) this.pollIntervalMs = state.poll_interval_ms;
      return true;
    },
    feedReady() {
      this.starting = false;
      if (this.running) this.hub.command('start', { rate_per_s: this.ratePerS });
    },
    stop() {
      this.running = false;
      this.starting = false;
      this.resumed = false;
      try { sessionStorage.removeItem(RUNNING_KEY); } catch { /* nothing kept */ }
      this.hub.command('stop');
      this.comparison.stop();
      // The last samples are in flight: summarize once they are in.
      setTimeout(() => this.emitRun(), 600);
    },
    reset() {
      this.runId = Date.now(); // the figures start again from zero: a new run for the class's counts
      this.hub.command('reset');
      this.comparison.reset();
      for (const lane of this.lanes) {
        this.samples[lane.id] = [];
        this.seqs[lane.id] = new Set();
        this.counts[lane.id] = { requests: 0, empty: 0, failed: 0 };
      }
      this.redraw(true);
    },
    changeInterval() {
      this.comparison.setPollInterval(this.pollIntervalMs);
      this.askLink();  // the model's figures for the new interval
    },
    changeRate() {
      this.hub.command('rate', { rate_per_s: this.ratePerS });
      this.askLink();
    },
    // The lanes' next connections travel the link (the choice waits while a run is on); the answer: the forecast.
    async askLink() {
      Object.assign(this, await wsDemo.chooseLink(this.hub, this.texts, this.linkId, this.custom, this.pollIntervalMs,
        this.ratePerS));
    },
    // The teacher's profile while it lasts (the server answers `link` with it), loopback again when it ends.
    followClassLink(profileId) {
      this.classLinkId = profileId;
      this.linkId = profileId ?? 'same-room';
      if (this.ready) this.askLink();
    },
    take(report) {
      const t = this.texts;
      for (const lane of this.lanes) {
        const part = report[lane.id] || {};
        for (const sample of part.samples || []) {
          this.samples[lane.id].push(sample);
          this.seqs[lane.id].add(sample[0]);
        }
      }
      for (const id of ['poll', 'longpoll']) {
        const part = report[id];
        this.counts[id] = { requests: part.requests, empty: part.empty_answers, failed: part.failed_requests };
        if (part.last_error) this.statuses[id] = wsDemo.fill(t.status_failed, { error: part.last_error });
        else if (part.running) {
          this.statuses[id] = id === 'poll' ? wsDemo.fill(t.status_polling, { interval_ms: part.interval_ms })
            : t.status_longpolling;
        } else if (part.requests) this.statuses[id] = t.status_stopped;
      }
      const sse = report.sse;
      this.counts.sse = { requests: sse.requests, empty: 0, failed: sse.reconnects };
      for (const status of sse.statuses) this.statuses.sse = this.describe(status, true);
      const push = report.push;
      this.counts.push = { requests: push.frames_sent, empty: 0, failed: this.counts.push.failed };
      for (const status of push.statuses) {
        if (status.state === 'reconnecting') this.counts.push.failed += 1;
        this.statuses.push = this.describe(status, false);
      }
      this.extensions = push.extensions || '';
      this.pushOpened = push.connections_opened;
      for (const [clientSent, serverTime, clientReceived] of report.clock_exchanges) {
        this.exchanges.push([clientSent, serverTime, clientReceived]);
      }
      this.redraw();
    },
    describe(status, isSse) {
      const t = this.texts;
      switch (status.state) {
        case 'open': return t.status_open;
        case 'connecting': return t.status_connecting;
        case 'stopped': return t.status_stopped;
        case 'closed': return isSse ? t.status_sse_closed : wsDemo.fill(t.status_closed, { code: status.code });
        case 'reconnecting': return isSse ? t.status_sse_reconnecting : wsDemo.fill(t.status_reconnecting, status);
        default: return String(status.state);
      }
    },
    // At most every REDRAW_MS: a page that redraws on each of twenty updates a second would cost more than it shows.
    redraw(now = false) {
      const elapsed = Date.now() - this.lastRedraw;
      if (now || elapsed >= REDRAW_MS) {
        this.lastRedraw = Date.now();
        this.tick += 1;
      } else if (!this.redrawTimer) {
        this.redrawTimer = setTimeout(() => {
          this.redrawTimer = null;
          this.redraw(true);
        }, REDRAW_MS - elapsed);
      }
    },
    // One summary per run for the page server (the quiz quotes it): never a stream.
    emitRun() {
      const poll = this.counts.poll;
      const s = this.summaries;
      if (!poll.requests || !this.samples.poll.length || !this.samples.push.length) return;
      const run = {
        poll_requests: poll.requests, poll_updates: this.samples.poll.length,
        poll_empty: Math.min(poll.empty, poll.requests), poll_interval_ms: this.pollIntervalMs,
        poll_delay_p50_ms: s.poll ? +s.poll.p50.toFixed(1) : null,
        push_updates: this.samples.push.length, push_delay_p50_ms: s.push ? +s.push.p50.toFixed(1) : null,
        run_id: this.runId || 0, link_profile: this.link ? this.link.profile.id : 'same-room',
      };
      const encoded = JSON.stringify(run);
      if (encoded === this.lastRun) return;
      this.lastRun = encoded;
      this.$emit('run', run);
    },
  },
};
