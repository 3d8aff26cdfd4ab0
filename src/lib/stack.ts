import fs from 'node:fs';
import path from 'node:path';
import { SourceMap } from 'node:module';

/**
 * The compiled tree (dist/, see scripts/build.mjs) when this runs compiled; null under tsx, whose
 * stacks already name the .ts lines.
 */
const COMPILED = __filename.endsWith('.js') ? path.resolve(__dirname, '..', '..') : null;

/** `/abs/file.js:line:column` in a stack frame. */
const FRAME = /(\/[^\s():]+\.js):(\d+):(\d+)/g;

const maps = new Map<string, SourceMap | null>();

function sourceMapOf(file: string): SourceMap | null {
  if (!maps.has(file)) {
    let map: SourceMap | null = null;
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      // No map beside the file: its frame stays as it is.
    }
    maps.set(file, map);
  }
  return maps.get(file) ?? null;
}

/**
 * A stack (text) whose frames in the compiled app point back at the TypeScript lines, from the
 * .js.map files beside them. Mapped here, when an error is reported, rather than by Node's
 * --enable-source-maps, which maps every stack any code formats and keeps every module's map in
 * memory (measured: 30 µs more per one-row query while Sequelize's SQLite dialect formatted a
 * stack per query, before src/db/connection.ts built those without frames).
 */
export function sourceMapped(stack: string): string {
  if (!COMPILED) return stack;
  return stack.replace(FRAME, (frame: string, file: string, line: string, column: string) => {
    if (!file.startsWith(`${COMPILED}${path.sep}`) || file.includes(`${path.sep}node_modules${path.sep}`)) return frame;
    const entry = sourceMapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return frame;
    return `${path.resolve(path.dirname(file), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
