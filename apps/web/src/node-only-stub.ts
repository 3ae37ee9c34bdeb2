// Stands in for Node-only modules (the `webgpu` Dawn addon) in the browser bundle: a
// browser has navigator.gpu natively, and the page registers its own backend plugins.
throw new Error('this module is Node-only and is not available in the browser');
export {};
