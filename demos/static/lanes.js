// The comparison: four clients on the same session's feed — HTTP polling, long polling, Server-Sent Events and a
// WebSocket — timing every update they receive and handing the raw samples to the lanes panel a few times a second
// (which computes the statistics and draws the chart, in this browser). Samples are
// [seq, made_at (server clock), received_at (browser clock)].
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.LANES = ['poll', 'longpoll', 'sse', 'push'];

wsDemo.LiveComparison = class LiveComparison {
  constructor({ urls, pollIntervalMs, onReport, onReady, flushMs = 250 }) {
    this.urls = urls;
    this.onReport = onReport;  // each batch of samples and counts
    this.onReady = onReady;    // every lane connected and the clocks compared: time to start the feed
    this.clock = new wsDemo.ClockSync();
    this.pending = this.emptyPending();
    const sample = (lane) => (update, receivedAt) => this.pending[lane].push([update.seq, update.made_at, receivedAt]);
    const failure = (lane) => (message) => this.pending.failures.push({ lane, at: wsDemo.now(), message });
    const status = (lane) => (state) => {
      this.pending.statuses.push({ lane, ...state, at: wsDemo.now() });
      this.flush();
    };
    this.poller = new wsDemo.HttpPoller({
      pollUrl: this.urls.poll,
      intervalMs: pollIntervalMs,
      onAnswer: (updates, receivedAt) => updates.forEach((update) => sample('poll')(update, receivedAt)),
      onFailure: failure('poll'),
    });
    this.longPoller = new wsDemo.HttpPoller({
      pollUrl: this.urls.longpoll,
      intervalMs: 0,  // ask again the moment an answer is in: the server does the waiting
      onAnswer: (updates, receivedAt) => updates.forEach((update) => sample('longpoll')(update, receivedAt)),
      onFailure: failure('longpoll'),
    });
    this.sse = new wsDemo.SseClient({ sseUrl: this.urls.sse, onUpdate: sample('sse'), onStatus: status('sse') });
    this.pusher = new wsDemo.PushClient({
      pushUrl: this.urls.push, clock: this.clock, onUpdate: sample('push'), onStatus: status('push'),
    });
    this.active = false;
    this.lastCounts = '';
    this.flushTimer = setInterval(() => this.flush(), flushMs);
  }

  emptyPending() {
    return { poll: [], longpoll: [], sse: [], push: [], failures: [], statuses: [] };
  }

  // The feed starts only once the push socket and the event stream are open and the clocks are compared (the
  // panel starts it from onReady), so every lane can see every update from the first one.
  async start() {
    this.active = true;
    this.pusher.connect();
    this.sse.connect();
    await this.until(() => this.pusher.isOpen && this.sse.isOpen, 5000);
    await this.until(() => this.clock.exchanges.length >= 5, 1000);
    if (!this.active) return;  // stopped while connecting
    if (this.clock.exchanges.length === 0) {
      try {
        await this.clock.overHttp(this.urls.clock);
      } catch (error) {
        this.pending.failures.push({ lane: 'clock', at: wsDemo.now(), message: `clock: ${error.message || error}` });
      }
    }
    if (!this.active) return;
    this.poller.start();
    this.longPoller.start();
    this.flush();
    this.onReady();
  }

  stop() {
    this.active = false;
    this.poller.stop();
    this.longPoller.stop();
    this.sse.disconnect();
    this.pusher.disconnect();
    this.flush();
  }

  // After the page resets the session's feed, numbering starts again from 1. A long poll held with the old
  // cursor would wait for a number the feed will take a while to reach: ask again at once.
  reset() {
    for (const poller of [this.poller, this.longPoller]) {
      const wasRunning = poller.running;
      poller.stop();
      poller.cursor = 0;
      poller.requests = poller.emptyAnswers = poller.failures = 0;
      if (wasRunning) poller.start();
    }
    this.sse.forget();
    this.sse.requests = this.sse.isOpen ? 1 : 0;
    this.sse.connectionsOpened = this.sse.isOpen ? 1 : 0;
    this.sse.reconnects = 0;
    this.pusher.framesSent = this.pusher.framesReceived = this.pusher.connectionsOpened = 0;
    this.pending = this.emptyPending();
  }

  setPollInterval(ms) {
    this.poller.intervalMs = ms;
  }

  async until(condition, timeoutMs) {
    const deadline = wsDemo.now() + timeoutMs;
    while (!condition() && wsDemo.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  pollerReport(poller, samples, lane) {
    return {
      samples, failures: this.pending.failures.filter((failure) => failure.lane === lane),
      requests: poller.requests, empty_answers: poller.emptyAnswers, failed_requests: poller.failures,
      running: poller.running, last_error: poller.lastError, interval_ms: poller.intervalMs,
    };
  }

  // Only when something changed: an idle page should not redraw.
  flush() {
    const pending = this.pending;
    const clockExchanges = this.clock.takeUnreported();
    const counts = [this.poller, this.longPoller].flatMap((p) => [p.requests, p.emptyAnswers, p.failures,
      p.running, p.lastError, p.intervalMs]).concat([this.pusher.framesSent, this.pusher.framesReceived,
      this.pusher.connectionsOpened, this.sse.requests, this.sse.connectionsOpened, this.sse.reconnects]).join();
    const news = wsDemo.LANES.reduce((sum, lane) => sum + pending[lane].length, 0) + pending.failures.length
      + pending.statuses.length + clockExchanges.length;
    if (news === 0 && counts === this.lastCounts) return;
    this.lastCounts = counts;
    const statuses = (lane) => pending.statuses.filter((status) => status.lane === lane);
    this.onReport({
      poll: this.pollerReport(this.poller, pending.poll, 'poll'),
      longpoll: this.pollerReport(this.longPoller, pending.longpoll, 'longpoll'),
      sse: {
        samples: pending.sse, statuses: statuses('sse'), requests: this.sse.requests,
        connections_opened: this.sse.connectionsOpened, reconnects: this.sse.reconnects, open: this.sse.isOpen,
      },
      push: {
        samples: pending.push, statuses: statuses('push'), frames_sent: this.pusher.framesSent,
        frames_received: this.pusher.framesReceived, connections_opened: this.pusher.connectionsOpened,
        open: this.pusher.isOpen, extensions: this.pusher.socket ? this.pusher.socket.extensions : '',
      },
      clock_exchanges: clockExchanges,
    });
    this.pending = this.emptyPending();
  }
};
