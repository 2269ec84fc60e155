// HTTP polling: every poll_interval_ms, a brand-new fetch asks "any updates after the last one I have?".
// The echo server answers HTTP with `Connection: close`, so each of these requests opens its own TCP connection.
// Long polling is the same loop with no interval against /longpoll: the server holds each request until it has
// an update (or 8 s pass), and the next request leaves the moment the answer is in.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.HttpPoller = class HttpPoller {
  constructor({ pollUrl, intervalMs, onAnswer, onFailure }) {
    this.pollUrl = pollUrl;
    this.intervalMs = intervalMs;
    this.onAnswer = onAnswer;
    this.onFailure = onFailure;
    this.backoff = new wsDemo.Backoff();  // after a failure: never a tight loop against a server that is down
    this.cursor = 0;
    this.running = false;
    this.run = 0;  // each start() is a new run; a request of an earlier run ends quietly
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
    this.run += 1;
    this.tick(this.run);
  }

  stop() {
    this.running = false;
    this.run += 1;
    clearTimeout(this.timer);
    this.inFlight?.abort();
  }

  // One request at a time, one every intervalMs measured start to start: a slow answer delays the
  // next question instead of piling requests up.
  async tick(run) {
    if (run !== this.run) return;
    const startedAt = wsDemo.now();
    this.inFlight = new AbortController();
    this.requests += 1;
    let waitMs = 0;
    try {
      const response = await fetch(`${this.pollUrl}&after=${this.cursor}`,
                                   { cache: 'no-store', signal: this.inFlight.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      const body = await response.json();
      const receivedAt = wsDemo.now();
      if (run !== this.run) return;
      const updates = body.updates || [];
      if (updates.length === 0) this.emptyAnswers += 1;
      for (const update of updates) this.cursor = Math.max(this.cursor, update.seq);
      this.lastError = null;
      this.backoff.reset();
      this.onAnswer(updates, receivedAt);
    } catch (error) {
      if (run !== this.run) return;  // stopped (the abort is ours)
      this.failures += 1;
      this.lastError = String(error.message || error);
      this.onFailure(this.lastError);
      waitMs = this.backoff.next();
    }
    if (run !== this.run) return;
    const elapsed = wsDemo.now() - startedAt;
    this.timer = setTimeout(() => this.tick(run), Math.max(waitMs, this.intervalMs - elapsed));
  }
};
