// A live log a reader can follow: it keeps its newest entry in view unless the reader scrolled up (then it says
// how many newer entries wait below), can be paused (new entries are held, and shown on resume), and tells a
// screen reader, at most every few seconds, how many entries came and what the latest was, instead of reading
// every entry of a log that gets ten a second. A panel keeps one LiveLog per log, as reactive data, and renders
// `entries`; it calls `add` for each new entry and `afterRender(element)` once the entries are drawn.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.LiveLog = class LiveLog {
  constructor({ title, maxEntries = 200, heldMax = 200, announceEveryMs = 3000 }) {
    this.title = title;
    this.maxEntries = maxEntries;
    this.heldMax = heldMax;
    this.announceEveryMs = announceEveryMs;
    this.entries = [];
    this.held = [];
    this.paused = false;
    this.newerBelow = 0;  // entries added while the reader was scrolled up
    this.announcement = '';
    this.nextKey = 1;
    this.unannounced = 0;
    this.latest = '';
    this.lastAnnounced = 0;
    this.follow = true;
  }

  // `entry` is plain data the panel renders; `summary` is the one line a screen reader may hear.
  add(entry, summary) {
    const keyed = { key: this.nextKey++, ...entry };
    if (this.paused) {
      this.held = [...this.held, keyed].slice(-this.heldMax);
      return;
    }
    this.show([keyed], summary);
  }

  show(entries, summary) {
    this.entries = [...this.entries, ...entries].slice(-this.maxEntries);
    if (!this.follow) this.newerBelow += entries.length;
    this.unannounced += entries.length;
    this.latest = summary;
    const now = Date.now();
    if (now - this.lastAnnounced >= this.announceEveryMs) this.announce(now);
  }

  announce(now = Date.now()) {
    if (this.unannounced === 0) return;
    const count = this.unannounced;
    this.announcement = `${this.title}: ${count} new ${count === 1 ? 'entry' : 'entries'}. Latest: ${this.latest}`;
    this.unannounced = 0;
    this.lastAnnounced = now;
  }

  clear() {
    this.entries = [];
    this.held = [];
    this.newerBelow = 0;
    this.follow = true;
  }

  togglePause() {
    this.paused = !this.paused;
    if (!this.paused && this.held.length) {
      const held = this.held;
      this.held = [];
      this.show(held, this.latest);
    }
  }

  // The reader scrolled: follow the newest entry again only when they are back at the bottom.
  scrolled(element) {
    this.follow = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
    if (this.follow) this.newerBelow = 0;
  }

  // After the entries are drawn: keep the newest in view while following.
  afterRender(element) {
    if (element && this.follow) element.scrollTop = element.scrollHeight;
  }

  jumpToNewest(element) {
    this.follow = true;
    this.newerBelow = 0;
    if (element) element.scrollTop = element.scrollHeight;
  }
};
