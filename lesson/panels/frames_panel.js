// The frame log: every frame of the echo console's connection as the server read it off the socket (hub `frames`
// messages of the inspection stream), with three buttons that send the three length forms. Runs in the browser:
// the page server only built it.

// wsDemo.fill's rule, here so that the pure functions below run without a page (tests/unit runs them with node).
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
}

// What one frame's entry shows, one line per part of the header (pure).
export function frameLines(entry, texts) {
  const bit = (flag) => (flag ? '1' : '0');
  const spaced = (hex) => (hex.match(/../g) || []).join(' ') || texts.no_bytes;
  const asText = (hex) => (hex.match(/../g) || []).map((pair) => {
    const byte = parseInt(pair, 16);
    return byte >= 32 && byte < 127 ? String.fromCharCode(byte) : '·';
  }).join('');
  const forms = { '7-bit': texts.form_7, '16-bit': texts.form_16, '64-bit': texts.form_64 };
  const masked = entry.masked;
  const lines = [
    fill(texts.line_bits, {
      fin: bit(entry.fin), rsv1: bit(entry.rsv1), rsv2: bit(entry.rsv2), rsv3: bit(entry.rsv3),
      opcode: entry.opcode.toString(16), opcode_name: entry.opcode_name, mask: bit(masked),
      masking_key: masked ? fill(texts.masking_key, { key: entry.masking_key }) : '',
    }),
    fill(texts.line_length, { length: entry.payload_length.toLocaleString('en'), form: entry.length_form,
      meaning: forms[entry.length_form] }),
    fill(texts.line_sizes, { header: entry.header_size, frame: entry.frame_size.toLocaleString('en') }),
  ];
  if (entry.close_code !== null && entry.close_code !== undefined) {
    lines.push(fill(texts.line_close, { code: entry.close_code,
      reason: entry.close_reason ? fill(texts.close_reason, { reason: entry.close_reason }) : '' }));
  }
  if (entry.payload_length) {
    lines.push(fill(texts.line_wire, { masked: masked ? texts.wire_masked : '', hex: spaced(entry.wire_preview) }));
    if (masked) lines.push(fill(texts.line_unmasked, { hex: spaced(entry.payload_preview) }));
    lines.push(entry.rsv1 ? texts.line_compressed : fill(texts.line_text, { text: asText(entry.payload_preview) }));
  }
  return lines;
}

export function frameHeading(entry, texts) {
  const direction = entry.direction === 'client→server' ? texts.to_server : texts.to_browser;
  return fill(texts.heading, { index: entry.index, connection: entry.connection, direction,
    opcode_name: entry.opcode_name });
}

// The data-* attributes browser tests read (what the learner reads, without parsing prose).
export function frameAttributes(entry) {
  return {
    'data-frame-index': entry.index,
    'data-direction': entry.direction === 'client→server' ? 'client-to-server' : 'server-to-client',
    'data-opcode': entry.opcode_name,
    'data-length-form': entry.length_form,
    'data-payload-length': entry.payload_length,
    'data-header-size': entry.header_size,
    'data-masked': entry.masked ? 'true' : 'false',
    'data-close-code': entry.close_code ?? '',
  };
}

export const SIZED_MESSAGES = [125, 126, 65536];
const LOG_ENTRIES = 60;

export default {
  template: `
    <div class="flex flex-col gap-3 w-full">
      <div class="flex flex-row flex-wrap items-center gap-2 w-full">
        <q-btn v-for="size in sizes" :key="size" no-caps color="primary" icon="straighten"
               :label="fill(texts.send_button, { size: size.toLocaleString('en') })"
               :data-send-size="size" @click="send(size)" />
      </div>
      <div class="text-sm opacity-80">{{ texts.send_hint }}</div>
      <div class="flex flex-row items-center justify-between w-full gap-2 flex-nowrap">
        <div class="font-semibold">{{ texts.log_title }}</div>
        <q-btn flat dense no-caps class="demo-flat shrink-0" color="primary"
               :icon="log.paused ? 'play_arrow' : 'pause'" :label="log.paused ? texts.resume : texts.pause"
               :aria-pressed="log.paused ? 'true' : 'false'"
               :aria-label="log.paused ? texts.resume_label : texts.pause_label"
               data-log-pause="frames" @click="log.togglePause()" />
      </div>
      <div ref="scroller" class="w-full space-y-2 text-sm overflow-y-auto max-h-[32rem]"
           role="log" aria-live="off" :aria-label="texts.log_title" tabindex="0" data-log="frames"
           @scroll="log.scrolled($event.target)">
        <div v-if="log.entries.length === 0" class="opacity-70">{{ texts.log_empty }}</div>
        <template v-for="entry in log.entries" :key="entry.key">
          <div v-if="entry.leftOut" class="opacity-70">{{ fill(texts.left_out, { count: entry.leftOut }) }}</div>
          <div v-else :class="['demo-frame', 'w-full', 'pl-2',
                               entry.attributes['data-direction'] === 'client-to-server' ? 'demo-frame-out' : 'demo-frame-in']"
               v-bind="entry.attributes">
            <div class="font-semibold">{{ entry.heading }}</div>
            <div v-for="(line, number) in entry.lines" :key="number" class="font-mono text-xs break-words">{{ line }}</div>
          </div>
        </template>
      </div>
      <q-btn v-if="log.newerBelow > 0" flat dense no-caps class="demo-flat self-start" color="primary"
             icon="arrow_downward" data-log-newer="frames"
             :label="fill(texts.newer_below, { count: log.newerBelow })" @click="log.jumpToNewest($refs.scroller)" />
      <div class="sr-only" aria-live="polite" data-log-announcer="frames">{{ log.announcement }}</div>
      <div v-show="log.paused" class="text-sm opacity-80" data-log-held="frames">
        {{ log.held.length ? fill(texts.held, { count: log.held.length }) : texts.paused_empty }}
      </div>
    </div>`,
  props: {
    setup: Object,
    texts: Object,
  },
  data() {
    return {
      sizes: SIZED_MESSAGES,
      log: new wsDemo.LiveLog({ title: this.texts.log_title, maxEntries: LOG_ENTRIES }),
    };
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.unsubscribe = this.hub.on('frames', (message) => this.take(message));
    this.announcer = setInterval(() => this.log.announce(), this.log.announceEveryMs);
  },
  updated() {
    this.log.afterRender(this.$refs.scroller);
  },
  unmounted() {
    this.unsubscribe?.();
    clearInterval(this.announcer);
  },
  methods: {
    fill(template, values) {
      return wsDemo.fill(template, values);
    },
    send(size) {
      this.hub.console.sendSized(size);
    },
    take(message) {
      if (message.left_out > 0) {
        this.log.add({ leftOut: message.left_out }, wsDemo.fill(this.texts.left_out, { count: message.left_out }));
      }
      for (const entry of message.entries) {
        const heading = frameHeading(entry, this.texts);
        this.log.add({ heading, lines: frameLines(entry, this.texts), attributes: frameAttributes(entry) }, heading);
      }
    },
  },
};
