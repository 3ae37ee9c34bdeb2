// @adm/eval: the paper's sample-quality metrics (FID, sFID, Inception Score, improved
// precision/recall; Section 2.2), the FID Inception-v3 feature extractor on TensorFlow.js,
// reference batches in the evaluator's .npz format, and nearest-neighbour grids.
export * from './feature-statistics.js';
export * from './frechet-distance.js';
export * from './inception-score.js';
export * from './pairwise-distances.js';
export * from './precision-recall.js';
export { pivotedCholesky, type PivotedCholesky } from './linalg/pivoted-cholesky.js';
export { symmetricEigenvalues } from './linalg/symmetric-eigenvalues.js';
export * from './inception/inception-preprocessing.js';
export * from './inception/fid-inception-weights.js';
export * from './inception/fid-inception.js';
export * from './inception/feature-extractor.js';
export * from './png.js';
export * from './image-grid.js';
export * from './image-batch.js';
export * from './npz-writer.js';
export * from './reference-batch.js';
export * from './feature-cache.js';
export * from './nearest-neighbours.js';
export * from './evaluation.js';
