import type { RequestHandler } from 'express';

/** Methods that change state; GET and HEAD never do here. */
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Fetch Metadata: a browser says when a request was started by another site. A state change from
 * there is refused even when it carries a valid CSRF token (a token leaked to another site is
 * worth nothing). Browsers that do not send the header still need the token. Its value is compared
 * without regard to case: whatever may mean cross-site is refused.
 */
export const refuseCrossSite: RequestHandler = (req, _res, next) => {
  if (UNSAFE.has(req.method) && req.get('Sec-Fetch-Site')?.toLowerCase() === 'cross-site') {
    return next(Object.assign(new Error('cross-site request refused'), { status: 403, code: 'CROSS_SITE' }));
  }
  next();
};
