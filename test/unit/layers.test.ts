import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect } from 'chai';

const SRC = path.join(__dirname, '..', '..', 'src');

/**
 * The folders of src/, bottom first. A file may import its own layer and the layers below it, never
 * one above; the files in src/ itself (the entry points: app, server, cli, startup) are the top layer.
 * `plugin` is what a host mounts; `shell` is the standalone app's own part, which only the standalone
 * app (`src/app.ts`) assembles with the plugin.
 */
const LAYERS = ['lib', 'config', 'i18n', 'models', 'db', 'mail', 'domain', 'plugin', 'shell'] as const;
const TOP = LAYERS.length;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** The layer of a file under src/, by its first folder. */
function layerOf(file: string): number {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  if (rest.length === 0) return TOP;
  const layer = LAYERS.indexOf(first as (typeof LAYERS)[number]);
  if (layer === -1) throw new Error(`src/${first}/ is in no layer: add it to LAYERS in ${path.basename(__filename)}`);
  return layer;
}

function layerName(layer: number): string {
  return LAYERS[layer] ?? 'src/ (entry points)';
}

/** The file a relative import names, as Node with tsx resolves it; null when it is outside src/. */
function resolve(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  if (path.relative(SRC, base).startsWith('..')) return null;
  const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (!found) throw new Error(`${path.relative(SRC, from)}: cannot resolve ${specifier}`);
  return found;
}

/** Every relative import of a file (static, type-only, re-exports, dynamic import() and require()). */
function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.'));
}

describe('layers of src/', () => {
  it('should have no file import a layer above its own', () => {
    const files = sourceFiles(SRC);
    let imports = 0;
    const upward: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      for (const specifier of relativeImports(file)) {
        const target = resolve(file, specifier);
        if (!target) continue;
        imports += 1;
        const theirs = layerOf(target);
        if (theirs > own) upward.push(`src/${path.relative(SRC, file)} (${layerName(own)}) imports '${specifier}' (${layerName(theirs)})`);
      }
    }
    expect(files.length, 'source files read').to.be.greaterThan(50);
    expect(imports, 'relative imports read').to.be.greaterThan(100);
    expect(upward).to.deep.equal([]);
  });

  it('should let nothing outside the plugin reach past its entry point, src/plugin/index.ts', () => {
    const entry = path.join(SRC, 'plugin', 'index.ts');
    const inside = (file: string) => !path.relative(path.join(SRC, 'plugin'), file).startsWith('..');
    const past: string[] = [];
    for (const file of sourceFiles(SRC).filter((f) => !inside(f))) {
      for (const specifier of relativeImports(file)) {
        const target = resolve(file, specifier);
        if (target && inside(target) && target !== entry) past.push(`src/${path.relative(SRC, file)} imports '${specifier}'`);
      }
    }
    expect(past).to.deep.equal([]);
  });
});
