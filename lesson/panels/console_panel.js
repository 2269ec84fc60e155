// The echo console: one WebSocket to /echo that the learner opens, uses and closes by hand (demos/static/
// echo_console.js, shared through the page's hub). Runs in the browser: it logs each event as text (whatever comes
// back is never read as HTML), shows the opening handshake as the server saw it (from the inspection stream) and
// draws the lesson's sequence diagram again from what actually happened.
const DIAGRAM_EVENTS = 14;
const ROW = 30;
const WIDTH = 560;
const LEFT = 90;
const RIGHT = WIDTH - 90;
const DIRECTIONS = { connecting: '→', sent: '→', closing: '→', open: '←', received: '←', close: '←' };

// Shorten at a word boundary and say how long the whole was: never cut inside a number or a word.
function shortLabel(text, keep = 28) {
  if (text.length <= keep) return `“${text}”`;
  const words = text.split(/\s+/);
  let shown = '';
  for (const word of words) {
    if ((shown + ' ' + word).trim().length > keep) break;
    shown = (shown + ' ' + word).trim();
  }
  return `“${shown || text.slice(0, 0)}…” (${text.length.toLocaleString('en')} characters)`;
}

export default {
  template: `
  <div class="flex flex-col gap-3 w-full" data-panel="console">
    <div class="flex flex-wrap items-end gap-2">
      <q-btn no-caps color="primary" icon="power" :label="texts.connect" @click="connect" data-control="console-connect"></q-btn>
      <label class="flex flex-col text-sm grow min-w-0">{{ texts.message }}
        <input class="demo-input" v-model="message" @keydown.enter="send" data-input="console-message">
      </label>
      <q-btn no-caps color="primary" icon="send" :label="texts.send" @click="send" data-control="console-send"></q-btn>
      <q-btn no-caps outline class="demo-outline" icon="power_off" :label="texts.disconnect" @click="disconnect"
             data-control="console-disconnect"></q-btn>
    </div>
    <div class="flex items-center gap-2">
      <span class="text-sm opacity-80">{{ texts.ready_state }}:</span>
      <span class="font-mono font-semibold" data-figure="ready-state" :data-value="readyState">{{ readyState }}</span>
    </div>
    <div class="grid grid-cols-1 md:grid-cols-2 gap-4 w-full">
      <div class="flex flex-col gap-1 min-w-0">
        <div class="flex items-center justify-between gap-2">
          <span class="font-semibold">{{ texts.log }}</span>
          <q-btn flat dense no-caps class="demo-flat" :icon="log.paused ? 'play_arrow' : 'pause'"
                 :label="log.paused ? texts.resume : texts.pause" :aria-pressed="log.paused ? 'true' : 'false'"
                 @click="log.togglePause()" data-log-pause="console"></q-btn>
        </div>
        <div ref="log" class="demo-log max-h-80" role="log" aria-live="off" :aria-label="texts.log" tabindex="0"
             data-log="console" @scroll="log.scrolled($refs.log)">
          <p v-if="!log.entries.length" class="opacity-70">{{ texts.log_empty }}</p>
          <div v-for="entry in log.entries" :key="entry.key" class="flex gap-2 items-baseline"
               :data-log-kind="entry.kind">
            <span class="font-mono opacity-70 shrink-0">+{{ entry.elapsed }} s</span>
            <span class="shrink-0" aria-hidden="true">{{ entry.arrow }}</span>
            <span class="sr-only">{{ entry.who }}</span>
            <span class="flex flex-col min-w-0">
              <span class="break-all">{{ entry.description }}</span>
              <span v-if="entry.text !== undefined" class="font-mono break-all whitespace-pre-wrap"
                    :data-log-text="entry.kind">{{ entry.text }}</span>
            </span>
          </div>
        </div>
        <button v-if="log.newerBelow" class="demo-newer" @click="log.jumpToNewest($refs.log)" data-log-newer="console">
          {{ fill(texts.newer_below, { count: log.newerBelow }) }}</button>
        <p v-if="log.paused" class="text-sm opacity-80" data-log-held="console">
          {{ fill(texts.paused, { count: log.held.length }) }}</p>
        <p class="sr-only" aria-live="polite" data-log-announcer="console">{{ log.announcement }}</p>
      </div>
      <div class="flex flex-col gap-1 min-w-0">
        <span class="font-semibold">{{ texts.handshake }}</span>
        <pre class="font-mono text-xs whitespace-pre-wrap break-all w-full m-0" data-handshake="echo">{{ handshakeText }}</pre>
      </div>
    </div>
    <figure class="w-full m-0">
      <figcaption class="font-semibold">{{ texts.diagram }}</figcaption>
      <div class="demo-diagram-box">
        <svg :viewBox="'0 0 ' + width + ' ' + diagramHeight" :width="width" :height="diagramHeight" role="img"
             :aria-label="diagramLabel" data-diagram="console" class="demo-sequence">
          <text :x="left" y="16" text-anchor="middle" class="demo-actor">{{ texts.browser }}</text>
          <text :x="right" y="16" text-anchor="middle" class="demo-actor">{{ texts.server }}</text>
          <line :x1="left" y1="24" :x2="left" :y2="diagramHeight - 4" class="demo-lifeline"></line>
          <line :x1="right" y1="24" :x2="right" :y2="diagramHeight - 4" class="demo-lifeline"></line>
          <text v-if="!diagram.length" :x="width / 2" y="52" text-anchor="middle">{{ texts.diagram_empty }}</text>
          <g v-for="(row, index) in diagram" :key="row.key" :data-diagram-row="row.kind">
            <template v-if="row.note">
              <text :x="row.noteX" :y="44 + index * rowHeight" text-anchor="middle" class="demo-note">{{ row.label }}</text>
            </template>
            <template v-else>
              <text :x="width / 2" :y="40 + index * rowHeight" text-anchor="middle">{{ row.label }}</text>
              <line :x1="row.from" :y1="46 + index * rowHeight" :x2="row.to" :y2="46 + index * rowHeight"
                    :class="row.reply ? 'demo-arrow demo-arrow-reply' : 'demo-arrow'" marker-end="url(#demo-arrowhead)"></line>
            </template>
          </g>
          <defs>
            <marker id="demo-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
                    orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor"></path></marker>
          </defs>
        </svg>
      </div>
    </figure>
  </div>`,
  props: {
    setup: Object,
    texts: Object,
  },
  data() {
    return {
      message: this.texts.default_message,
      readyState: 'CLOSED',
      handshake: null,
      events: [],
      log: new wsDemo.LiveLog({ title: this.texts.log }),
      width: WIDTH,
      left: LEFT,
      right: RIGHT,
      rowHeight: ROW,
    };
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.unsubscribe = [
      this.hub.on('console', (event) => this.take(event)),
      this.hub.on('handshake', (message) => { this.handshake = message; }),
    ];
  },
  unmounted() {
    this.unsubscribe.forEach((off) => off());
  },
  updated() {
    this.log.afterRender(this.$refs.log);
  },
  computed: {
    handshakeText() {
      const h = this.handshake;
      if (!h) return this.texts.handshake_empty;
      const lines = (head, headers) => [head, ...headers.map(([name, value]) => `${name}: ${value}`)];
      return [...lines(h.request_line, h.request_headers), '', ...lines(h.status_line, h.response_headers)].join('\n');
    },
    // The newest events, and the opening handshake of the connection they belong to: the diagram should always
    // start the way the lesson's does. What is left out in between is said, and is all in the log.
    diagram() {
      const rows = this.events.map((event) => this.diagramRow(event)).filter((row) => row);
      if (rows.length <= DIAGRAM_EVENTS) return rows;
      const opened = rows.map((row) => row.kind).lastIndexOf('connecting');
      const keepOpening = opened >= 0 && opened + 2 < rows.length - (DIAGRAM_EVENTS - 3);
      const head = keepOpening ? rows.slice(opened, opened + 2) : [];
      const tail = rows.slice(-(DIAGRAM_EVENTS - head.length - 1));
      const skipped = rows.length - tail.length - (keepOpening ? opened + 2 : 0);
      const gap = { key: `gap-${skipped}`, kind: 'gap', note: true, noteX: WIDTH / 2,
                    label: wsDemo.fill(this.texts.diagram_gap, { count: skipped }) };
      return [...head, gap, ...tail];
    },
    diagramHeight() {
      return 40 + Math.max(1, this.diagram.length) * ROW;
    },
    diagramLabel() {
      return `${this.texts.diagram}: ${this.diagram.map((row) => row.label).join('; ') || this.texts.diagram_empty}`;
    },
  },
  methods: {
    fill: (template, values) => wsDemo.fill(template, values),
    connect() {
      this.hub.console.connect();
    },
    send() {
      this.hub.console.send(this.message || '');
    },
    disconnect() {
      this.hub.console.disconnect();
    },
    take(event) {
      this.readyState = event.ready_state;
      this.events = [...this.events, { ...event, key: this.events.length }].slice(-100);
      const first = this.firstAt ?? (this.firstAt = event.at);
      const arrow = DIRECTIONS[event.kind] || '·';
      const entry = {
        kind: event.kind, elapsed: ((event.at - first) / 1000).toFixed(3), arrow,
        who: { '→': 'browser to server', '←': 'server to browser' }[arrow] || 'in the browser',
        description: this.describe(event),
      };
      if (event.kind === 'sent' || event.kind === 'received') entry.text = event.text;
      this.log.add(entry, entry.description);
    },
    describe(event) {
      switch (event.kind) {
        case 'connecting': return `opening the handshake: GET ${event.url}`;
        case 'open': return `open: 101 Switching Protocols (${event.extensions || 'no extensions'})`;
        case 'sent': return 'sent a text frame:';
        case 'received': return 'received a text frame:';
        case 'closing': return `sent a close frame (code ${event.code}, “${event.reason}”)`;
        case 'close': return `close: code ${event.code}, “${event.reason || 'no reason given'}” `
          + `(${event.clean ? 'clean' : 'not clean: the connection just broke'})`;
        case 'reconnecting': return `the server is gone: trying again in ${event.delay_ms} ms (attempt ${event.attempt})`;
        case 'error': return event.text ? `error: ${event.text}` : 'error';
        default: return event.kind;
      }
    },
    diagramRow(event) {
      const toServer = { from: LEFT, to: RIGHT, reply: false };
      const toBrowser = { from: RIGHT, to: LEFT, reply: true };
      const note = (label, x = LEFT) => ({ key: event.key, kind: event.kind, note: true, noteX: x, label });
      switch (event.kind) {
        case 'connecting': return { key: event.key, kind: event.kind, ...toServer, label: 'GET /echo, Upgrade: websocket' };
        case 'open': return { key: event.key, kind: event.kind, ...toBrowser, label: '101 Switching Protocols' };
        case 'sent': return { key: event.key, kind: event.kind, ...toServer, label: `text frame ${shortLabel(event.text)}` };
        case 'received': return { key: event.key, kind: event.kind, ...toBrowser, label: `echo ${shortLabel(event.text)}` };
        case 'closing': return { key: event.key, kind: event.kind, ...toServer, label: `close frame ${event.code}` };
        case 'close': return event.clean
          ? { key: event.key, kind: event.kind, ...toBrowser, label: `close frame ${event.code}` }
          : note(`connection lost (${event.code}, no close frame)`, WIDTH / 2);
        case 'reconnecting': return note(`retry in ${event.delay_ms} ms`);
        case 'error': return note('error');
        default: return null;
      }
    },
  },
};
