/**
 * Memory of a child process tree, polled from /proc (Linux): per process the last VmHWM (peak
 * RSS, kept by the kernel, so a 100 ms poll misses nothing but the last interval) and the peak
 * of RssAnon (heap and other private memory, without memory-mapped files such as the HNSW
 * graph, which the page cache shares between processes), each also split by a caller-given
 * phase (e.g. "synth" once the index stage is done), with the CPU seconds used in each phase
 * (from one sample to the next, so a phase's CPU is exact to within one poll interval).
 */
import { readdirSync, readFileSync } from 'node:fs';

const FIELDS = ['VmHWM', 'VmRSS', 'RssAnon', 'RssFile'];

/** kB values of FIELDS in /proc/<pid>/status, or undefined when the process is gone. */
export function procMemory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out = {};
  for (const f of FIELDS) out[f] = Number(text.match(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return out;
}

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux we run on

/** CPU seconds (user + system) that `pid` has used so far, or undefined when it is gone. */
export function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants now running. */
export function processTree(pid) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  for (const stack = [pid]; stack.length;) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

function label(pid) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const script = argv.find((a) => /\.(c|m)?js$/.test(a));
    return script ? script.split('/').slice(-2).join('/') : argv[0];
  } catch {
    return '?';
  }
}

/**
 * Starts polling the tree under `rootPid` every `everyMs`; `phase()` names the phase of each
 * sample. `stop()` returns per process { pid, label, hwmKB, anonKB, cpuSeconds, byPhase: { phase: { rssKB, anonKB, cpuSeconds } } }.
 */
export function watchTree(rootPid, { everyMs = 100, phase = () => 'all' } = {}) {
  const procs = new Map();
  const sample = () => {
    const ph = phase();
    for (const pid of processTree(rootPid)) {
      const m = procMemory(pid);
      if (!m) continue;
      let p = procs.get(pid);
      if (!p) procs.set(pid, (p = { pid, label: label(pid), hwmKB: 0, anonKB: 0, cpuSeconds: 0, byPhase: {} }));
      p.hwmKB = Math.max(p.hwmKB, m.VmHWM);
      p.anonKB = Math.max(p.anonKB, m.RssAnon);
      const b = (p.byPhase[ph] ??= { rssKB: 0, anonKB: 0, cpuSeconds: 0 });
      b.rssKB = Math.max(b.rssKB, m.VmRSS);
      b.anonKB = Math.max(b.anonKB, m.RssAnon);
      const cpu = procCpuSeconds(pid);
      if (cpu !== undefined) {
        b.cpuSeconds += cpu - (p.cpuSeconds ?? 0);
        p.cpuSeconds = cpu;
      }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return [...procs.values()];
    },
  };
}
