/**
 * fastText's n-gram hash, bit for bit: 32-bit FNV-1a over the UTF-8 bytes of a string, where each
 * byte is XORed in as a *signed* char (`h ^ uint32_t(int8_t(c))`, fastText's dictionary.cc), so
 * bytes >= 0x80 are sign-extended and non-ASCII text hashes differently from textbook FNV-1a.
 * Hand-written because it is five lines and no npm FNV package reproduces that quirk; the
 * streaming form (`fnvString` continues a hash) lets n-gram hashes be built word by word without
 * making the joined string.
 */

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 16777619;

/** fastText's `Dictionary::hash(str)` as an unsigned 32-bit number. */
export function fastTextHash(s: string): number {
  return fnvString(FNV_OFFSET, s) >>> 0;
}

/** Continues an FNV-1a state (int32) with the UTF-8 bytes of `s`, fastText's signed-byte way. */
export function fnvString(h: number, s: string): number {
  return fnvSlice(h, s, 0, s.length);
}

/** fnvString over s[start, end) (UTF-16 units; a surrogate pair must not straddle `end`). */
export function fnvSlice(h: number, s: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
    }
    // Bytes >= 0x80 as sign-extended int8: 0xFFFFFF00 | b.
    if (c < 0x800) {
      h = Math.imul(h ^ (0xffffffc0 | (c >> 6)), FNV_PRIME);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xffffffe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0xffffff80 | ((c >> 6) & 63)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xfffffff0 | (c >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0xffffff80 | ((c >> 12) & 63)), FNV_PRIME);
      h = Math.imul(h ^ (0xffffff80 | ((c >> 6) & 63)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0xffffff80 | (c & 63)), FNV_PRIME);
  }
  return h;
}

/** Continues an FNV-1a state with one ASCII byte (the space between n-gram words). */
export function fnvByte(h: number, b: number): number {
  return Math.imul(h ^ b, FNV_PRIME);
}
