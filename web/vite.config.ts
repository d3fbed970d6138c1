// Build of the web UI (design.md §2): plain Vite + React, one entry, no inline script or style
// (the server's CSP has no 'unsafe-inline'), and an integrity manifest + SRI written after the
// bundle (ACS-5.1.2.1/2). Built by `npm run build:web`; the server never builds it.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { integrity } from './build/integrity.ts';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: false,
  plugins: [react(), integrity()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The preload polyfill is not needed by the browsers we support and would only add code.
    modulePreload: { polyfill: false },
    // Never turn an asset into a data: URI inside CSS or JS: every file stays listed and hashed.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
