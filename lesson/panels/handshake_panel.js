// The handshake, computed: the last echo handshake's key, the GUID, SHA-1, base64, and whether the server's answer
// matches, as the echo server worked it out again from the request and response it really exchanged (hub
// `handshake` messages; demos/protocol/handshake.py does the arithmetic). Runs in the browser: the page server only built it.

// The steps in the order they are computed: [data-handshake-step name, field of the message's `check`, text key].
export const STEPS = [
  ['key', 'key', 'step_key'],
  ['guid', 'guid', 'step_guid'],
  ['key-with-guid', 'key_with_guid', 'step_key_with_guid'],
  ['sha1', 'sha1_hex', 'step_sha1'],
  ['expected', 'expected_accept', 'step_expected'],
  ['server-accept', 'server_accept', 'step_server_accept'],
];

// The verdict a `check` gives: 'match', 'mismatch' or 'unreadable' (pure).
export function verdictOf(check) {
  if (!check || check.error) return 'unreadable';
  return check.matches ? 'match' : 'mismatch';
}

export default {
  template: `
    <div class="flex flex-col gap-3 w-full">
      <div class="grid gap-x-3 gap-y-2 w-full" style="grid-template-columns: minmax(0, 1fr)">
        <div v-for="[name, field, label] in steps" :key="name" class="flex flex-col gap-0 min-w-0">
          <div class="text-sm opacity-80">{{ texts[label] }}</div>
          <div class="font-mono text-sm break-all" :data-handshake-step="name">{{ valueOf(field) }}</div>
        </div>
      </div>
      <div class="font-semibold" aria-live="polite" data-figure="handshake-match" :data-value="verdict">
        {{ verdictText }}
      </div>
    </div>`,
  props: {
    setup: Object,
    texts: Object,
    guid: String,  // RFC 6455's, from demos/protocol/handshake.py: shown before the first handshake too
  },
  data() {
    return { steps: STEPS, check: null, verdict: '' };
  },
  computed: {
    verdictText() {
      if (this.verdict === '') return this.texts.waiting;
      if (this.verdict === 'unreadable') return wsDemo.fill(this.texts.unreadable, { error: this.check?.error ?? '' });
      return this.texts[this.verdict];
    },
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.unsubscribe = this.hub.on('handshake', (message) => {
      this.check = message.check ?? null;
      this.verdict = verdictOf(this.check);
    });
  },
  unmounted() {
    this.unsubscribe?.();
  },
  methods: {
    valueOf(field) {
      if (field === 'guid') return this.check?.guid ?? this.guid;
      if (!this.check || this.check.error) return '—';
      if (field === 'server_accept') return this.check.server_accept || this.texts.no_accept;
      return this.check[field];
    },
  },
};
