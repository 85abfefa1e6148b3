// Runs before `npm start` and `npm test`: on a fresh clone, installs the locked dependencies first (plain
// JavaScript, so it runs on whatever Node started npm, before Node 22 arrives from the registry).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!existsSync(join(root, 'node_modules', 'tsx')) || !existsSync(join(root, 'node_modules', 'vitest'))) {
  console.error('setup: installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
