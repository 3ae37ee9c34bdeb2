import { type HostTensor, serializeNpz } from '@adm/core';

/**
 * Serialize arrays to .npz; `compressed` deflates every member like np.savez_compressed
 * (else stored, like np.savez). Kept for callers of @adm/eval; core does the work.
 */
export function serializeNpzFile(arrays: Map<string, HostTensor> | Record<string, HostTensor>, compressed = false): Uint8Array {
  return serializeNpz(arrays, { compressed });
}
