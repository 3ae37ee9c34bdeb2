// sFID is the Frechet distance of flattened spatial features: the same math as FID.
export { run, tolerances } from './fid.js';
