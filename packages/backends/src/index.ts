// @adm/backends: the tfjs backends a user can have, as plugins of @adm/core's registry.
// Importing this module registers them (core's useBackend imports it when installed), so
// model code never imports a backend: it asks for a preference and uses tf.getBackend().
import { registerAdmBackends } from './exports.js';

export * from './exports.js';

registerAdmBackends();
