import { Slots } from './slots.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Slots', () => {
  test('at most size holders; waiting requests are served in order', async () => {
    const slots = new Slots(2);
    const got: number[] = [];
    await slots.acquire();
    await slots.acquire();
    const waiting = [3, 4, 5].map((n) => slots.acquire().then(() => got.push(n)));
    await tick();
    expect(got).toEqual([]);
    slots.release();
    await tick();
    expect(got).toEqual([3]);
    slots.release();
    slots.release();
    await Promise.all(waiting);
    expect(got).toEqual([3, 4, 5]);
    // 4 and 5 hold the two slots; once both give back, two are free again, not three
    slots.release();
    slots.release();
    await slots.acquire();
    await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await tick();
    expect(third).toBe(false);
  });

  test('a size below 1 is refused', () => {
    expect(() => new Slots(0)).toThrow(RangeError);
    expect(() => new Slots(1.5)).toThrow(RangeError);
  });
});
