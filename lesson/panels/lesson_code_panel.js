// Run the lesson's code: the lesson's own snippet, executed in this page against the embedded echo server by
// demos/static/lesson_runner.js, which changes only the address. Shows the text that ran and its console output.
// Runs in the browser: the page server only built it, with the snippet as read from content/lesson.md.

export default {
  template: `
    <div class="flex flex-col gap-3 w-full">
      <div class="font-semibold">{{ texts.snippet_heading }}</div>
      <pre class="w-full overflow-x-auto p-3 rounded text-sm bg-[rgba(127,127,127,.12)]" tabindex="0" role="region"
           :aria-label="texts.snippet_heading" data-code="lesson-snippet"><code>{{ snippet }}</code></pre>
      <q-btn no-caps color="primary" icon="play_arrow" class="self-start" :label="texts.run" @click="run()" />
      <template v-if="ran !== null">
        <div class="font-semibold">{{ texts.ran_heading }}</div>
        <pre class="w-full overflow-x-auto p-3 rounded text-sm bg-[rgba(127,127,127,.12)]" tabindex="0" role="region"
             :aria-label="texts.ran_heading" data-code="lesson-ran"><code>{{ ran }}</code></pre>
      </template>
      <div class="flex flex-row items-center justify-between w-full gap-2 flex-nowrap">
        <div class="font-semibold">{{ texts.log_title }}</div>
        <q-btn flat dense no-caps class="demo-flat shrink-0" color="primary"
               :icon="log.paused ? 'play_arrow' : 'pause'" :label="log.paused ? texts.resume : texts.pause"
               :aria-pressed="log.paused ? 'true' : 'false'"
               :aria-label="log.paused ? texts.resume_label : texts.pause_label"
               data-log-pause="lesson-code" @click="log.togglePause()" />
      </div>
      <div ref="scroller" class="w-full text-sm overflow-y-auto max-h-64"
           role="log" aria-live="off" :aria-label="texts.log_title" tabindex="0" data-log="lesson-code"
           @scroll="log.scrolled($event.target)">
        <div v-if="log.entries.length === 0" class="opacity-70">{{ texts.log_empty }}</div>
        <div v-for="entry in log.entries" :key="entry.key" :data-console-line="entry.kind"
             :class="entry.kind === 'error' ? 'text-red-700 break-words' : entry.kind === 'done' ? 'opacity-70'
                     : 'break-words whitespace-pre-wrap'">{{ entry.text }}</div>
      </div>
      <q-btn v-if="log.newerBelow > 0" flat dense no-caps class="demo-flat self-start" color="primary"
             icon="arrow_downward" data-log-newer="lesson-code"
             :label="fill(texts.newer_below, { count: log.newerBelow })" @click="log.jumpToNewest($refs.scroller)" />
      <div class="sr-only" aria-live="polite" data-log-announcer="lesson-code">{{ log.announcement }}</div>
      <div v-show="log.paused" class="text-sm opacity-80" data-log-held="lesson-code">
        {{ log.held.length ? fill(texts.held, { count: log.held.length }) : texts.paused_empty }}
      </div>
    </div>`,
  props: {
    setup: Object,
    texts: Object,
    snippet: String,
  },
  data() {
    return {
      ran: null,
      log: new wsDemo.LiveLog({ title: this.texts.log_title, maxEntries: 100 }),
    };
  },
  mounted() {
    this.hub = wsDemo.hubFor(this.setup);
    this.announcer = setInterval(() => this.log.announce(), this.log.announceEveryMs);
  },
  updated() {
    this.log.afterRender(this.$refs.scroller);
  },
  unmounted() {
    clearInterval(this.announcer);
  },
  methods: {
    fill(template, values) {
      return wsDemo.fill(template, values);
    },
    run() {
      this.log.clear();
      wsDemo.runLessonCode({
        source: this.snippet,
        echoUrl: this.hub.urls.echo,
        message: this.texts.message,
        report: (entry) => this.take(entry),
      });
    },
    take(entry) {
      if (entry.kind === 'source') {
        this.ran = entry.text;
        return;
      }
      let text = entry.text;
      if (entry.kind === 'error') text = this.fill(this.texts.error, { text: entry.text });
      else if (entry.kind === 'done') text = this.fill(this.texts.done, { code: entry.code });
      this.log.add({ kind: entry.kind, text }, text);
    },
  },
};
