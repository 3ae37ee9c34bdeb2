import * as tf from '@tensorflow/tfjs';
import { registerBrowserBackends, startBrowserBackend } from './browser-backends.js';
import { fetchCatalog, type CatalogModel, type ModelCatalog } from './model-catalog.js';
import { batchToRgbaGrid, type ImageBatch } from './image-grid.js';
import { SAMPLER_CHOICES, loadPageModels, samplePage, type LoadedPageModels, type PageSettings } from './sampling-session.js';

// The page: controls on the left, x_t and predicted x_0 drawn every step on the right.
// State for tests and users is mirrored in <body data-state="..." data-backend="...">.

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  form: $<HTMLFormElement>('controls'),
  model: $<HTMLSelectElement>('model'),
  modelNote: $<HTMLParagraphElement>('model-note'),
  classLabel: $<HTMLSelectElement>('class-label'),
  scale: $<HTMLInputElement>('guidance-scale'),
  scaleValue: $<HTMLOutputElement>('scale-value'),
  guidanceNote: $<HTMLParagraphElement>('guidance-note'),
  steps: $<HTMLInputElement>('steps'),
  sampler: $<HTMLSelectElement>('sampler'),
  batchSize: $<HTMLInputElement>('batch-size'),
  seed: $<HTMLInputElement>('seed'),
  backend: $<HTMLSelectElement>('backend'),
  sample: $<HTMLButtonElement>('sample'),
  cancel: $<HTMLButtonElement>('cancel'),
  download: $<HTMLButtonElement>('download'),
  xt: $<HTMLCanvasElement>('xt-canvas'),
  x0: $<HTMLCanvasElement>('x0-canvas'),
  progress: $<HTMLProgressElement>('progress'),
  status: $<HTMLParagraphElement>('status'),
  badge: $<HTMLSpanElement>('backend-badge'),
};

type PageState = 'loading' | 'idle' | 'running' | 'done' | 'cancelled' | 'error';

let catalog: ModelCatalog | null = null;
let activeBackend = '';
let loaded: { key: string; models: LoadedPageModels } | null = null;
let abort: AbortController | null = null;
let lastFileName = 'adm-sample.png';

function setState(state: PageState, message: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = message;
  ui.status.classList.toggle('error', state === 'error');
  const running = state === 'running' || state === 'loading';
  for (const el of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = running;
  ui.sample.disabled = running;
  ui.cancel.disabled = state !== 'running';
  if (!catalog) ui.sample.disabled = true;
  refreshGuidanceControls();
}

function draw(canvas: HTMLCanvasElement, batch: ImageBatch): void {
  const grid = batchToRgbaGrid(batch);
  if (canvas.width !== grid.width || canvas.height !== grid.height) {
    canvas.width = grid.width;
    canvas.height = grid.height;
  }
  canvas.getContext('2d')!.putImageData(new ImageData(grid.rgba, grid.width, grid.height), 0, 0);
}

function currentModel(): CatalogModel {
  return catalog!.models.find((m) => m.id === ui.model.value) ?? catalog!.models[0]!;
}

function refreshGuidanceControls(): void {
  if (!catalog) return;
  const m = currentModel();
  const hasClassifier = Boolean(m.classifier);
  if (!hasClassifier) ui.scale.disabled = true;
  ui.scaleValue.textContent = hasClassifier ? Number(ui.scale.value).toFixed(1) : '—';
  ui.guidanceNote.textContent = hasClassifier
    ? 'Classifier guidance: mean shift (Algorithm 1) for DDPM, on eps (Algorithm 2) for DDIM and DPM-Solver++; 0 turns it off.'
    : 'This model has no classifier: guidance is off.';
}

function onModelChange(): void {
  const m = currentModel();
  ui.modelNote.hidden = !(m.randomWeights || m.note);
  ui.modelNote.textContent = m.randomWeights ? `Random weights — structure demo. ${m.note ?? 'Untrained: the samples are noise, not images.'}` : (m.note ?? '');
  ui.classLabel.replaceChildren();
  const options = m.labels.length ? [['random', 'random per image'], ...m.labels.map((l, i) => [String(i), `${i} · ${l}`])] : [['none', 'unconditional']];
  for (const [value, text] of options) ui.classLabel.append(new Option(text, value));
  if (m.labels.length) ui.classLabel.value = '0';
  refreshGuidanceControls();
}

function readSettings(): PageSettings {
  const int = (el: HTMLInputElement, lo: number, hi: number) => {
    const v = Math.round(Number(el.value));
    const c = Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
    el.value = String(c);
    return c;
  };
  const m = currentModel();
  const cls = ui.classLabel.value;
  return {
    model: m,
    classLabel: cls === 'random' || cls === 'none' ? cls : Number(cls),
    guidanceScale: m.classifier ? Number(ui.scale.value) : 0,
    steps: int(ui.steps, 1, 1000),
    sampler: ui.sampler.value,
    batchSize: int(ui.batchSize, 1, 16),
    seed: int(ui.seed, 0, 2 ** 31 - 1),
  };
}

async function ensureBackend(): Promise<void> {
  const wanted = ui.backend.value;
  if (activeBackend && (wanted === 'auto' || wanted === activeBackend)) return;
  ui.badge.textContent = 'backend: starting…';
  const picked = await startBrowserBackend(wanted, (line) => console.info(line));
  activeBackend = picked.name;
  document.body.dataset.backend = picked.name;
  ui.badge.textContent = `backend: ${picked.detail}`;
  ui.badge.title = picked.skipped.length ? `skipped:\n${picked.skipped.join('\n')}` : 'TensorFlow.js backend';
}

async function run(): Promise<void> {
  const settings = readSettings();
  abort = new AbortController();
  const signal = abort.signal;
  ui.download.disabled = true;
  setState('running', 'Starting backend…');
  ui.progress.value = 0;
  try {
    await ensureBackend();
    const key = `${settings.model.id}@${activeBackend}`;
    if (loaded?.key !== key) {
      loaded?.models.dispose();
      loaded = null;
      setState('running', `Loading ${settings.model.title}…`);
      try {
        loaded = { key, models: await loadPageModels(settings.model, new URL('models/', document.baseURI).href) };
      } catch (e) {
        // A malformed model folder: say which model and what is wrong; the page stays usable.
        throw new Error(`Cannot load the model "${settings.model.title}": ${(e as Error).message}`, { cause: e });
      }
    }
    setState('running', 'Sampling…');
    const started = performance.now();
    let total = settings.steps;
    let done = 0;
    const result = await samplePage(loaded.models, settings, signal, (step) => {
      total = step.total;
      done = step.done;
      draw(ui.xt, step.xt);
      draw(ui.x0, step.x0);
      ui.progress.max = step.total;
      ui.progress.value = step.done;
      const perStep = (performance.now() - started) / step.done / 1000;
      // Timed here, after the step's images were read back: on WebGPU the work runs during that read.
      const eta = step.done < step.total ? ` · ${Math.ceil(perStep * (step.total - step.done))} s left` : '';
      ui.status.textContent = `step ${step.done}/${step.total} · ${perStep.toFixed(2)} s/step${eta} · ${activeBackend}`;
    });
    if (!result) {
      setState('cancelled', `Cancelled at step ${done}/${total}.`);
      return;
    }
    draw(ui.xt, result.images);
    draw(ui.x0, result.images);
    const secs = (performance.now() - started) / 1000;
    const cls = settings.classLabel === 'random' || settings.classLabel === 'none' ? settings.classLabel : `class${settings.classLabel}`;
    lastFileName = `adm-${settings.model.id}-${cls}-${settings.sampler}${settings.steps}-scale${settings.guidanceScale}-seed${settings.seed}.png`;
    ui.download.disabled = false;
    const classes = result.labels && settings.classLabel === 'random' ? ` Classes: ${Array.from(result.labels, (k) => settings.model.labels[k] ?? k).join(', ')}.` : '';
    setState('done', `Done: ${settings.batchSize} image${settings.batchSize > 1 ? 's' : ''}, ${total} steps in ${secs.toFixed(1)} s on ${activeBackend}.${classes}`);
  } catch (e) {
    console.error(e);
    setState('error', `Error: ${(e as Error).message}`);
  } finally {
    abort = null;
  }
}

function download(): void {
  ui.xt.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = lastFileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
}

async function init(): Promise<void> {
  registerBrowserBackends();
  // ?debug exposes TensorFlow.js on window.adm for the console (memory, backend, profiling).
  if (new URLSearchParams(location.search).has('debug')) (window as unknown as { adm: unknown }).adm = { tf };
  for (const s of SAMPLER_CHOICES) {
    const option = new Option(s.title, s.name);
    option.title = s.summary;
    ui.sampler.append(option);
  }
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!abort) void run();
  });
  ui.cancel.addEventListener('click', () => abort?.abort());
  ui.download.addEventListener('click', download);
  ui.model.addEventListener('change', onModelChange);
  ui.scale.addEventListener('input', refreshGuidanceControls);
  ui.backend.addEventListener('change', () => {
    activeBackend = '';
    ui.badge.textContent = `backend: ${ui.backend.value} (starts on Sample)`;
  });
  setState('loading', 'Loading model list…');
  try {
    catalog = await fetchCatalog(new URL('models/index.json', document.baseURI).href);
    for (const m of catalog.models) ui.model.append(new Option(m.title, m.id));
    onModelChange();
    await ensureBackend();
    setState('idle', 'Ready. Pick the settings and press Sample.');
  } catch (e) {
    console.error(e);
    setState('error', `Error: ${(e as Error).message}`);
  }
}

void init();
