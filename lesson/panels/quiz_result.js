// The quiz page's results: the latest attempt (score, band, Try again, each question's verdict, explanation, the
// learner's demo figures and every option's feedback) and the history of attempts. Drawn here from data: the page
// server grades and sends one small JSON `state` per submit (`showResult`); the prompts are in the page from the
// start, and the answer key (options in the content's order, the correct ones, explanations and feedback as HTML
// made once at the app's start-up) arrives with the learner's first result. Events up: `retry` (Try again), `zone` (the browser's time zone, so the
// server can say when each attempt was made in the learner's own time).

const RESULT_HEADING_ID = "quiz-result-heading";

// "wss://" is an option's whole text; "Right: <prompt> Your answer: <text>" reads as two sentences either way
function sentence(text) {
  return /[.?!)]$/.test(text) ? text : `${text}.`;
}

function scoreText(attempt) {
  return `${attempt.score} / ${attempt.total} (${attempt.percent} %)`;
}

// the key's HTML is our own content, rendered at start-up; sanitised all the same, as NiceGUI's ui.markdown does
const markdownHtml = {
  mounted(el, binding) {
    el.setHTML ? el.setHTML(binding.value) : (el.innerHTML = binding.value);
  },
  updated(el, binding) {
    if (binding.value !== binding.oldValue) el.setHTML ? el.setHTML(binding.value) : (el.innerHTML = binding.value);
  },
};

export default {
  directives: { markdownHtml },
  template: `
    <div class="w-full" data-testid="quiz-results">
      <template v-if="latest && solution">
        <h2 :id="headingId" ref="heading" tabindex="-1" class="text-xl font-semibold mt-4">Your result, attempt {{ latest.number }}</h2>
        <div class="text-3xl font-bold" data-testid="quiz-score">{{ score(latest) }}</div>
        <div class="text-lg" data-testid="quiz-band">{{ latest.band }}</div>
        <q-btn no-caps color="indigo-8" icon="refresh" label="Try again" class="my-2" data-testid="quiz-retry"
               @click="$emit('retry')" />
        <template v-if="latest.answers">
          <q-card v-for="(question, index) in questions" :key="question.id"
                  :class="['nicegui-card', 'w-full', 'my-3', isRight(question) ? 'quiz-right' : 'quiz-wrong']"
                  :data-testid="'quiz-result-' + question.id">
            <div class="nicegui-row items-center gap-2">
              <q-icon :name="isRight(question) ? 'check_circle' : 'cancel'"
                      :color="isRight(question) ? 'positive' : 'negative'" aria-hidden="true" />
              <div class="font-bold" :data-testid="'quiz-verdict-' + question.id">{{ isRight(question) ? 'Right' : 'Wrong' }}</div>
              <div class="opacity-80">Question {{ index + 1 }}</div>
            </div>
            <h3 class="text-lg font-semibold">{{ question.prompt }}</h3>
            <div :data-testid="'quiz-chosen-' + question.id">Your answer: {{ chosenText(question) }}</div>
            <div class="font-medium" :data-testid="'quiz-correct-' + question.id">Correct answer: {{ correctText(question) }}</div>
            <div class="nicegui-markdown quiz-explanation my-1" :data-testid="'quiz-explanation-' + question.id"
                 v-markdown-html="solution[question.id].explanation"></div>
            <div v-if="solution[question.id].quotes_run" class="nicegui-row items-start gap-2 flex-nowrap my-1">
              <q-icon name="science" aria-hidden="true" class="mt-1" />
              <div v-if="quotes[question.id]" class="font-medium" :data-testid="'quiz-run-quote-' + question.id">{{ quotes[question.id] }}</div>
              <div v-else class="nicegui-markdown quiz-explanation" :data-testid="'quiz-run-quote-empty-' + question.id"><p>Run the polling-versus-push demo on the <a href="/demo">Live demos</a> page, and this answer will quote your own figures.</p></div>
            </div>
            <ul class="quiz-feedback list-disc pl-6">
              <li v-for="option in solution[question.id].options" :key="option.id"
                  :data-testid="'quiz-feedback-' + question.id + '-' + option.id">
                <div class="nicegui-row items-baseline gap-2">
                  <div class="font-medium">{{ option.text }}</div>
                  <div v-if="tags(question, option)" class="text-sm opacity-80">({{ tags(question, option) }})</div>
                </div>
                <div class="nicegui-markdown" v-markdown-html="solution[question.id].feedback[option.id]"></div>
              </li>
            </ul>
            <a class="nicegui-link quiz-link" :href="'/#' + question.anchor"
               :data-testid="'quiz-lesson-link-' + question.id">Read again in the lesson: {{ question.section }}</a>
          </q-card>
        </template>
      </template>
      <h2 class="text-xl font-semibold mt-8">Your attempts</h2>
      <div v-if="!attempts.length" class="opacity-80" data-testid="quiz-history-empty">Each attempt you submit is listed here, with its time and score; open one to see your answers.</div>
      <ol v-else class="w-full" data-testid="quiz-history">
        <li v-for="attempt in attempts" :key="drawn + '-' + attempt.number" class="w-full">
          <q-expansion-item :label="summary(attempt)" class="w-full" :data-testid="'quiz-history-' + attempt.number">
            <div class="nicegui-expansion-content">
              <div v-if="!attempt.answers || !solution">The questions of this attempt have changed since; only its score is kept.</div>
              <ul v-else class="pl-2">
                <li v-for="question in questions" :key="question.id">
                  <div>{{ historyLine(attempt, question) }}</div>
                </li>
              </ul>
            </div>
          </q-expansion-item>
        </li>
      </ol>
    </div>`,
  props: {
    questionsJson: String,
    answerKeyJson: String,
    state: Object,
  },
  data() {
    return {
      questions: JSON.parse(this.questionsJson),
      solution: this.answerKeyJson ? JSON.parse(this.answerKeyJson) : null,
      shown: this.state,
      headingId: RESULT_HEADING_ID,
      drawn: 0,
    };
  },
  computed: {
    latest() {
      return this.shown?.latest || null;
    },
    attempts() {
      return this.shown?.attempts || [];
    },
    quotes() {
      return this.shown?.quotes || {};
    },
  },
  mounted() {
    // the server shows attempt times in this zone from now on (it cannot know it otherwise)
    this.$emit("zone", Intl.DateTimeFormat().resolvedOptions().timeZone || "");
  },
  methods: {
    // the one call a submit makes: the learner's results, and the key with the first of them
    showResult(state, answerKeyJson, focus) {
      if (answerKeyJson) this.solution = JSON.parse(answerKeyJson);
      this.shown = state;
      this.drawn += 1; // the history drawn anew, closed, as a page the server redraws would show it
      if (focus) this.$nextTick(() => this.$refs.heading?.focus());
    },
    score: scoreText,
    option(question, optionId) {
      return this.solution[question.id].options.find((option) => option.id === optionId) || null;
    },
    chosenId(attempt, question) {
      return attempt.answers ? attempt.answers[question.id] ?? null : null;
    },
    isRight(question) {
      return this.chosenId(this.latest, question) === this.solution[question.id].correct;
    },
    chosenText(question) {
      return this.option(question, this.chosenId(this.latest, question))?.text ?? "no answer";
    },
    correctText(question) {
      return this.option(question, this.solution[question.id].correct).text;
    },
    tags(question, option) {
      const tags = [];
      if (option.id === this.chosenId(this.latest, question)) tags.push("your answer");
      if (option.id === this.solution[question.id].correct) tags.push("correct");
      return tags.join(", ");
    },
    summary(attempt) {
      return `Attempt ${attempt.number} · ${attempt.when} · ${scoreText(attempt)}${attempt.best ? " · best" : ""}`;
    },
    historyLine(attempt, question) {
      const chosen = this.option(question, this.chosenId(attempt, question))?.text ?? "no answer";
      const right = this.chosenId(attempt, question) === this.solution[question.id].correct;
      return `${right ? "Right" : "Wrong"}: ${sentence(question.prompt)} Your answer: ${sentence(chosen)}`;
    },
  },
};
