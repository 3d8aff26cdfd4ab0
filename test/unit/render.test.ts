import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { pages, Slots, type LayoutPage } from '../../src/plugin/render';

/** 60,000 characters, one above U+00FF: as a string it would take two bytes each (see Html in render.ts). */
const LIST = `<ul>${'<li>Giulia D’Amico ⋮</li>'.repeat(2_400)}</ul>`;

describe('HTML sent as pieces', () => {
  it('should place each piece where its marker is, in order, and nothing else', () => {
    const slots = new Slots();
    const first = slots.place(Buffer.from('<b>è</b>'));
    const second = slots.place('<i>▲</i>');
    const pieces = slots.fill(`<p>${second}·${first}</p>`);
    expect(Buffer.concat(pieces).toString()).to.equal('<p><i>▲</i>·<b>è</b></p>');
  });

  it('should refuse output where a piece was escaped, dropped or placed twice', () => {
    const escaped = new Slots();
    const marker = escaped.place('<b>x</b>');
    expect(() => escaped.fill(marker.replace('<', '&lt;'))).to.throw(/not placed as it is/);
    const doubled = new Slots();
    const twice = doubled.place('<b>x</b>');
    expect(() => doubled.fill(twice + twice)).to.throw(/placed twice/);
    expect(() => new Slots().fill('<!--pec-slot guessed 0-->')).to.not.throw();
  });

  it('should send a page around a list as its UTF-8 bytes, with their length, in a layout function', async () => {
    let placed: LayoutPage | undefined;
    const layout = (page: LayoutPage) => {
      placed = page;
      return `<!doctype html><title>${page.title}</title>${page.head}<main>${page.body}</main>`;
    };
    const site = pages(layout, () => '<meta name="x">', { cache: false });
    const app = express();
    app.get('/', async (req, res) => {
      res.locals.csrfToken = 'token';
      await site.render(req, res, { page: 'plugin/collaborations/_updates' }, { rowHtml: null, notice: 'Fatto', listHtml: Buffer.from(LIST) });
    });
    const answer = await request(app).get('/');
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.text).to.include(LIST);
    expect(Number(answer.headers['content-length'])).to.equal(Buffer.byteLength(answer.text));
    // The layout saw a marker, not the list: the page around it stays a small string.
    expect(placed?.body).to.not.include('Giulia');
  });

  it('should not finish sending a page in pieces before the session it changed is saved', async () => {
    let saved = false;
    class SlowStore extends session.MemoryStore {
      override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
        setTimeout(() => super.set(sid, data, (err?: unknown) => ((saved = true), callback?.(err))), 150);
      }
    }
    const site = pages(() => '', () => '', { cache: false });
    const app = express();
    app.use(session({ secret: 'test', resave: false, saveUninitialized: false, store: new SlowStore() }));
    app.get('/', (req, res) => {
      (req.session as unknown as Record<string, unknown>).chosen = 'it';
      site.fragment(res, [Buffer.from('<p>one</p>'), Buffer.from(LIST), Buffer.from('<p>three</p>')]);
    });
    const answer = await request(app).get('/');
    expect(answer.text.endsWith('<p>three</p>')).to.equal(true);
    expect(saved, 'the session was saved before the last byte').to.equal(true);
  });
});
