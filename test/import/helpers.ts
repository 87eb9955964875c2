// Builders of small (and deliberately broken) weights files for the import tests.
import { crc32 } from '../../src/model/import/zip.js';

/** A zip of STORED entries, like torch.save writes (without its 64-byte alignment padding). */
export function makeZip(entries: Array<[string, Uint8Array]>, opts: { badCrc?: string; method?: number } = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = opts.badCrc === name ? (crc32(data) ^ 1) >>> 0 : crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(opts.method ?? 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    parts.push(local, nameBytes, Buffer.from(data));
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(opts.method ?? 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(nameBytes.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, eocd]));
}

/** Protocol-2 pickle bytes from a list of pieces (strings are latin-1 opcodes/text, numbers raw bytes). */
export function pickleBytes(...pieces: Array<string | number[]>): Uint8Array {
  return new Uint8Array(Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))));
}

/** A safetensors file from a header object and a data area. */
export function makeSafetensors(header: unknown, data: Uint8Array, headerLenOverride?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, Buffer.from(data)]));
}
