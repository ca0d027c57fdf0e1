import { Watchdog } from './watchdog.js';

describe('Watchdog', () => {
  test('a shard far beyond 5 × p99 of the done shards is reported once, with its id and time', () => {
    const w = new Watchdog({ floorMs: 1000 });
    for (let i = 0; i < 100; i++) w.addDone(i < 99 ? 1 : 2); // p99 = 1 s (nearest rank)
    expect(w.p99()).toBe(1);
    expect(w.thresholdMs()).toBe(5000);
    const now = 1_000_000;
    const a = w.check([{ id: 's-7', since: now - 6000 }, { id: 's-8', since: now - 4000 }], now);
    expect(a.overdue).toBe(1);
    expect(a.lines).toEqual([expect.stringMatching(/^watchdog: shard s-7 in progress for 6 s \(p99 of finished shards 1\.0 s\)/)]);
    const b = w.check([{ id: 's-7', since: now - 6000 }], now + 1000);
    expect(b).toEqual({ overdue: 1, lines: [] });
  });

  test('tiny runs do not warn: the floor holds when shards take milliseconds', () => {
    const w = new Watchdog();
    w.addDone(0.01);
    expect(w.thresholdMs()).toBe(60_000);
    expect(w.check([{ id: 'x', since: 0 }], 59_000).overdue).toBe(0);
    expect(w.check([{ id: 'x', since: 0 }], 61_000).overdue).toBe(1);
  });

  test('before any shard is done it waits much longer, then still says so', () => {
    const w = new Watchdog({ floorMs: 1000, unknownMs: 10_000 });
    expect(w.check([{ id: 'index', since: 0 }], 9000).overdue).toBe(0);
    expect(w.check([{ id: 'index', since: 0 }], 11_000).lines[0]).toMatch(/shard index in progress for 11 s \(no shard of this stage has finished yet\)/);
  });
});
