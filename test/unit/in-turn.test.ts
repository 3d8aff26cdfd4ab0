import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { expect } from 'chai';
import { inTurn } from '../../src/plugin/middleware/in-turn';

/** A step that goes on from a later turn of the event loop: what follows is no longer under the Router's own try. */
const later: RequestHandler = (_req, _res, next) => void setImmediate(next);

/** An app whose one layer is `steps` in turn, then a route answering which steps ran, and an error page. */
function appWith(steps: RequestHandler[]) {
  const app = express();
  const ran: string[] = [];
  const mark = (name: string): RequestHandler => (_req, _res, next) => {
    ran.push(name);
    next();
  };
  const part = Router().use(inTurn([mark('first'), ...steps, mark('last')]), (_req, res) => res.json({ ran, answeredBy: 'part' }));
  app.use(part);
  app.get('/', (_req, res) => res.json({ ran, answeredBy: 'app' }));
  const errors: ErrorRequestHandler = (err: Error, _req, res, _next) => res.status(500).json({ ran, error: err.message });
  app.use(errors);
  return app;
}

describe('inTurn', () => {
  it('should run every step in order, then go on past itself', async () => {
    const res = await request(appWith([])).get('/');
    expect(res.body).to.deep.equal({ ran: ['first', 'last'], answeredBy: 'part' });
  });

  it('should wait for a step that calls next later', async () => {
    const res = await request(appWith([later])).get('/');
    expect(res.body).to.deep.equal({ ran: ['first', 'last'], answeredBy: 'part' });
  });

  for (const [how, step] of [
    ['passed to next', (_req, _res, next) => next(new Error('boom'))],
    ['thrown', () => {
      throw new Error('boom');
    }],
    ['rejected', async () => {
      await Promise.resolve();
      throw new Error('boom');
    }],
  ] as Array<[string, RequestHandler]>) {
    it(`should skip the rest and reach the error handlers with an error ${how}`, async () => {
      const res = await request(appWith([later, step])).get('/');
      expect(res.status).to.equal(500);
      expect(res.body).to.deep.equal({ ran: ['first'], error: 'boom' });
    });
  }

  it("should leave the Router it is a layer of on next('router'), as any of its layers would", async () => {
    const leave: RequestHandler = (_req, _res, next) => next('router');
    const res = await request(appWith([leave])).get('/');
    expect(res.body).to.deep.equal({ ran: ['first'], answeredBy: 'app' });
  });

  it('should let a step answer and run nothing after it', async () => {
    const answer: RequestHandler = (_req, res) => void res.json({ answeredBy: 'step' });
    const res = await request(appWith([answer])).get('/');
    expect(res.body).to.deep.equal({ answeredBy: 'step' });
  });
});
