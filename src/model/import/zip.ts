// A minimal, strict zip reader for PyTorch checkpoints and Keras 3 .keras archives. Both write zips of
// STORED (uncompressed) entries (torch.save 64-byte aligned, sometimes in ZIP64 form); that is all this reads. Every offset and size is
// checked against the buffer before it is used, entries may not overlap one another or the central
// directory, and each entry's CRC-32 is verified, so a truncated or tampered file gives a clear error
// instead of garbage weights. Entries are views into the caller's buffer: nothing is copied.
import { UserError } from '../../util/errors.js';

export interface ZipEntry {
  name: string;
  /** The entry's bytes (a view into the archive buffer). */
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** More entries than any checkpoint has (one per tensor storage); bounds the work a hostile file can ask for. */
const MAX_ENTRIES = 1_000_000;

/** True when the bytes start like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads every entry of a zip archive held in memory; throws a UserError naming `source` on anything unexpected. */
export function readZip(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const fail = (what: string): never => {
    throw new UserError(`${source}: not a readable zip archive: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.byteLength;
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a 64-bit size or offset at byte ${at} is too large`);
    return Number(v);
  };
  const need = (at: number, len: number, what: string) => {
    if (!(at >= 0 && len >= 0 && at + len <= size))
      fail(`${what} (bytes ${at}..${at + len}) lies beyond the end of the file (${size} bytes); the file is truncated or corrupt`);
  };

  // The end-of-central-directory record is in the last 22 + 65535 bytes; search backwards for its signature.
  if (size < EOCD_SIZE) fail(`only ${size} bytes`);
  let eocd = -1;
  for (let at = size - EOCD_SIZE; at >= Math.max(0, size - EOCD_SIZE - MAX_COMMENT); at--) {
    if (u32(at) === SIG_EOCD && at + EOCD_SIZE + u16(at + 20) === size) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (the file is truncated, or not a zip)');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('multi-disk archives are not supported');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  let cdEnd = eocd; // where the central directory must end (the EOCD, or the ZIP64 EOCD before it)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: a locator just before the EOCD points at the ZIP64 end record.
    const loc = eocd - 20;
    need(loc, 20, 'the ZIP64 end-of-central-directory locator');
    if (u32(loc) !== SIG_EOCD64_LOCATOR) fail('the ZIP64 end-of-central-directory locator is missing');
    const rec = u64(loc + 8);
    need(rec, 56, 'the ZIP64 end-of-central-directory record');
    if (u32(rec) !== SIG_EOCD64) fail('the ZIP64 end-of-central-directory record has a bad signature');
    if (rec + 56 > loc) fail('the ZIP64 end-of-central-directory record overlaps its locator');
    count = u64(rec + 32);
    cdSize = u64(rec + 40);
    cdOffset = u64(rec + 48);
    cdEnd = rec;
  }
  if (count > MAX_ENTRIES) fail(`${count} entries (at most ${MAX_ENTRIES} are supported)`);
  need(cdOffset, cdSize, 'the central directory');
  if (cdOffset + cdSize > cdEnd) fail('the central directory overlaps its end record');

  const entries = new Map<string, ZipEntry>();
  const spans: Array<[number, number, string]> = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    need(at, 46, `central directory entry ${i}`);
    if (at + 46 > cdOffset + cdSize) fail(`central directory entry ${i} runs past the directory`);
    if (u32(at) !== SIG_CENTRAL) fail(`central directory entry ${i} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compSize = u32(at + 20);
    let plainSize = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let localOffset = u32(at + 42);
    const next = at + 46 + nameLen + extraLen + commentLen;
    if (next > cdOffset + cdSize) fail(`central directory entry ${i} runs past the directory`);
    let name: string;
    try {
      name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    } catch {
      name = fail(`entry ${i} has a name that is not UTF-8`);
    }
    // ZIP64 extra field (id 1): the 64-bit values, in order, for each 32-bit field that is saturated.
    if (compSize === 0xffffffff || plainSize === 0xffffffff || localOffset === 0xffffffff) {
      let e = at + 46 + nameLen;
      const extraEnd = e + extraLen;
      let found = false;
      while (e + 4 <= extraEnd) {
        const id = u16(e);
        const len = u16(e + 2);
        if (e + 4 + len > extraEnd) fail(`entry ${name} has a malformed extra field`);
        if (id === 1) {
          let p = e + 4;
          const take = () => {
            if (p + 8 > e + 4 + len) fail(`entry ${name} has a short ZIP64 extra field`);
            const v = u64(p);
            p += 8;
            return v;
          };
          if (plainSize === 0xffffffff) plainSize = take();
          if (compSize === 0xffffffff) compSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
          found = true;
          break;
        }
        e += 4 + len;
      }
      if (!found) fail(`entry ${name} needs a ZIP64 extra field and has none`);
    }
    if (flags & 0x1) fail(`entry ${name} is encrypted`);
    if (method !== 0) {
      fail(
        `entry ${name} is compressed (method ${method}); only uncompressed (stored) entries, as torch.save and Keras model.save write them, are supported — save the file again with torch.save or model.save`,
      );
    }
    if (compSize !== plainSize) fail(`entry ${name} is stored but its sizes differ (${compSize} vs ${plainSize})`);
    if (entries.has(name)) fail(`entry ${name} appears twice`);

    // The local header repeats the name and has its own extra field (torch pads it to align the data).
    need(localOffset, 30, `the local header of ${name}`);
    if (u32(localOffset) !== SIG_LOCAL) fail(`the local header of ${name} has a bad signature`);
    if (u16(localOffset + 8) !== method) fail(`the local header of ${name} disagrees with the central directory`);
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    need(dataStart, compSize, `the data of ${name}`);
    if (dataStart + compSize > cdOffset) fail(`the data of ${name} overlaps the central directory`);
    const data = bytes.subarray(dataStart, dataStart + compSize);
    // A zero CRC means "not computed" (torch.save can skip it); anything else must match.
    if (crc !== 0 && crc32(data) !== crc) fail(`entry ${name} fails its CRC-32 check (the file is corrupt)`);
    spans.push([localOffset, dataStart + compSize, name]);
    entries.set(name, { name, data });
    at = next;
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`entries ${spans[i - 1][2]} and ${spans[i][2]} overlap`);
  }
  return entries;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(data: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const t = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
