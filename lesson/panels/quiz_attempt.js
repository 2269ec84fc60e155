// The attempt in progress: each question with its options as radio buttons, how many are answered, Submit. Drawn
// here from the props (the page server builds one element instead of a card, a heading and a radio group per
// question). The browser gets option labels only, in the attempt's shuffled order: a choice goes up as the option's
// index (`answer`: [question id, index]) and the server maps it back to an option, records it and keeps the count
// honest (`showChosen` when it refused one). Arrow keys move the choice within a group, as in a native radio group
// (Quasar's radios only do Tab and Space).

const ATTEMPT_HEADING_ID = "quiz-attempt-heading";
const STEPS = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };

export default {
  template: `
    <div class="w-full">
      <h2 :id="headingId" ref="heading" tabindex="-1" class="text-xl font-semibold mt-4">Attempt {{ number }}</h2>
      <div role="status" class="font-medium" data-testid="quiz-answered">Answered {{ answered }} of {{ total }}</div>
      <q-card v-for="(question, index) in questions" :key="number + '-' + question.id"
              class="nicegui-card quiz-question w-full my-3" :data-testid="'quiz-question-' + question.id">
        <div class="text-sm opacity-80">Question {{ index + 1 }} of {{ total }}</div>
        <h3 :id="'quiz-prompt-' + question.id" tabindex="-1" class="text-lg font-semibold">{{ question.prompt }}</h3>
        <q-option-group :model-value="chosen[question.id] ?? null" :options="choices(question)"
                        :aria-labelledby="'quiz-prompt-' + question.id" class="quiz-options w-full"
                        :ref="'group-' + question.id" :data-testid="'quiz-options-' + question.id"
                        @update:model-value="(value) => choose(question, value)"
                        @keydown="(event) => arrow(question, event)" />
      </q-card>
      <div class="nicegui-row items-center gap-4 mt-2">
        <q-btn no-caps color="indigo-8" icon="check" label="Submit answers" :disable="answered < total"
               data-testid="quiz-submit" @click="$emit('submit')" />
        <div v-if="answered < total" class="opacity-80">Answer all {{ total }} questions to submit.</div>
      </div>
    </div>`,
  props: {
    number: Number,
    questionsJson: String,
    answers: Object,
  },
  data() {
    return { chosen: { ...(this.answers || {}) }, headingId: ATTEMPT_HEADING_ID };
  },
  computed: {
    questions() {
      return JSON.parse(this.questionsJson);
    },
    total() {
      return this.questions.length;
    },
    // everything must be answered: a blank would be graded wrong without the learner having tried
    answered() {
      return this.questions.filter((question) => this.chosen[question.id] != null).length;
    },
  },
  watch: {
    // a new attempt (Try again) or what the server has stored: the props win over what was chosen here
    answers(answers) {
      this.chosen = { ...(answers || {}) };
    },
  },
  methods: {
    choices(question) {
      return question.options.map((label, value) => ({ label, value }));
    },
    choose(question, value) {
      if (this.chosen[question.id] === value) return;
      this.chosen = { ...this.chosen, [question.id]: value };
      this.$emit("answer", [question.id, value]);
    },
    arrow(question, event) {
      const step = STEPS[event.key];
      if (!step) return;
      event.preventDefault(); // the arrows choose an option instead of scrolling the page
      const count = question.options.length;
      const index = this.chosen[question.id] ?? (step > 0 ? -1 : 0);
      const target = (((index + step) % count) + count) % count;
      this.choose(question, target);
      this.$nextTick(() => {
        const group = this.$refs["group-" + question.id];
        const element = (Array.isArray(group) ? group[0] : group)?.$el;
        element?.querySelectorAll("[role=radio]")[target]?.focus();
      });
    },
    // the server refused a choice (a crafted index, an attempt already submitted in another tab): what it stored
    showChosen(answers) {
      this.chosen = { ...(answers || {}) };
    },
    focusHeading() {
      this.$nextTick(() => this.$refs.heading?.focus());
    },
  },
};
