// When the server goes away: take the echo server down for a few seconds and watch everything reconnect. The page
// asks over its inspection stream; the stream itself closes with the server (1001) and the hub reconnects it, so
// "back" is when the stream is open again. Runs in the browser: the page server only built it.

export default {
  template: `
    <div class="flex flex-row flex-wrap items-center gap-2 w-full">
      <q-btn no-caps outline color="negative" class="demo-outline-negative" icon="power_settings_new"
             :label="fill(texts.button, { seconds })" :disable="!setup.mayRestart || down" @click="takeDown()"
             data-control="restart" />
      <div class="text-sm" aria-live="polite" data-status="restart" :data-value="state">{{ status }}</div>
    </div>`,
  props: {
    setup: Object,
    texts: Object,
    seconds: Number,
  },
  data() {
    return { down: false, state: this.setup.mayRestart ? '' : 'off', failure: '' };
  },
  computed: {
    status() {
      switch (this.state) {
        case 'off': return this.texts.switched_off;
        case 'down': return this.fill(this.texts.down, { seconds: this.seconds });
        case 'back': return this.texts.back;
        case 'failed': return this.fill(this.texts.failed, { error: this.failure });
        default: return '';
      }
    },
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.unsubscribe = this.hub.on('inspector', (message) => {
      if (message.state === 'open' && this.state === 'down' && this.streamClosed) {
        this.state = 'back';
        this.down = false;
      } else if (message.state === 'closed' && this.state === 'down') {
        this.streamClosed = true;
      }
    });
  },
  unmounted() {
    this.unsubscribe?.();
    clearTimeout(this.fallback);
  },
  methods: {
    fill(template, values) {
      return wsDemo.fill(template, values);
    },
    async takeDown() {
      this.down = true;
      this.streamClosed = false;
      this.state = 'down';
      // Should the stream never be seen closing (a server that stayed up), the button comes back anyway.
      clearTimeout(this.fallback);
      this.fallback = setTimeout(() => {
        if (this.state === 'down' && this.hub.isOpen) { this.state = 'back'; this.down = false; }
      }, (this.seconds + 20) * 1000);
      const reply = await this.hub.command('restart', { seconds: this.seconds });
      if (!reply.ok) {
        this.failure = reply.error;
        this.state = 'failed';
        this.down = false;
      }
    },
  },
};
