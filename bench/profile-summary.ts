/**
 * Summarises a V8 CPU profile (from `npm run bench -- --profile DIR`, or any `node --cpu-prof`):
 * self time by package / Herald source file, and the hottest functions.
 * Run: `node --import tsx bench/profile-summary.ts DIR/sqlite.cpuprofile [top=25]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

/** Self time per node id, in µs. */
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const sampled = [...self.values()].reduce((sum, us) => sum + us, 0);
const idleIds = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
const idle = [...self].filter(([id]) => idleIds.has(id)).reduce((sum, [, us]) => sum + us, 0);
/** Shares are of the time the process was busy (idle excluded). */
const total = sampled - idle;

function area(url: string, name: string): string {
  if (url === '') return name === '(garbage collector)' || name === '(idle)' || name === '(program)' ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const herald = /\/dist\/(.+)$/.exec(url);
  if (herald?.[1]) return `herald: ${herald[1]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of self) {
  const node = byId.get(id);
  if (!node || idleIds.has(id)) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = area(url, functionName);
  byArea.set(key, (byArea.get(key) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'}  ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}

const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(sampled / 1e6).toFixed(1)} s sampled, ${(total / 1e6).toFixed(1)} s busy; shares below are of the busy time\n\nself time by area:`,
);
for (const [key, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${key}`);
console.log('\nhottest functions (self time):');
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${key}`);
