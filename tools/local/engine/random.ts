/**
 * A seeded pseudo-random generator (sfc32): the simulator's only source of randomness, so that one seed gives
 * one run, byte for byte. Independent streams (`fork`) keep concerns apart: adding a fault to a scenario does
 * not shift the ids or arrival times that the workload draws.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private readonly seed: string;

  constructor(seed: number | string) {
    this.seed = String(seed);
    const [a, b, c, d] = seedWords(this.seed);
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    // Warm up: the first outputs of sfc32 are correlated with the seed.
    for (let i = 0; i < 15; i += 1) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `count` distinct indexes from [0, size), in ascending order. */
  sample(size: number, count: number): number[] {
    const chosen = new Set<number>();
    const wanted = Math.min(count, size);
    while (chosen.size < wanted) chosen.add(Math.floor(this.next() * size));
    return [...chosen].sort((x, y) => x - y);
  }

  /**
   * `length` hex digits: each draw gives 8 (its 32 bits, most significant first). Built from a byte table: the
   * simulator draws several ids per invocation, and `toString(16)` with `padStart` was among its hottest lines.
   */
  hex(length: number): string {
    let out = '';
    for (let digits = 0; digits < length; digits += 8) {
      // The draw's 32 bits: next() is t / 2^32 for an unsigned 32-bit t, so this is exactly t.
      const word = this.next() * 0x100000000;
      out +=
        HEX_BYTES[word >>> 24] +
        HEX_BYTES[(word >>> 16) & 0xff] +
        HEX_BYTES[(word >>> 8) & 0xff] +
        HEX_BYTES[word & 0xff];
    }
    return out.length === length ? out : out.slice(0, length);
  }

  /** A version-4-shaped UUID (deterministic). */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** An independent stream derived from this generator's seed and a label (not from its draws so far). */
  fork(label: string): Random {
    return new Random(`${this.seed}/${label}`);
  }
}

/** '00' … 'ff'. */
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Four 32-bit words from a string (cyrb128). */
function seedWords(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i += 1) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}
