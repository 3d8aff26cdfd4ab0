// Compiles src/ and migrations/ to dist/ (CommonJS JavaScript, one file per source file, with source
// maps), the code `npm start`, `npm run worker|migrate|mailbox:create` and hosts run. esbuild only
// strips the types (about 0.1 s for the whole tree; `npm run typecheck` checks them), the same
// transform tsx applies in the tests, so both run the same code. Skipped when dist/ is up to date:
// the same files, none modified since. A rebuild starts from an empty dist/, so a source deleted
// (a migration, say) leaves no compiled copy behind.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist');
const STAMP = path.join(OUT, '.sources.json');

/** The TypeScript files under `dir`, relative to the root, sorted. */
function sources(dir) {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)))
    .sort();
}

const files = [...sources('src'), ...sources('migrations')];
const state = JSON.stringify(files.map((file) => [file, fs.statSync(path.join(ROOT, file)).mtimeMs]));
const built = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8') : null;

if (built !== state) {
  const started = performance.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: files,
    outdir: OUT,
    outbase: '.',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  fs.writeFileSync(STAMP, state);
  console.log(`built ${files.length} files into dist/ in ${Math.round(performance.now() - started)} ms`);
}
