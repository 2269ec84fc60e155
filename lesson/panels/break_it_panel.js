// Break it and watch: the server closes, drops, pings and stops reading on purpose, asked over the page's
// inspection stream; the browser's side shows in the echo console, the frame log and the figures here. The burst
// and the compression comparison are demos/static/break_it.js. Runs in the browser: the page server only built it.

// Chart size in SVG units; the SVG scales to the panel's width and keeps this aspect.
export const CHART = { width: 640, height: 240, left: 64, right: 16, top: 16, bottom: 44 };
// At least 3:1 against both the light and the dark background (WCAG 1.4.11, graphics).
const CHART_COLORS = { line: '#5c6bc0', mark: '#d84a3f' };

// Where the samples and the marks go on the chart (pure). `samples` are [ms since the burst, bufferedAmount in
// bytes]; `marks` are { atMs, label } (the server's pause and resume, as the page heard them).
export function chartGeometry(samples, marks, chart = CHART) {
  const xs = [0, ...samples.map(([at]) => at), ...marks.map((mark) => mark.atMs)];
  const low = Math.min(...xs);
  const high = Math.max(...xs, low + 1);
  const peak = Math.max(1, ...samples.map(([, bytes]) => bytes));
  const innerWidth = chart.width - chart.left - chart.right;
  const innerHeight = chart.height - chart.top - chart.bottom;
  const x = (at) => chart.left + ((at - low) / (high - low)) * innerWidth;
  const y = (bytes) => chart.top + innerHeight - (bytes / peak) * innerHeight;
  const round = (value) => Math.round(value * 10) / 10;
  return {
    points: samples.map(([at, bytes]) => `${round(x(at))},${round(y(bytes))}`).join(' '),
    // A label near the right edge goes on the left of its line, so it stays inside the chart.
    marks: marks.map((mark) => ({ ...mark, x: round(x(mark.atMs)), labelEnd: x(mark.atMs) > chart.width * 0.6 })),
    // 0 (the burst) always; the ends when they are far enough from it to be read apart.
    xTicks: [0, low, high].filter((at, index) => index === 0 || Math.abs(x(at) - x(0)) > 40)
      .map((at) => ({ at: Math.round(at), x: round(x(at)) })),
    // Before the first sample there is nothing to scale: a lone 0, not three.
    yTicks: (samples.length ? [0, peak / 2, peak] : [0]).map((bytes) => ({ kib: bytes / 1024, y: round(y(bytes)) })),
    baseline: round(y(0)),
    top: chart.top,
  };
}

// What a burst's samples say (pure): the highest bufferedAmount, the last before the server read again, and when
// it was back to 0 (null until then).
export function burstFigures(samples, resumeAtMs, done) {
  if (samples.length === 0) return { peak: null, atResume: null, drainedMs: null };
  const peak = Math.max(...samples.map(([, bytes]) => bytes));
  let atResume = null;
  if (resumeAtMs !== null) {
    for (const [at, bytes] of samples) if (at <= resumeAtMs) atResume = bytes;
  }
  const last = samples[samples.length - 1];
  return { peak, atResume, drainedMs: done && last[1] === 0 ? last[0] : null };
}

// The close that ended an open connection, apart from reconnect attempts that never opened (pure reducer over
// the echo console's events: {kind, code, clean}).
export function closeState(state, event) {
  switch (event.kind) {
    case 'connecting':
      return { ...state, opened: false };
    case 'open':
      return { ...state, opened: true };
    case 'close':
      if (state.opened) {
        return { opened: false, lastCode: event.code, lastClean: Boolean(event.clean), failedAttempts: 0 };
      }
      return { ...state, failedAttempts: state.failedAttempts + 1 };
    default:
      return state;
  }
}

export const NO_CLOSE = { opened: false, lastCode: null, lastClean: null, failedAttempts: 0 };
const CONNECT_WAIT_MS = 4000;
const READING_WAIT_MS = 2000;
const FRAMES_WAIT_MS = 4000;
const KEPT_FRAMES = 400;

export default {
  template: `
    <div class="flex flex-col gap-3 w-full">
      <div class="text-lg font-semibold">{{ texts.closing_title }}</div>
      <div class="flex flex-row flex-wrap items-end gap-2 w-full">
        <q-btn no-caps color="primary" icon="logout" :label="texts.close_clean" @click="close(1000)" />
        <q-select v-model="pickedCode" :options="codeOptions" emit-value map-options outlined dense
                  :label="texts.close_code_label" class="w-52" data-control="close-code" />
        <q-btn no-caps color="primary" icon="logout" :label="texts.close_picked" @click="close(pickedCode)" />
        <q-btn no-caps outline color="negative" class="demo-outline-negative" icon="link_off" :label="texts.drop"
               @click="drop()" />
      </div>
      <div class="grid gap-x-3 gap-y-1 w-full" style="grid-template-columns: 1fr auto">
        <div class="text-sm opacity-80">{{ texts.last_close_code }}</div>
        <div class="font-mono text-right tabular-nums" data-figure="last-close-code"
             :data-value="closes.lastCode ?? ''">{{ closes.lastCode ?? '—' }}</div>
        <div class="text-sm opacity-80">{{ texts.last_close_clean }}</div>
        <div class="font-mono text-right" data-figure="last-close-clean"
             :data-value="closes.lastClean === null ? '' : String(closes.lastClean)">
          {{ closes.lastClean === null ? '—' : (closes.lastClean ? texts.clean_yes : texts.clean_no) }}</div>
        <div class="text-sm opacity-80">{{ texts.reconnect_failed }}</div>
        <div class="font-mono text-right tabular-nums" data-figure="reconnect-failed"
             :data-value="closes.failedAttempts">{{ closes.failedAttempts }}</div>
      </div>
      <div v-if="closes.lastCode === null" class="text-sm opacity-70">{{ texts.no_close_yet }}</div>
      <div class="text-sm" aria-live="polite" data-status="break-it">{{ closeStatus }}</div>

      <div class="text-lg font-semibold mt-2">{{ texts.ping_title }}</div>
      <q-btn no-caps color="primary" icon="sensors" class="self-start" :label="texts.ping" @click="ping()" />
      <div class="grid gap-x-3 gap-y-1 w-full" style="grid-template-columns: 1fr auto">
        <div class="text-sm opacity-80">{{ texts.ping_round_trip }}</div>
        <div class="font-mono text-right tabular-nums" data-figure="ping-round-trip"
             :data-value="pingMs === null ? '' : pingMs.toFixed(3)">
          {{ pingMs === null ? '—' : fill(texts.ms_unit, { value: format(pingMs, 1) }) }}</div>
      </div>
      <div class="text-sm" aria-live="polite" data-status="ping">{{ pingStatus }}</div>

      <div class="text-lg font-semibold mt-2">{{ texts.backpressure_title }}</div>
      <q-btn no-caps color="primary" icon="water" class="self-start" :disable="bursting"
             :label="fill(texts.burst, { seconds: burstPlan.pauseS })" @click="burst()" />
      <div class="text-sm opacity-80" data-explain="backpressure" v-html="explanation"></div>
      <div class="w-full" data-chart="backpressure" :data-motion="motion">
        <svg :viewBox="'0 0 ' + chart.width + ' ' + chart.height" class="w-full h-auto" role="img"
             :aria-label="texts.chart_label" style="max-height: 18rem">
          <line :x1="chart.left" :x2="chart.width - chart.right" :y1="geometry.baseline" :y2="geometry.baseline"
                stroke="currentColor" stroke-opacity="0.5" />
          <line :x1="chart.left" :x2="chart.left" :y1="chart.top" :y2="geometry.baseline"
                stroke="currentColor" stroke-opacity="0.5" />
          <g v-for="tick in geometry.yTicks" :key="'y' + tick.y">
            <text :x="chart.left - 6" :y="tick.y + 4" text-anchor="end" font-size="12" fill="currentColor">
              {{ format(tick.kib, 0) }}</text>
          </g>
          <g v-for="tick in geometry.xTicks" :key="'x' + tick.x">
            <text :x="tick.x" :y="geometry.baseline + 16" text-anchor="middle" font-size="12" fill="currentColor">
              {{ format(tick.at, 0) }}</text>
          </g>
          <text :x="chart.left + (chart.width - chart.left - chart.right) / 2" :y="chart.height - 6"
                text-anchor="middle" font-size="12" fill="currentColor">{{ texts.chart_x }}</text>
          <text :x="14" :y="chart.top + (geometry.baseline - chart.top) / 2" text-anchor="middle" font-size="12"
                fill="currentColor" :transform="'rotate(-90 14 ' + (chart.top + (geometry.baseline - chart.top) / 2) + ')'">
            {{ texts.chart_y }}</text>
          <polyline v-if="geometry.points" :points="geometry.points" fill="none" :stroke="colors.line"
                    class="demo-chart-line" stroke-width="2" data-series="buffered-amount" />
          <g v-for="(mark, index) in geometry.marks" :key="mark.kind" :data-mark="mark.kind" :data-at="Math.round(mark.atMs)">
            <line :x1="mark.x" :x2="mark.x" :y1="chart.top" :y2="geometry.baseline" :stroke="colors.mark"
                  stroke-dasharray="4 3" stroke-width="1.5" />
            <text :x="mark.labelEnd ? mark.x - 4 : mark.x + 4" :y="chart.top + 12 + index * 14" font-size="12"
                  :text-anchor="mark.labelEnd ? 'end' : 'start'" fill="currentColor">{{ mark.label }}</text>
          </g>
          <text v-if="!geometry.points" :x="chart.width / 2" :y="chart.height / 2" text-anchor="middle"
                font-size="13" fill="currentColor" opacity="0.7">{{ texts.chart_empty }}</text>
        </svg>
      </div>
      <div class="grid gap-x-3 gap-y-1 w-full" style="grid-template-columns: 1fr auto">
        <template v-for="[name, label, value, unit] in burstRows" :key="name">
          <div class="text-sm opacity-80">{{ label }}</div>
          <div class="font-mono text-right tabular-nums" :data-figure="name"
               :data-value="value === null ? '' : Math.round(value)">
            {{ value === null ? '—' : fill(unit, { value: format(value, 0) }) }}</div>
        </template>
      </div>
      <div class="text-sm" aria-live="polite" data-status="backpressure">{{ burstStatus }}</div>

      <div class="text-lg font-semibold mt-2">{{ texts.compression_title }}</div>
      <q-btn no-caps color="primary" icon="compress" class="self-start" :disable="comparing"
             :label="fill(texts.compare, { count: compressionMessages.length })" @click="compare()" />
      <div class="grid gap-x-3 gap-y-1 w-full text-sm" style="grid-template-columns: minmax(0, 1fr) auto auto"
           data-table="compression">
        <div></div>
        <div class="font-semibold text-right">{{ texts.compression_setting_off }}</div>
        <div class="font-semibold text-right">{{ texts.compression_setting_on }}</div>
        <div>{{ texts.compression_chars }}</div>
        <div class="font-mono text-right">{{ format(compressionChars, 0) }}</div>
        <div class="font-mono text-right">{{ format(compressionChars, 0) }}</div>
        <template v-for="[key, label] in compressionRows" :key="key">
          <div>{{ label }}</div>
          <div v-for="setting in ['off', 'on']" :key="setting" class="font-mono text-right tabular-nums"
               :data-figure="'compression-' + setting + '-' + key" :data-value="compressionValue(setting, key)">
            {{ compressionText(setting, key) }}</div>
        </template>
      </div>
      <div v-if="!compression.off && !comparing" class="text-sm opacity-70">{{ texts.compression_empty }}</div>
    </div>`,
  props: {
    setup: Object,
    texts: Object,
    burstPlan: Object,  // { count, size, pauseS }: within the server's burst allowance and message size
    compressionMessages: Array,
    closeCodes: Array,  // the server's (demos/server/break_it.py), but 1000, which has its own button
  },
  data() {
    return {
      // 1008 (policy violation) first: a code whose reason a learner can see in the frame log and the console.
      pickedCode: this.closeCodes.includes(1008) ? 1008 : this.closeCodes[0],
      closes: { ...NO_CLOSE },
      closeStatus: '',
      pingMs: null,
      pingStatus: '',
      bursting: false,
      burstStatus: '',
      chartVersion: 0,
      figures: { peak: null, atResume: null, drainedMs: null },
      motion: 'unknown',
      comparing: false,
      compression: { off: null, on: null },
    };
  },
  computed: {
    chart() {
      return CHART;
    },
    colors() {
      return CHART_COLORS;
    },
    codeOptions() {
      return this.closeCodes.map((code) => ({ value: code, label: this.texts[`close_code_${code}`] }));
    },
    explanation() {
      // The text is the app's own content (content/demo_panels.toml), not the learner's: `code` spans only.
      const escaped = this.fill(this.texts.burst_explain, {
        count: this.burstPlan.count, size: this.burstPlan.size.toLocaleString('en'),
      }).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      return escaped.replace(/`([^`]+)`/g, '<code>$1</code>');
    },
    geometry() {
      this.chartVersion;  // redrawn when the samples change (they are kept out of Vue's reactivity)
      const marks = [];
      if (this.pauseAtMs !== null) marks.push({ kind: 'paused', atMs: this.pauseAtMs, label: this.texts.chart_paused });
      if (this.resumeAtMs !== null) marks.push({ kind: 'resumed', atMs: this.resumeAtMs, label: this.texts.chart_resumed });
      return chartGeometry(this.samples, marks);
    },
    burstRows() {
      const { peak, atResume, drainedMs } = this.figures;
      return [
        ['backpressure-peak', this.texts.peak, peak, this.texts.bytes_unit],
        ['backpressure-at-resume', this.texts.at_resume, atResume, this.texts.bytes_unit],
        ['backpressure-kernels-took', this.texts.kernels_took,
          peak === null || atResume === null ? null : peak - atResume, this.texts.bytes_unit],
        ['backpressure-drained', this.texts.drained, drainedMs, this.texts.ms_unit],
      ];
    },
    compressionChars() {
      return this.compressionMessages.reduce((total, message) => total + message.length, 0);
    },
    compressionRows() {
      return [['out', this.texts.compression_out], ['in', this.texts.compression_in],
        ['compressed', this.texts.compression_compressed]];
    },
  },
  created() {
    // Kept out of Vue's reactivity: a burst samples every 50 ms; the chart redraws when chartVersion changes.
    this.samples = [];
    this.pauseAtMs = null;
    this.resumeAtMs = null;
    this.burstStartedAt = null;
    this.readingWaiters = [];
    this.frames = [];
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.breakIt = new wsDemo.BreakIt({ console: this.hub.console, echoUrl: this.hub.urls.echo });
    this.unsubscribes = [
      this.hub.on('console', (event) => { this.closes = closeState(this.closes, event); }),
      this.hub.on('reading', (message) => this.takeReading(message)),
      this.hub.on('frames', (message) => this.takeFrames(message)),
    ];
    this.motionQuery = window.matchMedia('(prefers-reduced-motion: reduce)');
    this.motionChanged = () => { this.motion = this.motionQuery.matches ? 'reduced' : 'full'; };
    this.motionQuery.addEventListener('change', this.motionChanged);
    this.motionChanged();
  },
  unmounted() {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.motionQuery.removeEventListener('change', this.motionChanged);
  },
  methods: {
    fill(template, values) {
      return wsDemo.fill(template, values);
    },
    format(value, decimals) {
      return wsDemo.formatNumber(value, decimals);
    },

    // ----- the server's side, asked over the inspection stream -----

    consoleIsOpen() {
      return this.hub.console.socket?.readyState === WebSocket.OPEN;
    },
    // True once the echo console is open, after connecting it if needed (the buttons work from a closed console).
    async connected(setStatus) {
      if (this.consoleIsOpen()) return true;
      setStatus(this.texts.connecting_first);
      this.hub.console.connect();
      const opened = await new Promise((resolve) => {
        const timer = setTimeout(() => { stop(); resolve(false); }, CONNECT_WAIT_MS);
        const stop = this.hub.on('console', (event) => {
          if (event.kind === 'open') { clearTimeout(timer); stop(); resolve(true); }
        });
      });
      if (!opened) setStatus(this.texts.no_connection);
      return opened;
    },
    // The server's reply, or null (with the reason in the status) when it did nothing.
    async ask(action, args, setStatus) {
      const reply = await this.hub.command(action, args);
      if (!reply.ok) {
        setStatus(this.fill(this.texts.failed, { error: reply.error }));
        return null;
      }
      if (reply.connections === 0 || (Array.isArray(reply.round_trips_ms) && reply.round_trips_ms.length === 0)) {
        setStatus(this.texts.no_connection);
        return null;
      }
      return reply;
    },
    async close(code) {
      const setStatus = (text) => { this.closeStatus = text; };
      if (!(await this.connected(setStatus))) return;
      setStatus(this.fill(this.texts.closing, { code }));
      if (await this.ask('close_echo', { code }, setStatus)) setStatus(this.fill(this.texts.closed, { code }));
    },
    async drop() {
      const setStatus = (text) => { this.closeStatus = text; };
      if (!(await this.connected(setStatus))) return;
      if (await this.ask('drop_echo', {}, setStatus)) setStatus(this.texts.dropped);
    },
    async ping() {
      const setStatus = (text) => { this.pingStatus = text; };
      if (!(await this.connected(setStatus))) return;
      setStatus(this.texts.ping_sent);
      const reply = await this.ask('ping_echo', {}, setStatus);
      if (!reply) return;
      const times = reply.round_trips_ms;
      const answered = times.filter((ms) => ms !== null);
      this.pingMs = answered.length ? answered[answered.length - 1] : null;
      const shown = times.map((ms) => (ms === null ? this.texts.no_pong : this.fill(this.texts.ms_unit,
        { value: this.format(ms, 1) }))).join(', ');
      setStatus(this.fill(this.texts.pong, { round_trips: shown }));
    },

    // ----- back-pressure -----

    takeReading(message) {
      // Marked when the page heard it, on this browser's clock (the server's may differ on another machine).
      const heardAt = wsDemo.now();
      if (message.paused) this.pauseHeardAt = heardAt;
      else if (this.burstStartedAt !== null) this.resumeAtMs = heardAt - this.burstStartedAt;
      if (message.paused) for (const resolve of this.readingWaiters.splice(0)) resolve(true);
      this.redraw();
    },
    waitForPause() {
      return new Promise((resolve) => {
        this.readingWaiters.push(resolve);
        setTimeout(() => resolve(false), READING_WAIT_MS);
      });
    },
    redraw() {
      this.figures = burstFigures(this.samples, this.resumeAtMs, this.burstDone);
      this.chartVersion += 1;
    },
    async burst() {
      const setStatus = (text) => { this.burstStatus = text; };
      if (!(await this.connected(setStatus))) return;
      const { count, size, pauseS } = this.burstPlan;
      this.bursting = true;
      this.samples = [];
      this.pauseAtMs = null;
      this.resumeAtMs = null;
      this.pauseHeardAt = null;
      this.burstStartedAt = null;
      this.burstDone = false;
      this.redraw();
      setStatus(this.fill(this.texts.burst_pausing, { seconds: pauseS }));
      const paused = this.hub.command('pause_echo', { seconds: pauseS });
      // Reading is held before the first byte of the burst arrives: the server says so on the stream. A reply
      // before that means it paused nothing (no echo connection of this page's session, or an error).
      const first = await Promise.race([this.waitForPause(), paused.then((reply) => ({ reply }))]);
      if (first.reply) {
        setStatus(first.reply.ok ? this.texts.no_connection : this.fill(this.texts.failed, { error: first.reply.error }));
        this.bursting = false;
        return;
      }
      this.burstStartedAt = wsDemo.now();
      if (this.pauseHeardAt !== null) this.pauseAtMs = this.pauseHeardAt - this.burstStartedAt;
      this.breakIt.burst({
        count, size,
        note: this.fill(this.texts.burst_note, { count, size: size.toLocaleString('en') }),
        report: (report) => this.takeSamples(report, setStatus),
      });
      const reply = await paused;
      if (!reply.ok) setStatus(this.fill(this.texts.failed, { error: reply.error }));
      else if (!this.burstDone) setStatus(this.texts.burst_resumed);
    },
    takeSamples(report, setStatus) {
      if (report.error) {
        setStatus(this.fill(this.texts.burst_error, { error: report.error }));
        this.bursting = false;
        return;
      }
      this.samples = [...this.samples, ...report.samples];
      this.burstDone = report.done;
      if (this.resumeAtMs === null && this.samples.length > 2 && !report.done) setStatus(this.texts.burst_waiting);
      if (report.done) {
        this.bursting = false;
        setStatus(this.texts.burst_resumed);
      }
      this.redraw();
    },

    // ----- compression -----

    takeFrames(message) {
      this.frames = [...this.frames, ...message.entries].slice(-KEPT_FRAMES);
    },
    // Wait until the frames of the connection closed with `reason` are in (the stream sends news 4 times a second).
    measured(reason, since) {
      return new Promise((resolve) => {
        const started = Date.now();
        let timer = null;
        const check = () => {
          const found = wsDemo.wireBytes(this.frames.filter((frame) => frame.index >= since), reason);
          if (found === null && Date.now() - started <= FRAMES_WAIT_MS) return;
          clearInterval(timer);
          resolve(found);
        };
        timer = setInterval(check, 100);
        check();
      });
    },
    async compare() {
      this.comparing = true;
      this.compression = { off: 'measuring', on: 'measuring' };
      const since = this.frames.length ? this.frames[this.frames.length - 1].index + 1 : 0;
      const runs = await this.breakIt.compareCompression(this.compressionMessages);
      const results = {};
      for (const run of runs) {
        const setting = run.deflate ? 'on' : 'off';
        results[setting] = run.error ? null : await this.measured(run.reason, since);
      }
      this.compression = { off: results.off ?? 'not measured', on: results.on ?? 'not measured' };
      this.comparing = false;
    },
    compressionValue(setting, key) {
      const result = this.compression[setting];
      return result && typeof result === 'object' ? result[key] : '';
    },
    compressionText(setting, key) {
      const result = this.compression[setting];
      if (result === null) return '—';
      if (result === 'measuring') return this.texts.compression_measuring;
      if (result === 'not measured') return this.texts.compression_not_measured;
      if (key === 'compressed') return result.compressed ? this.texts.compression_yes : this.texts.compression_no;
      return this.format(result[key], 0);
    },
  },
};
