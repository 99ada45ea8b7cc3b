/**
 * Reads a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile DIR`) and prints
 * where the time went: self time summed by function and by file (node_modules by package).
 *
 *   node --import tsx bench/profile-summary.ts /tmp/prof/CPU.….cpuprofile [top=30]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]')
const top = Number(topArg ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
profile.samples.forEach((id, i) => { selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })

function where (url: string): string {
  if (url === '') return '(native/V8)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg?.[1] !== undefined) return `pkg ${pkg[1]}`
  if (url.startsWith('node:')) return url
  const src = /\/(src|dist|bench)\/(.*)$/.exec(url)
  return src === null ? url : `${src[1]}/${src[2]}`
}

const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
let total = 0
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (node === undefined) continue
  total += us
  const f = where(node.callFrame.url)
  const fn = `${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName}  ${f}:${node.callFrame.lineNumber + 1}`
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  byFile.set(f, (byFile.get(f) ?? 0) + us)
}

function print (title: string, map: Map<string, number>): void {
  console.log(`\n${title}`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
  }
}
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`)
print('self time by file / package', byFile)
print('self time by function', byFunction)
