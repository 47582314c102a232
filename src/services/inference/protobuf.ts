// The protobuf wire format, by hand: varint (0), 64-bit (1), length-delimited (2), 32-bit (5). Reading an ONNX
// model's few fields (tree-walk.ts) and re-encoding a graph's node and output names (onnx-merge.ts) need no
// more than this, which is cheaper to own than protobufjs plus the onnx.proto schema in the Worker bundle.

export class ProtoReader {
  private pos: number;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** Where the next field starts: with bytesOf, the exact encoding of a field that is copied unchanged. */
  get offset(): number {
    return this.pos;
  }

  /** Varints up to 2^53 are exact; ONNX ids, counts and flags are far below that. Negative int64 come out as two's complement and are fixed by the caller. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  }

  tag(): { field: number; wire: number } {
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  /** The sub-range of a length-delimited field. */
  lengthDelimited(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
    return [start, this.pos];
  }

  float32(): number {
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.lengthDelimited();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
  }

  sub([start, end]: [number, number]): ProtoReader {
    return new ProtoReader(this.bytes, start, end);
  }

  text([start, end]: [number, number]): string {
    return new TextDecoder().decode(this.bytes.subarray(start, end));
  }

  /** A view (not a copy) of the underlying bytes. */
  bytesOf([start, end]: [number, number]): Uint8Array {
    return this.bytes.subarray(start, end);
  }
}

/** Builds one message as a list of chunks; large unchanged fields are appended as views, not copied twice. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  private varint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`protobuf: cannot encode ${n} as a varint`);
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return this.push(Uint8Array.from(out));
  }

  /** A varint field (wire type 0). */
  uint(field: number, value: number): this {
    return this.varint(field * 8).varint(value);
  }

  /** A length-delimited field (wire type 2) holding these bytes: a nested message or a string's UTF-8. */
  bytes(field: number, value: Uint8Array): this {
    return this.varint(field * 8 + 2).varint(value.length).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** Already-encoded fields (tag included), appended verbatim. */
  raw(encoded: Uint8Array): this {
    return this.push(encoded);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
