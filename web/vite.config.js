// Builds the dashboard into build/ui (or $LASTGOOD_UI_OUT), which `lastgood serve --ui`
// serves from beside the binary. `npm run dev` proxies the API to a controller's --ui.
import { defineConfig } from 'vite';

const controller = process.env.LASTGOOD_UI_URL || 'http://127.0.0.1:7071';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.LASTGOOD_UI_OUT || '../build/ui',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
  },
  server: { proxy: { '/v1': controller, '/login': controller } },
});
