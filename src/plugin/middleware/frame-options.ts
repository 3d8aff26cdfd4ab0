/**
 * The X-Frame-Options that says what the Content-Security-Policy already on the answer says about
 * frames (frame-ancestors), for browsers that know only the older header: a host's page policy and
 * ours never disagree. `'none'` is DENY and `'self'` alone SAMEORIGIN; other origins X-Frame-Options
 * cannot name, so it is left out and the CSP alone decides (browsers that know both follow the CSP).
 * No CSP, or none about frames: SAMEORIGIN, our default (a confirmation is one click: not in a
 * stranger's frame; a host webmail may show its settings in a frame of its own origin).
 */
export function frameOptionsFor(csp: string | undefined): 'DENY' | 'SAMEORIGIN' | undefined {
  const directive = (csp ?? '')
    .split(/[;,]/)
    .map((d) => d.trim().split(/\s+/))
    .find(([name]) => name?.toLowerCase() === 'frame-ancestors');
  if (!directive) return 'SAMEORIGIN';
  const sources = directive.slice(1).map((s) => s.toLowerCase());
  if (sources.length === 0 || sources.includes("'none'")) return 'DENY';
  if (sources.every((s) => s === "'self'")) return 'SAMEORIGIN';
  return undefined;
}
