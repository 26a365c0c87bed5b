/**
 * Exact serialization of plain-data state (fold and factor state) to binary and to JSON, and a
 * content hash. Exact means bit-exact: NaN payloads aside, every float (including -0, NaN and
 * infinities), bigint and typed-array element round-trips, so a restored run continues identically.
 *
 * Supported values: undefined, null, boolean, number, bigint, string, arrays, plain objects, Map
 * and the numeric typed arrays. Anything else (functions, class instances, Date) is refused: state
 * must be plain data.
 */
import { SnapshotError } from './errors.ts';

const enum Tag {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  Number = 4,
  BigInt = 5,
  String = 6,
  Array = 7,
  Object = 8,
  Map = 9,
  Typed = 10,
}

const TYPED = [Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array, BigInt64Array, BigUint64Array] as const;
type Typed = InstanceType<(typeof TYPED)[number]>;

function typedIndex(v: unknown): number {
  for (let i = 0; i < TYPED.length; i++) if (v instanceof TYPED[i]) return i;
  return -1;
}

/** Shared (stateless) codecs: one per string cost more than encoding the string. */
const ENC = new TextEncoder();
const DEC = new TextDecoder();

/** Where the writer is in the state, for error messages only: built into text only on error. */
type PathStep = number | string | { get: unknown };

function pathText(steps: readonly PathStep[]): string {
  let p = '';
  for (const s of steps) p += typeof s === 'number' ? `[${s}]` : typeof s === 'string' ? `.${s}` : `.get(${String(s.get)})`;
  return p;
}

class Writer {
  buf = new Uint8Array(1024);
  /** The path to the value being written (a checkpoint runs on a live worker's hot path: no text per value). */
  readonly path: PathStep[] = [];
  view = new DataView(this.buf.buffer);
  len = 0;
  private need(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(x: number): void {
    this.need(1);
    this.buf[this.len++] = x;
  }
  u32(x: number): void {
    this.need(4);
    this.view.setUint32(this.len, x, true);
    this.len += 4;
  }
  f64(x: number): void {
    this.need(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.need(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encode straight into the buffer
    this.need(4 + 3 * s.length);
    const { written } = ENC.encodeInto(s, this.buf.subarray(this.len + 4));
    this.view.setUint32(this.len, written, true);
    this.len += 4 + written;
  }
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function write(w: Writer, v: unknown): void {
  switch (typeof v) {
    case 'undefined':
      return w.u8(Tag.Undefined);
    case 'boolean':
      return w.u8(v ? Tag.True : Tag.False);
    case 'number':
      w.u8(Tag.Number);
      return w.f64(v);
    case 'bigint':
      w.u8(Tag.BigInt);
      return w.str(v.toString());
    case 'string':
      w.u8(Tag.String);
      return w.str(v);
    case 'object': {
      if (v === null) return w.u8(Tag.Null);
      if (Array.isArray(v)) {
        w.u8(Tag.Array);
        w.u32(v.length);
        const path = w.path;
        const at = path.length;
        for (let i = 0; i < v.length; i++) {
          path[at] = i;
          write(w, v[i]);
        }
        path.length = at;
        return;
      }
      if (v instanceof Map) {
        w.u8(Tag.Map);
        w.u32(v.size);
        const path = w.path;
        const at = path.length;
        for (const [k, x] of v) {
          path[at] = 'key';
          write(w, k);
          path[at] = { get: k };
          write(w, x);
        }
        path.length = at;
        return;
      }
      const ti = typedIndex(v);
      if (ti >= 0) {
        const t = v as Typed;
        w.u8(Tag.Typed);
        w.u8(ti);
        return w.bytes(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
      }
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        w.u8(Tag.Object);
        w.u32(keys.length);
        const path = w.path;
        const at = path.length;
        for (const k of keys) {
          w.str(k);
          path[at] = k;
          write(w, (v as Record<string, unknown>)[k]);
        }
        path.length = at;
        return;
      }
    }
  }
  throw new SnapshotError(`${pathText(w.path) || 'state'} is not plain data (${Object.prototype.toString.call(v)})`);
}

/** Binary encoding of plain-data state. Equal states give equal bytes. */
export function encodeState(v: unknown): Uint8Array {
  const w = new Writer();
  w.u8(1); // format version
  write(w, v);
  return w.buf.slice(0, w.len);
}

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u8(): number {
    if (this.pos >= this.buf.length) throw new SnapshotError('truncated');
    return this.buf[this.pos++];
  }
  u32(): number {
    const x = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }
  f64(): number {
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.pos + n > this.buf.length) throw new SnapshotError('truncated');
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  str(): string {
    const n = this.u32();
    if (this.pos + n > this.buf.length) throw new SnapshotError('truncated');
    const s = DEC.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

function read(r: Reader): unknown {
  const tag = r.u8();
  switch (tag) {
    case Tag.Undefined:
      return undefined;
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Number:
      return r.f64();
    case Tag.BigInt:
      return BigInt(r.str());
    case Tag.String:
      return r.str();
    case Tag.Array: {
      const n = r.u32();
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = read(r);
      return a;
    }
    case Tag.Map: {
      const n = r.u32();
      const m = new Map();
      for (let i = 0; i < n; i++) {
        const k = read(r);
        m.set(k, read(r));
      }
      return m;
    }
    case Tag.Typed: {
      const Ctor = TYPED[r.u8()];
      if (!Ctor) throw new SnapshotError('unknown typed array');
      const b = r.bytes();
      return new Ctor(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
    case Tag.Object: {
      const n = r.u32();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = r.str();
        // defineProperty, not assignment: a key named "__proto__" must stay a key
        Object.defineProperty(o, k, { value: read(r), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
  throw new SnapshotError(`unknown tag ${tag} at byte ${r.pos - 1}`);
}

export function decodeState<T = unknown>(bytes: Uint8Array): T {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== 1) throw new SnapshotError(`unsupported format version ${version}`);
  const v = read(r);
  if (r.pos !== bytes.length) throw new SnapshotError(`${bytes.length - r.pos} trailing bytes`);
  return v as T;
}

/** A deep copy through the codec: what a restore from a checkpoint would give. */
export function cloneState<T>(v: T): T {
  return decodeState<T>(encodeState(v));
}

/** JSON form of the binary encoding (base64), for checkpoints stored as text. */
export function stateToJson(v: unknown): string {
  const b = encodeState(v);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return JSON.stringify({ lockstepState: 1, b64: btoa(s) });
}

export function stateFromJson<T = unknown>(json: string): T {
  const o = JSON.parse(json) as { lockstepState?: number; b64?: string };
  if (o.lockstepState !== 1 || typeof o.b64 !== 'string') throw new SnapshotError('not a lockstep state document');
  const s = atob(o.b64);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return decodeState<T>(b);
}

/** FNV-1a 64-bit over bytes, as 16 hex digits: a stable content hash with no dependencies. */
export function fnv1a64(bytes: Uint8Array): string {
  let h0 = 0x2325; // low 16 bits … high 16 bits of the 64-bit offset basis 0xcbf29ce484222325
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    // multiply by the FNV prime 0x100000001b3 in 16-bit limbs
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3;
    const t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    const c1 = t1 + (t0 >>> 16);
    const c2 = t2 + (c1 >>> 16);
    h0 = t0 & 0xffff;
    h1 = c1 & 0xffff;
    h2 = c2 & 0xffff;
    h3 = (t3 + (c2 >>> 16)) & 0xffff;
  }
  const hex = (x: number) => x.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}

export function hashState(v: unknown): string {
  return fnv1a64(encodeState(v));
}

export function hashString(s: string): string {
  return fnv1a64(new TextEncoder().encode(s));
}
