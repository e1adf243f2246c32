// Guided hold timer for /today/. A dependency-free ES module served from our origin.
// It reads the plan from data attributes and, when the last hold ends, fills in the
// log form with what was actually done. The page works without it.

export const GET_READY_SECONDS = 5;
export const REST_SECONDS = 5;
export const SWITCH_SECONDS = 8;
// One breath every 5 s, inside the programme's 4-6 s: in for 2, out slowly for 3.
export const INHALE_SECONDS = 2;
export const BREATH_CYCLE_SECONDS = 5;
const TICK_MS = 200;

const SIDE_NAMES = { left: 'left leg', right: 'right leg', both: 'both legs' };

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

class Timer {
  constructor(root) {
    this.root = root;
    this.el = (name) => root.querySelector(`[data-timer-${name}]`);
    this.ring = root.querySelector('[data-breath-ring]');
    this.el('go').addEventListener('click', () => this.start());
    this.el('pause').addEventListener('click', () => this.togglePause());
    this.el('finish').addEventListener('click', () => this.finish(true));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.running) this.keepAwake();
    });
  }

  configure(plan) {
    this.stopTicking();
    this.plan = plan;
    this.steps = buildSteps(plan);
    this.index = 0;
    this.elapsedMs = 0;
    this.running = false;
    this.finished = false;
    this.achieved = { left: [], right: [], both: [] };
    this.el('name').textContent = plan.name;
    this.el('reps').textContent = String(plan.reps);
    this.el('rep').textContent = '0';
    this.el('side').textContent = SIDE_NAMES[plan.sides[0]];
    this.el('phase').textContent = `Ready: ${plan.reps} holds of ${plan.hold} s, ${this.sideSummary()}`;
    this.el('clock').textContent = String(plan.hold);
    this.el('breath').textContent = '';
    this.ring.dataset.breath = '';
    this.el('go').hidden = false;
    this.el('go').textContent = 'Start';
    this.el('pause').hidden = true;
    this.el('finish').hidden = true;
    this.root.hidden = false;
    this.announce(`Timer ready for ${plan.name}. Press Start when you are in position.`);
  }

  sideSummary() {
    const { sides } = this.plan;
    if (sides.length === 2) return 'left leg then right leg';
    return sides[0] === 'both' ? 'both legs together' : `${SIDE_NAMES[sides[0]]} only`;
  }

  start() {
    this.ensureAudio();
    this.keepAwake();
    this.running = true;
    this.lastTick = Date.now();
    this.el('go').hidden = true;
    this.el('pause').hidden = false;
    this.el('pause').textContent = 'Pause';
    this.el('finish').hidden = false;
    this.enterStep();
    this.interval = setInterval(() => this.tick(), TICK_MS);
  }

  togglePause() {
    if (this.finished) return;
    this.running = !this.running;
    this.lastTick = Date.now();
    this.el('pause').textContent = this.running ? 'Pause' : 'Resume';
    this.announce(this.running ? 'Resumed.' : 'Paused. Release the stretch gently if you need to.');
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
    this.el('phase').textContent = words;
    this.el('side').textContent = side;
    this.el('rep').textContent = String(step.rep);
    this.announce(words);
    this.beep(step.kind === 'hold' ? 660 : 440);
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
    const done = early ? 'Stopped.' : 'All holds done. Well done.';
    this.el('phase').textContent = `${done} Your session is filled in below: add your pain now.`;
    this.announce(`${done} The log form below is filled in; rate your pain after the session.`);
    this.beep(523);
    this.fillLogForm();
  }

  fillLogForm() {
    const form = document.querySelector('[data-log-form]');
    if (!form) return;
    const { sides } = this.plan;
    const counts = sides.map((s) => this.achieved[s].length);
    const holds = sides.flatMap((s) => this.achieved[s]);
    const set = (name, value) => {
      const field = form.elements.namedItem(name);
      if (field) field.value = String(value);
    };
    set('exercise', this.plan.slug);
    const sidesValue = sides.length === 2 ? 'left_right' : sides[0];
    const radio = form.querySelector(`input[name="sides"][value="${sidesValue}"]`);
    if (radio) radio.checked = true;
    if (holds.length) {
      set('reps_per_side', Math.max(1, Math.min(...counts.filter((n) => n > 0))));
      set('hold_seconds', Math.max(...holds));
    }
    set('hold_seconds_target', this.plan.hold);
    const painAfter = form.querySelector('input[name="pain_after"]');
    if (painAfter) {
      painAfter.closest('fieldset').scrollIntoView({ behavior: 'smooth', block: 'center' });
      painAfter.focus({ preventScroll: true });
    }
  }

  stopTicking() {
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
  }

  announce(text) {
    this.el('live').textContent = text;
  }

  ensureAudio() {
    if (!this.el('sound').checked || this.audio) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) this.audio = new Context();
  }

  beep(frequency) {
    if (!this.el('sound').checked) return;
    this.ensureAudio();
    if (!this.audio) return;
    const osc = this.audio.createOscillator();
    const gain = this.audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, this.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.08, this.audio.currentTime + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, this.audio.currentTime + 0.35);
    osc.connect(gain).connect(this.audio.destination);
    osc.start();
    osc.stop(this.audio.currentTime + 0.4);
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

const root = document.querySelector('[data-timer]');
if (root) {
  const timer = new Timer(root);
  window.easebackTimer = timer;
  for (const button of document.querySelectorAll('[data-timer-start]')) {
    button.hidden = false;
    button.addEventListener('click', () => {
      timer.configure({
        slug: button.dataset.slug,
        name: button.dataset.name,
        hold: Number(button.dataset.hold),
        reps: Number(button.dataset.reps),
        sides: button.dataset.sides.split(','),
      });
      root.scrollIntoView({ behavior: 'smooth', block: 'start' });
      root.querySelector('[data-timer-go]').focus({ preventScroll: true });
    });
  }
}
