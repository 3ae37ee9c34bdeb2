import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkgs = ['core', 'schedules', 'unet', 'samplers', 'guidance', 'eval', 'train', 'backends', 'native', 'models-mnist'];

/** Source aliases so tests and tools run on the TypeScript sources, no build needed. */
export const alias = Object.fromEntries(
  pkgs.map((p) => [`@adm/${p}`, resolve(root, `packages/${p}/src/index.ts`)]),
);
