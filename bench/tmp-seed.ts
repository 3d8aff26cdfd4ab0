import bcrypt from 'bcrypt';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { freshDatabase } from './lib/databases';
import { seed } from './lib/seed';
(async () => {
  const { url } = await freshDatabase('sqlite');
  const db = await openDatabase(url);
  const seeded = await seed(db, loadConfig({ DATABASE_URL: url, SESSION_SECRET: 'abcdefghijklmnopqrstuvwxyz0123456789ABCD', NODE_ENV: 'production', DATA_DIR: '/tmp', SMTP_URL: 'smtp://127.0.0.1:1', BASE_URL: 'http://127.0.0.1:1' } as any), { sizes: [10000], others: 0, links: 0, hash: await bcrypt.hash('x', 4) });
  await db.close();
  console.log(url, [...seeded.owners.entries()]);
})();
