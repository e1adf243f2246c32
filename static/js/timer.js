// Today's guided flow and hold timer. A dependency-free ES module served from our origin.
// Without it /today/ is one plain form; with it the same form becomes three steps
// (pain now, the timer, pain after and save), each shown when it is due, and the timer
// fills in what was actually done. Cues are hands-free: tones, spoken words, vibration.

export const GET_READY_SECONDS = 5;
export const REST_SECONDS = 5;
export const SWITCH_SECONDS = 8;
// One breath every 5 s, inside the programme's 4-6 s: in for 2, out slowly for 3.
export const INHALE_SECONDS = 2;
export const BREATH_CYCLE_SECONDS = 5;
const TICK_MS = 200;
// A tap on the pain scale moves the flow on; arrow keys only pick a number.
const POINTER_MS = 1500;

const SIDE_NAMES = { left: 'left leg', right: 'right leg', both: 'both legs' };
const PREFS = { sound: 'easeback.timer.sound', voice: 'easeback.timer.voice' };

export function buildSteps({ hold, reps, sides }) {
  const steps = [{ kind: 'ready', seconds: GET_READY_SECONDS, side: sides[0], rep: 0 }];
  sides.forEach((side, s) => {
    for (let rep = 1; rep <= reps; rep += 1) {
      steps.push({ kind: 'hold', seconds: hold, side, rep });
      if (rep < reps) steps.push({ kind: 'rest', seconds: REST_SECONDS, side, rep });
    }
    if (s < sides.length - 1) {
      steps.push({ kind: 'switch', seconds: SWITCH_SECONDS, side: sides[s + 1], rep: 0 });
    }
  });
  return steps;
}

export function breathCue(elapsedSeconds) {
  return elapsedSeconds % BREATH_CYCLE_SECONDS < INHALE_SECONDS ? 'in' : 'out';
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What was done, from the holds achieved per side: null when no hold was started. */
export function achievedResult(planSides, achieved) {
  const done = planSides.filter((side) => achieved[side].length > 0);
  if (!done.length) return null;
  const sides = done.length === 2 ? 'left_right' : done[0];
  return {
    sides,
    reps: Math.min(...done.map((side) => achieved[side].length)),
    hold: Math.max(...done.flatMap((side) => achieved[side])),
  };
}

function readPref(name) {
  try {
    return localStorage.getItem(PREFS[name]) !== 'off';
  } catch {
    return true;
  }
}

function writePref(name, on) {
  try {
    localStorage.setItem(PREFS[name], on ? 'on' : 'off');
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

// --- Hands-free cues ---------------------------------------------------------------------

class Cues {
  constructor(soundBox, voiceBox, voiceRow) {
    this.soundBox = soundBox;
    this.voiceBox = voiceBox;
    this.speech = 'speechSynthesis' in window ? window.speechSynthesis : null;
    if (!this.speech) voiceRow.hidden = true;
    soundBox.checked = readPref('sound');
    voiceBox.checked = Boolean(this.speech) && readPref('voice');
    soundBox.addEventListener('change', () => writePref('sound', soundBox.checked));
    voiceBox.addEventListener('change', () => {
      writePref('voice', voiceBox.checked);
      if (!voiceBox.checked) this.speech?.cancel();
    });
  }

  // Called from the Start tap: browsers only let sound begin after a user gesture.
  unlock() {
    if (!this.soundBox.checked || this.audio) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) this.audio = new Context();
  }

  tone(frequencies, length = 0.35) {
    if (!this.soundBox.checked) return;
    this.unlock();
    if (!this.audio) return;
    [].concat(frequencies).forEach((frequency, i) => {
      const at = this.audio.currentTime + i * (length + 0.05);
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.1, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      osc.connect(gain).connect(this.audio.destination);
      osc.start(at);
      osc.stop(at + length + 0.05);
    });
  }

  say(text, { interrupt = false, ifQuiet = false } = {}) {
    if (!this.speech || !this.voiceBox.checked) return;
    if (ifQuiet && (this.speech.speaking || this.speech.pending)) return;
    if (interrupt) this.speech.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.rate = 0.95;
    this.speech.speak(utterance);
  }

  vibrate(pattern) {
    if ('vibrate' in navigator) navigator.vibrate(pattern);
  }

  hush() {
    this.speech?.cancel();
  }
}

// --- The timer -----------------------------------------------------------------------------

const CUE = {
  ready: { tones: [440], buzz: 120 },
  hold: { tones: [660], buzz: 250 },
  rest: { tones: [440], buzz: 120 },
  switch: { tones: [440, 660], buzz: [200, 120, 200] },
};

class Timer {
  constructor(root) {
    this.root = root;
    this.el = (name) => root.querySelector(`[data-timer-${name}]`);
    this.ring = root.querySelector('[data-breath-ring]');
    this.cues = new Cues(this.el('sound'), this.el('voice'), this.el('voice-row'));
    this.el('go').addEventListener('click', () => this.start());
    this.el('pause').addEventListener('click', () => this.togglePause());
    this.el('finish').addEventListener('click', () => this.finish(true));
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.running) this.keepAwake();
    };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  configure(plan) {
    this.stopTicking();
    this.releaseWake();
    this.plan = plan;
    this.steps = buildSteps(plan);
    this.index = 0;
    this.elapsedMs = 0;
    this.running = false;
    this.started = false;
    this.finished = false;
    this.lastBreath = '';
    this.achieved = { left: [], right: [], both: [] };
    this.el('name').textContent = plan.name;
    this.el('reps').textContent = String(plan.reps);
    this.el('rep').textContent = '0';
    this.el('side').textContent = SIDE_NAMES[plan.sides[0]];
    this.el('phase').textContent = `Ready: ${plural(plan.reps, 'hold')} of ${plan.hold} s, ${this.sideSummary()}`;
    this.el('clock').textContent = String(plan.hold);
    this.el('breath').textContent = '';
    this.ring.dataset.breath = '';
    this.el('go').hidden = false;
    this.el('go').textContent = 'Start';
    this.el('pause').hidden = true;
    this.el('finish').hidden = true;
    this.announce(`Timer ready for ${plan.name}. Press Start when you are in position.`);
  }

  sideSummary() {
    const { sides } = this.plan;
    if (sides.length === 2) return 'left leg then right leg';
    return sides[0] === 'both' ? 'both legs together' : `${SIDE_NAMES[sides[0]]} only`;
  }

  start() {
    if (this.finished) this.configure(this.plan);
    this.cues.unlock();
    this.keepAwake();
    this.running = true;
    this.started = true;
    this.lastTick = Date.now();
    this.el('go').hidden = true;
    this.el('pause').hidden = false;
    this.el('pause').textContent = 'Pause';
    this.el('finish').hidden = false;
    this.el('pause').focus();
    this.root.dispatchEvent(new CustomEvent('timer:started'));
    this.enterStep();
    this.interval = setInterval(() => this.tick(), TICK_MS);
  }

  togglePause() {
    if (this.finished) return;
    this.running = !this.running;
    this.lastTick = Date.now();
    this.el('pause').textContent = this.running ? 'Pause' : 'Resume';
    const words = this.running ? 'Resumed.' : 'Paused. Release the stretch gently if you need to.';
    this.announce(words);
    this.cues.say(this.running ? 'Resumed' : 'Paused', { interrupt: true });
    if (!this.running) this.el('breath').textContent = 'Paused';
  }

  tick() {
    const now = Date.now();
    if (!this.running) {
      this.lastTick = now;
      return;
    }
    this.elapsedMs += now - this.lastTick;
    this.lastTick = now;
    let step = this.steps[this.index];
    while (this.elapsedMs >= step.seconds * 1000) {
      this.elapsedMs -= step.seconds * 1000;
      if (step.kind === 'hold') this.achieved[step.side].push(step.seconds);
      this.index += 1;
      if (this.index >= this.steps.length) {
        this.finish(false);
        return;
      }
      step = this.steps[this.index];
      this.enterStep();
    }
    this.render();
  }

  enterStep() {
    const step = this.steps[this.index];
    const side = SIDE_NAMES[step.side];
    const words = {
      ready: `Get ready: lie on your back, ${side} first.`,
      hold: `Hold ${step.rep} of ${this.plan.reps}, ${side}. Breathe out as you draw the knee in.`,
      rest: 'Release slowly and rest.',
      switch: `Switch legs: now the ${side}.`,
    }[step.kind];
    const spoken = {
      ready: `Get ready. Lie on your back, ${side} first.`,
      hold: `Hold ${step.rep}, ${side}. Breathe out as you draw the knee in.`,
      rest: 'Release slowly, and rest.',
      switch: `Switch legs. Now the ${side}.`,
    }[step.kind];
    this.el('phase').textContent = words;
    this.el('side').textContent = side;
    this.el('rep').textContent = String(step.rep);
    this.announce(words);
    this.cues.tone(CUE[step.kind].tones);
    this.cues.vibrate(CUE[step.kind].buzz);
    this.cues.say(spoken, { interrupt: true });
    this.lastBreath = step.kind === 'hold' ? 'out' : '';
    this.render();
  }

  render() {
    const step = this.steps[this.index];
    const remaining = Math.max(0, Math.ceil(step.seconds - this.elapsedMs / 1000));
    this.el('clock').textContent = String(remaining);
    if (step.kind === 'hold') {
      const cue = breathCue(Math.floor(this.elapsedMs / 1000));
      this.el('breath').textContent = cue === 'in' ? 'Breathe in' : 'Breathe out';
      this.ring.dataset.breath = cue;
      if (cue !== this.lastBreath) {
        this.lastBreath = cue;
        this.cues.tone(cue === 'in' ? 392 : 330, 0.2);
        this.cues.say(cue === 'in' ? 'Breathe in' : 'Breathe out', { ifQuiet: true });
      }
    } else {
      this.el('breath').textContent = '';
      this.ring.dataset.breath = '';
    }
  }

  finish(early) {
    if (this.finished) return;
    const step = this.steps[this.index];
    if (early && step && step.kind === 'hold' && this.elapsedMs >= 1000) {
      this.achieved[step.side].push(Math.floor(this.elapsedMs / 1000));
    }
    this.finished = true;
    this.running = false;
    this.stopTicking();
    this.releaseWake();
    this.el('pause').hidden = true;
    this.el('finish').hidden = true;
    this.el('go').hidden = false;
    this.el('go').textContent = 'Start again';
    this.el('breath').textContent = '';
    this.ring.dataset.breath = '';
    const result = achievedResult(this.plan.sides, this.achieved);
    let done;
    if (!early) done = 'All holds done. Well done.';
    else if (result) done = `Stopped after ${plural(result.reps, 'rep')}, longest hold ${result.hold} s.`;
    else done = 'Stopped before the first hold: nothing is logged for it.';
    this.el('phase').textContent = done;
    this.announce(`${done} Now rate your pain after the session.`);
    this.cues.tone([523, 659, 784], 0.3);
    this.cues.vibrate([300, 100, 300]);
    this.cues.say(`${done} Now rate your pain.`, { interrupt: true });
    this.root.dispatchEvent(new CustomEvent('timer:finished', { detail: { early, result } }));
  }

  stopTicking() {
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
  }

  // The page part holding this timer is being replaced (after a save).
  destroy() {
    this.stopTicking();
    this.releaseWake();
    this.cues.hush();
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  announce(text) {
    this.el('live').textContent = text;
  }

  async keepAwake() {
    try {
      if ('wakeLock' in navigator) this.wake = await navigator.wakeLock.request('screen');
    } catch {
      // Not allowed (battery saver, old browser): the timer still runs.
    }
  }

  releaseWake() {
    if (this.wake) this.wake.release().catch(() => {});
    this.wake = null;
  }
}

// --- The guided flow ---------------------------------------------------------------------

function scrollTo(element, block = 'start') {
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  element.scrollIntoView({ behavior: smooth ? 'smooth' : 'auto', block });
}

class Flow {
  constructor(container) {
    this.container = container;
    this.form = container.querySelector('[data-log-form]');
    this.step = (name) => this.form.querySelector(`[data-flow-step="${name}"]`);
    this.timer = new Timer(this.form.querySelector('[data-timer]'));
    this.timer.configure(this.planOf(this.timer.root.dataset));
    window.easebackTimer = this.timer;
    this.bind();
    if (container.hasAttribute('data-lasting-due')) {
      // Safety first: the question above is answered before anything else.
      container.querySelector('[data-flow-waiting]').hidden = false;
      for (const name of ['before', 'timer', 'after']) this.step(name).hidden = true;
    } else if (this.form.hasAttribute('data-flow-open')) {
      // Errors are shown: every field stays in sight, as in the plain form.
      this.step('timer').hidden = false;
    } else {
      this.step('after').hidden = true;
      this.form.querySelector('[data-flow-skip]').hidden = false;
      if (this.painBefore()) {
        this.summariseBefore();
        this.step('timer').hidden = false;
      }
    }
  }

  planOf(data) {
    return {
      slug: data.slug,
      name: data.name,
      hold: Number(data.hold),
      reps: Number(data.reps),
      sides: data.sides.split(','),
    };
  }

  painBefore() {
    return this.form.querySelector('input[name="pain_before"]:checked');
  }

  bind() {
    const before = this.step('before');
    before.addEventListener('pointerdown', () => {
      this.pointerAt = Date.now();
    });
    before.addEventListener('change', () => {
      this.step('timer').hidden = false;
      if (Date.now() - (this.pointerAt ?? 0) < POINTER_MS) {
        this.summariseBefore();
        this.toTimer();
      }
    });
    before.querySelector('[data-flow-change]').addEventListener('click', () => this.openBefore());
    this.timer.root.addEventListener('timer:started', () => {
      if (this.painBefore()) this.summariseBefore();
      this.fillIdentity();
      scrollTo(this.timer.root);
    });
    this.timer.root.addEventListener('timer:finished', (event) => this.afterTimer(event.detail));
    this.form.querySelector('[data-timer-skip]').addEventListener('click', () => {
      this.fillIdentity();
      this.showAfter({ summarise: true });
    });
    this.form
      .querySelector('[data-flow-details-change]')
      .addEventListener('click', () => this.openDetails(true));
  }

  summariseBefore() {
    const step = this.step('before');
    step.querySelector('[data-flow-summary-value]').textContent = this.painBefore().value;
    step.querySelector('[data-flow-body]').hidden = true;
    step.querySelector('[data-flow-summary]').hidden = false;
  }

  openBefore() {
    const step = this.step('before');
    step.querySelector('[data-flow-summary]').hidden = true;
    step.querySelector('[data-flow-body]').hidden = false;
    (this.painBefore() || step.querySelector('input[type=radio]')).focus();
  }

  toTimer() {
    this.step('timer').hidden = false;
    // From the summary of the step before: what was chosen stays in sight above the timer.
    const summary = this.step('before').querySelector('[data-flow-summary]');
    scrollTo(summary.hidden ? this.timer.root : this.step('before'));
    this.timer.el('go').focus({ preventScroll: true });
  }

  // A plan card's "Start guided timer": the same flow, for that stretch.
  useItem(data) {
    if (this.container.hasAttribute('data-lasting-due')) {
      scrollTo(document.querySelector('#lasting-pain') || this.container);
      return;
    }
    this.timer.configure(this.planOf(data));
    this.fillIdentity();
    // Asked for by name: the timer opens even before the pain score, which stays open above.
    this.toTimer();
  }

  set(name, value) {
    const field = this.form.elements.namedItem(name);
    if (field) field.value = String(value);
  }

  // Which stretch and sides the timer ran, before a single hold is counted.
  fillIdentity() {
    const { slug, sides } = this.timer.plan;
    this.set('exercise', slug);
    this.checkSides(sides.length === 2 ? 'left_right' : sides[0]);
  }

  checkSides(value) {
    const radio = this.form.querySelector(`input[name="sides"][value="${value}"]`);
    if (radio) radio.checked = true;
  }

  afterTimer({ result }) {
    this.fillIdentity();
    const nothing = this.form.querySelector('[data-flow-nothing]');
    if (result) {
      this.checkSides(result.sides);
      this.set('reps_per_side', result.reps);
      this.set('hold_seconds', result.hold);
      nothing.hidden = true;
    } else {
      // Nothing was done: never the plan's numbers in the form.
      this.set('reps_per_side', '');
      this.set('hold_seconds', '');
      nothing.hidden = false;
    }
    this.showAfter({ summarise: Boolean(result) });
  }

  showAfter({ summarise }) {
    const step = this.step('after');
    step.hidden = false;
    this.form.querySelector('[data-flow-skip]').hidden = true;
    if (summarise && !this.form.hasAttribute('data-flow-open')) this.summariseDetails();
    else this.openDetails(false);
    scrollTo(step);
    const painAfter = this.form.querySelector('input[name="pain_after"]:checked') ||
      this.form.querySelector('input[name="pain_after"]');
    painAfter?.focus({ preventScroll: true });
  }

  summariseDetails() {
    const form = this.form;
    const exercise = form.elements.namedItem('exercise');
    const sides = form.querySelector('input[name="sides"]:checked');
    const reps = Number(form.elements.namedItem('reps_per_side').value);
    const hold = form.elements.namedItem('hold_seconds').value;
    const sideLabel = sides?.closest('label')?.textContent.trim().toLowerCase() ?? '';
    const text = `${exercise.selectedOptions[0]?.textContent ?? ''} · ${sideLabel} · ${plural(reps, 'rep')} per side · longest hold ${hold} s`;
    form.querySelector('[data-flow-details-text]').textContent = text;
    form.querySelector('[data-flow-details]').hidden = true;
    form.querySelector('[data-flow-details-summary]').hidden = false;
  }

  openDetails(focus) {
    const details = this.form.querySelector('[data-flow-details]');
    this.form.querySelector('[data-flow-details-summary]').hidden = true;
    details.hidden = false;
    if (focus) details.querySelector('select, input')?.focus();
  }

  destroy() {
    this.timer.destroy();
  }
}

// --- Wiring ----------------------------------------------------------------------------------

const container = document.querySelector('[data-flow]');
let flow = null;

function startFlow() {
  if (!container?.querySelector('[data-log-form]')) return;
  flow?.destroy();
  flow = new Flow(container);
}

if (container) {
  startFlow();
  for (const button of document.querySelectorAll('[data-timer-start]')) button.hidden = false;
  // The plan cards are swapped after a save too: one listener on the page for all of them.
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('[data-timer-start]');
    if (button && flow) flow.useItem(button.dataset);
  });
  document.body.addEventListener('htmx:oobAfterSwap', () => {
    for (const button of document.querySelectorAll('[data-timer-start]')) button.hidden = false;
  });
  const skip = document.querySelector('[data-skip-timer]');
  if (skip && !container.hasAttribute('data-lasting-due')) {
    skip.hidden = false;
    skip.addEventListener('click', (event) => {
      event.preventDefault();
      flow?.step('timer').removeAttribute('hidden');
      flow?.timer.root.scrollIntoView({ block: 'start' });
      flow?.timer.el('go').focus({ preventScroll: true });
    });
  }
  // Sessions sent from the offline queue (offline.js) change the counts too: fetch every
  // count at once. A save from this form brings its counts along and needs no second trip.
  document.body.addEventListener('session-logged', (event) => {
    const done = document.querySelector('#done-today');
    if (event.target !== document.body || !done || !globalThis.htmx) return;
    globalThis.htmx.ajax('GET', done.dataset.countsUrl, { target: '#done-today', swap: 'outerHTML' });
  });
  let saved = false;
  // Read before the swap: afterwards the form that sent the request is gone from the page.
  document.body.addEventListener('htmx:beforeSwap', (event) => {
    if (event.detail.target?.id !== 'log-form') return;
    flow?.destroy();
    saved = event.detail.xhr?.getResponseHeader('HX-Trigger') === 'session-logged';
  });
  document.body.addEventListener('htmx:afterSettle', (event) => {
    if (event.detail.target?.id !== 'log-form' && event.detail.elt?.id !== 'log-form') return;
    startFlow();
    if (saved) {
      saved = false;
      const status = container.querySelector('[data-flow-status]');
      status.focus({ preventScroll: true });
      scrollTo(status, 'center');
    }
  });
}
