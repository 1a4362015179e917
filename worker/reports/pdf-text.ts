/**
 * The PDF uses the standard Helvetica fonts, which encode only WinAnsi (Windows-1252). Rather
 * than embed a Unicode font (a large bundle and a slower Worker start), text is brought into
 * WinAnsi: punctuation gets an ASCII stand-in, Cyrillic is transliterated (account and host names
 * are often Russian), accents off other Latin letters are dropped, and anything left becomes "?".
 * The report page and JSON keep the exact text.
 */

/** Windows-1252's characters above Latin-1's control range (0x80–0x9F). */
const CP1252_EXTRAS = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";

function encodable(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code >= 0xa0 && code <= 0xff) return true;
  return CP1252_EXTRAS.includes(char);
}

const STAND_INS: Record<string, string> = {
  "\u2212": "-",
  "\u2010": "-",
  "\u2011": "-",
  "\u2192": "->",
  "\u2190": "<-",
  "\u2264": "<=",
  "\u2265": ">=",
  "\u2260": "!=",
  "\u2248": "~",
  "\u2022": "•",
  "\u00a0": " ",
  "\u2009": " ",
  "\u202f": " ",
  "\u200b": "",
  "\ufeff": "",
};

const CYRILLIC: Record<string, string> = {
  а: "a",
  б: "b",
  в: "v",
  г: "g",
  д: "d",
  е: "e",
  ё: "yo",
  ж: "zh",
  з: "z",
  и: "i",
  й: "y",
  к: "k",
  л: "l",
  м: "m",
  н: "n",
  о: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ф: "f",
  х: "kh",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "shch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
  і: "i",
  ї: "yi",
  є: "ye",
  ґ: "g",
};

function transliterate(char: string): string | null {
  const lower = char.toLowerCase();
  const latin = CYRILLIC[lower];
  if (latin === undefined) return null;
  if (lower === char || latin === "") return latin;
  return latin.charAt(0).toUpperCase() + latin.slice(1);
}

/** Text the standard PDF fonts can draw; line breaks and tabs become spaces. */
export function toWinAnsi(input: string): string {
  let out = "";
  for (const char of input.normalize("NFC")) {
    if (char === "\n" || char === "\r" || char === "\t") {
      out += " ";
    } else if (encodable(char)) {
      out += char;
    } else if (char in STAND_INS) {
      out += STAND_INS[char];
    } else {
      const latin = transliterate(char);
      if (latin !== null) {
        out += latin;
        continue;
      }
      const stripped = char.normalize("NFKD").replace(/\p{M}/gu, "");
      out += [...stripped].every(encodable) && stripped.length > 0 ? stripped : "?";
    }
  }
  return out;
}
