/**
 * `load()` run at the first call of the function returned, its result kept for every later call. For
 * a package that most requests never touch (WebAuthn, OIDC, TOTP, the breached-password list):
 * required at its first use, it takes no memory in a process that never needs it (issue 17, RSS).
 */
export function whenUsed<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return () => {
    loaded ??= { value: load() };
    return loaded.value;
  };
}
