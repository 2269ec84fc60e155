// HTTP polling: every poll_interval_ms, a brand-new fetch asks "any updates after the last one I have?".
// The echo server answers HTTP with `Connection: close`, so each of these requests opens its own TCP connection.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.HttpPoller = class HttpPoller {
  constructor({ pollUrl, intervalMs, onAnswer, onFailure }) {
    this.pollUrl = pollUrl;
    this.intervalMs = intervalMs;
    this.onAnswer = onAnswer;
    this.onFailure = onFailure;
    this.cursor = 0;
    this.running = false;
    this.timer = null;
    this.inFlight = null;
    this.requests = 0;
    this.emptyAnswers = 0;
    this.failures = 0;
    this.lastError = null;  // null while the latest request succeeded
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.inFlight?.abort();
  }

  // One request at a time, one every intervalMs measured start to start: a slow answer delays the
  // next question instead of piling requests up.
  async tick() {
    if (!this.running) return;
    const startedAt = wsDemo.now();
    this.inFlight = new AbortController();
    this.requests += 1;
    try {
      const response = await fetch(`${this.pollUrl}&after=${this.cursor}`,
                                   { cache: 'no-store', signal: this.inFlight.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      const body = await response.json();
      const receivedAt = wsDemo.now();
      const updates = body.updates || [];
      if (updates.length === 0) this.emptyAnswers += 1;
      for (const update of updates) this.cursor = Math.max(this.cursor, update.seq);
      this.lastError = null;
      this.onAnswer(updates, receivedAt);
    } catch (error) {
      if (error.name === 'AbortError' && !this.running) return;
      this.failures += 1;
      this.lastError = String(error.message || error);
      this.onFailure(this.lastError);
    }
    if (!this.running) return;
    const elapsed = wsDemo.now() - startedAt;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.intervalMs - elapsed));
  }
};
