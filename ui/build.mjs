// Build the UI into OUT (default ../build/ui): index.html plus assets/ whose
// names carry a content hash, so the daemon can let browsers cache them for a
// year and only revalidate index.html.  Runs offline once `npm ci` is done.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.OUT || join(here, '..', 'build', 'ui'));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.ts') },
  bundle: true,
  splitting: true, // elkjs is loaded only when the graph is opened
  format: 'esm',
  target: ['es2020'],
  minify: true,
  sourcemap: 'linked',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'eof',
});

const outputs = Object.entries(result.metafile.outputs);
const find = (ext) => {
  const hit = outputs.find(([p, o]) => o.entryPoint && p.endsWith(ext)) ||
    outputs.find(([p]) => /\/app-[^/]*$/.test(p) && p.endsWith(ext));
  if (!hit) throw new Error(`no ${ext} output`);
  return '/assets/' + relative(join(out, 'assets'), resolve(hit[0]));
};
const js = find('.js');
const css = outputs.find(([p]) => p.endsWith('.css'));
const cssHref = css ? '/assets/' + relative(join(out, 'assets'), resolve(css[0])) : null;

const template = readFileSync(join(here, 'src', 'index.html'), 'utf8');
const html = template
  .replace('<!--CSS-->', cssHref ? `<link rel="stylesheet" href="${cssHref}">` : '')
  .replace('<!--JS-->', `<script type="module" src="${js}"></script>`);
writeFileSync(join(out, 'index.html'), html);
// The icon keeps its name: the daemon serves it as /favicon.svg and /favicon.ico.
copyFileSync(join(here, 'src', 'favicon.svg'), join(out, 'favicon.svg'));
console.log(`ui: built ${relative(process.cwd(), out) || '.'} (${js}${cssHref ? ', ' + cssHref : ''})`);
