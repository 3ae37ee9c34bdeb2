// Vite config of the consumer page (no imports: the project has only the @adm packages).
export default { build: { target: 'es2022', outDir: 'dist', emptyOutDir: true } };
