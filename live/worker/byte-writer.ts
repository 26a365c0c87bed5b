/**
 * A growable byte buffer that the worker writes its output rows and commit calls into directly:
 * text is copied character by character (ASCII) or UTF-8-encoded into it, integers are written as
 * their decimal digits, so no intermediate JS string is made per row or per argument. Profiled
 * draining a backlog, the strings the worker built per row (the row, its values joined, then all
 * rows joined and the whole call as one string, encoded again on the socket write) were ~20% of
 * its CPU and most of what its garbage collector (another ~15%) collected.
 *
 * The bytes are exactly what `Buffer.from(text)` gives for the same text (UTF-8), so what Redis
 * receives does not change.
 */

/** A short string's characters are copied one by one; a long one by Buffer's native encoder. */
const SHORT = 64;

type Writer = (this: Buffer, s: string, offset: number) => number;
/** Buffer's own UTF-8 encoder without `write`'s argument juggling. */
const utf8Write = (Buffer.prototype as unknown as { utf8Write: Writer }).utf8Write;

export class ByteWriter {
  buf: Buffer;
  len = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** Forgets what was written; shrinks back when a burst made the buffer large. */
  reset(): void {
    this.len = 0;
    if (this.buf.length > 4 << 20) this.buf = Buffer.allocUnsafe(64 * 1024);
  }

  byte(c: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = c;
  }

  /** `s` as UTF-8. */
  str(s: string): void {
    const n = s.length;
    if (n > SHORT) return this.long(s);
    this.ensure(n);
    const buf = this.buf;
    let pos = this.len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return this.long(s); // not ASCII: the native encoder, from the start
      buf[pos++] = c;
    }
    this.len = pos;
  }

  private long(s: string): void {
    this.ensure(s.length * 3);
    this.len += utf8Write.call(this.buf, s, this.len);
  }

  /** The decimal digits of an integer (`String(n)` for |n| ≤ 2^53). */
  int(n: number): void {
    if (n < 0) {
      this.byte(0x2d);
      n = -n;
    }
    if (n < 10) return this.byte(48 + n);
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    this.ensure(digits);
    const buf = this.buf;
    let pos = this.len + digits;
    this.len = pos;
    // n ≤ 2^53: n % 10 and (n - d) / 10 are exact in float64
    while (n >= 10) {
      const d = n % 10;
      buf[--pos] = 48 + d;
      n = (n - d) / 10;
    }
    buf[--pos] = 48 + n;
  }

  /** The decimal digits of a bigint (`String(b)`). */
  bigint(b: bigint): void {
    const n = Number(b);
    if (Number.isSafeInteger(n)) this.int(n);
    else this.str(b.toString());
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n <= SHORT) {
      const buf = this.buf;
      let pos = this.len;
      for (let i = start; i < end; i++) buf[pos++] = src[i];
      this.len = pos;
      return;
    }
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  /** The bytes written, as a new Buffer of their own. */
  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }
}

/** UTF-8 length of `s` (its length when it is ASCII, without encoding it). */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT) return Buffer.byteLength(s);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return n;
}

/** RESP bulk strings written into a ByteWriter (`$<length>\r\n<bytes>\r\n`). */
export class RespWriter extends ByteWriter {
  /** Bulk strings written since the last reset. */
  count = 0;

  override reset(): void {
    super.reset();
    this.count = 0;
  }

  private head(n: number): void {
    this.byte(0x24);
    this.int(n);
    this.crlf();
  }

  crlf(): void {
    this.ensure(2);
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  bulkStr(s: string): void {
    this.head(utf8Length(s));
    this.str(s);
    this.crlf();
    this.count++;
  }

  bulkInt(n: number): void {
    this.head(n < 0 ? 1 + digitCount(-n) : digitCount(n));
    this.int(n);
    this.crlf();
    this.count++;
  }

  bulkBytes(b: Uint8Array, start = 0, end = b.length): void {
    this.head(end - start);
    this.bytes(b, start, end);
    this.crlf();
    this.count++;
  }

  /** A bulk string's header alone, its `len` bytes written next by the caller, then `crlf()`. */
  bulkHead(len: number): void {
    this.head(len);
    this.count++;
  }

  /** Bulk strings encoded once beforehand (`encodeBulks`), `n` of them. */
  pre(b: Uint8Array, n: number): void {
    this.bytes(b);
    this.count += n;
  }
}

/** How many decimal digits a non-negative integer has. */
export function digitCount(n: number): number {
  let d = 1;
  for (; n >= 10; n = Math.floor(n / 10)) d++;
  return d;
}

/** Strings as consecutive RESP bulk strings, encoded once (constant arguments). */
export function encodeBulks(xs: readonly string[]): Buffer {
  const w = new RespWriter(256);
  for (const x of xs) w.bulkStr(x);
  return w.copy();
}
