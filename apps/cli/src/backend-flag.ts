// The --backend flag (or ADM_BACKEND) of the commands that compute: its names are checked
// before any model loads, and the backend starts quietly (what was skipped, and why, only
// with --verbose).
import { type BackendChoice, backendPlugins, backendPreference, ConfigError, loadBackendPluginModules, useBackend } from '@adm/core';
import { verboseLine } from './output.js';

/** What a backend error names: the flag when given, else the environment variable, else the pipeline's field. */
function sourceOf(flag: string | undefined): string {
  return flag ? '--backend' : process.env.ADM_BACKEND ? 'ADM_BACKEND' : 'backend';
}

function renamed(e: unknown, flag: string | undefined): unknown {
  return e instanceof ConfigError && e.field === 'backend' ? new ConfigError(sourceOf(flag), e.detail) : e;
}

/**
 * The backend preference (--backend, else ADM_BACKEND, else the pipeline's, else auto), its
 * names checked against the registered plugins without probing any of them.
 */
export async function checkBackendFlag(flag: string | undefined, pipeline?: string): Promise<string | readonly string[]> {
  const preference = backendPreference({ flag, pipeline });
  await loadBackendPluginModules();
  const known = new Set(['auto', ...backendPlugins().map((p) => p.name)]);
  const names = (typeof preference === 'string' ? preference.split(',') : [...preference]).map((s) => s.trim()).filter(Boolean);
  const unknown = names.find((n) => !known.has(n));
  if (unknown !== undefined) {
    // useBackend refuses an unknown name (with the package that brings it) before it probes anything.
    await useBackend([unknown]).catch((e: unknown) => {
      throw renamed(e, flag);
    });
  }
  return preference;
}

/** Start the first available backend of `preference`; probing lines only with --verbose. */
export async function startBackend(preference: string | readonly string[], flag: string | undefined): Promise<BackendChoice> {
  try {
    const choice = await useBackend(preference, verboseLine);
    verboseLine(`backend: ${choice.name}`);
    return choice;
  } catch (e) {
    throw renamed(e, flag);
  }
}
