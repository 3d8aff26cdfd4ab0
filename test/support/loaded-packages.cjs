/**
 * Preloaded (`node --require`) by test/integration/build.test.ts: as the process exits, writes the
 * names of the packages it has required (`require.cache`) to LOADED_PACKAGES_FILE, a JSON array.
 */
const fs = require('node:fs');

process.once('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    if (name) names.add(name);
  }
  fs.writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify([...names].sort()));
});
