// The class board's proof that it is pushed: the time from a learner's answer reaching the app to these bars
// arriving here. The app stamps each answer with its own clock (`stamp.answers`: [number, answered, sent], epoch ms); this component sees the
// new props the moment NiceGUI's WebSocket delivers them, and subtracts, in the app's clock: the offset between this
// browser's clock and the app's is estimated at mount, NTP-style (`/teacher/clock`, the fastest of a few round trips).

export default {
  template: `
    <p class="board-delay text-base" data-board-delay :data-ms="lastMs === null ? '' : lastMs">{{ text }}</p>`,
  props: {
    stamp: Object,
    clockUrl: String,
  },
  data() {
    return { lastMs: null, offsetMs: 0, syncedWithinMs: null, seen: 0 };
  },
  computed: {
    text() {
      if (this.lastMs === null) return 'The bars below update over a WebSocket as answers come in.';
      const within = this.syncedWithinMs === null ? '' : ` (clocks matched to ±${Math.ceil(this.syncedWithinMs)} ms)`;
      return `These bars arrived over a WebSocket, ${Math.round(this.lastMs)} ms after the answer was given${within}.`;
    },
  },
  watch: {
    stamp(stamp) {
      this.measure(stamp);
    },
  },
  async mounted() {
    // every delay this page measured, for the benchmark script (read with page.evaluate)
    window.boardDelays = window.boardDelays || [];
    // the page server's share of each (answer recorded -> board update sent), for the same script
    window.boardServerDelays = window.boardServerDelays || [];
    await this.syncClock();
  },
  methods: {
    async syncClock() {
      let best = null;
      for (let i = 0; i < 5; i++) {
        try {
          const sent = Date.now();
          const reply = await fetch(this.clockUrl, { cache: 'no-store' });
          const { server_time: serverTime } = await reply.json();
          const back = Date.now();
          if (best === null || back - sent < best.rtt) best = { rtt: back - sent, offset: serverTime - (sent + back) / 2 };
        } catch (error) {
          break; // keep what we have: an unsynchronised board still shows the bars
        }
      }
      if (best !== null) {
        this.offsetMs = best.offset;
        this.syncedWithinMs = best.rtt / 2;
      }
    },
    measure(stamp) {
      // [number, answered at, sent at] for the recent answers; measure those not seen yet
      if (!stamp || !Array.isArray(stamp.answers)) return;
      const now = Date.now() + this.offsetMs;
      let oldest = null; // the board draws answers in batches: the figure shown is the longest wait among them
      for (const [number, at, sent] of stamp.answers) {
        if (number <= this.seen) continue;
        this.seen = number;
        const delay = Math.max(0, now - at);
        window.boardDelays.push(delay);
        window.boardServerDelays.push(sent - at);
        oldest = oldest === null ? delay : Math.max(oldest, delay);
      }
      if (oldest !== null) this.lastMs = oldest;
    },
  },
};
