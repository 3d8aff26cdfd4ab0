import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const VIEWS = path.join(__dirname, '..', '..', 'views');

function ejsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return ejsFiles(file);
    return entry.name.endsWith('.ejs') ? [file] : [];
  });
}

/** Words a person reads that are written in the template itself instead of coming from t(). */
function hardCodedText(source: string): string[] {
  const markup = source.replace(/<%[\s\S]*?%>/g, ' ');
  const attributes = [...markup.matchAll(/\b(?:aria-label|title|placeholder|alt)="([^"]*)"/g)].map((m) => m[1] as string);
  const text = markup.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[^>]*>/g, ' ').replace(/&[a-z]+;/g, ' ');
  return [...text.split(/\s+/), ...attributes].filter((word) => /\p{L}/u.test(word));
}

describe('views', () => {
  it('should take every human text from the translations', () => {
    const files = ejsFiles(VIEWS);
    expect(files).to.not.be.empty;
    const found = files.flatMap((file) => hardCodedText(fs.readFileSync(file, 'utf8')).map((word) => `${path.relative(VIEWS, file)}: ${word}`));
    expect(found).to.deep.equal([]);
  });
});
