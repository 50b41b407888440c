// The token format, as keyward's `parse` (src/domain/token.rs) checks it, the declared legacy
// formats, and the bounds of `cost`. Pure functions: no request, no clock.

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN = 30;
const CHECK_LEN = 6;
const PREFIX = /^[a-z][a-z0-9]{1,9}$/;
const BASE62_RUN = /^[0-9A-Za-z]*$/;

/** What each legacy alphabet allows, as a pattern over the whole rest of the key. */
const ALPHABETS = {
  base62: /^[0-9A-Za-z]*$/,
  hex: /^[0-9A-Fa-f]*$/,
  base64url: /^[0-9A-Za-z_-]*$/,
};

let table;
/** CRC-32/ISO-HDLC (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) of ASCII `text`. */
function crc32(text) {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = table[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The six base62 check characters of `signed`: its CRC-32, most significant digit first, padded with `0`. */
export function checksum(signed) {
  let n = crc32(signed);
  let out = "";
  for (let i = 0; i < CHECK_LEN; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * Whether `token` is a keyward token: `<prefix>_<body><check>`, split at the first `_`, the
 * prefix 2–10 characters `[a-z][a-z0-9]+`, then exactly 36 base62 characters whose last six are
 * the checksum of everything before them.
 */
export function isKeywardToken(token) {
  if (typeof token !== "string") return false;
  const split = token.indexOf("_");
  if (split < 0) return false;
  const prefix = token.slice(0, split);
  const rest = token.slice(split + 1);
  if (!PREFIX.test(prefix) || rest.length !== BODY_LEN + CHECK_LEN || !BASE62_RUN.test(rest)) return false;
  const end = split + 1 + BODY_LEN;
  return checksum(token.slice(0, end)) === token.slice(end);
}

/** The bounds keyward puts on `LEGACY_KEY_FORMATS` (src/domain/legacy.rs). */
const MIN_BODY = 16;
const MAX_BODY = 512;
const MAX_PREFIX = 32;
const MAX_FORMATS = 16;
const PRINTABLE = /^[\x21-\x7e]+$/;
const FIELDS = ["prefix", "min", "max", "alphabet"];

/**
 * Check `formats` as keyward checks its `LEGACY_KEY_FORMATS` (so its value can be copied here
 * as it is) and answer a frozen copy; throws a TypeError naming the first thing wrong.
 */
export function legacyFormatsOf(formats) {
  if (formats === undefined || formats === null) return Object.freeze([]);
  if (!Array.isArray(formats)) throw new TypeError("legacyFormats must be an array of {prefix, min, max, alphabet}");
  if (formats.length > MAX_FORMATS) throw new TypeError(`legacyFormats: at most ${MAX_FORMATS} formats`);
  return Object.freeze(
    formats.map((f, i) => {
      const at = `legacyFormats[${i}]`;
      if (f === null || typeof f !== "object" || Array.isArray(f)) throw new TypeError(`${at} must be an object`);
      const unknown = Object.keys(f).find((k) => !FIELDS.includes(k));
      if (unknown !== undefined) throw new TypeError(`${at} has an unknown field ${JSON.stringify(unknown)}`);
      const { prefix, min, max, alphabet } = f;
      if (typeof prefix !== "string" || prefix.length > MAX_PREFIX || !PRINTABLE.test(prefix)) {
        throw new TypeError(`${at}.prefix must be 1-${MAX_PREFIX} printable ASCII characters without spaces`);
      }
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < MIN_BODY || max > MAX_BODY || min > max) {
        throw new TypeError(`${at}: min and max must be integers with ${MIN_BODY} <= min <= max <= ${MAX_BODY}`);
      }
      if (!Object.hasOwn(ALPHABETS, alphabet)) throw new TypeError(`${at}.alphabet must be base62, hex or base64url`);
      return Object.freeze({ prefix, min, max, alphabet });
    }),
  );
}

/** Whether `token` is one of the (checked) legacy `formats`: the prefix, then min–max characters of the alphabet. */
export function isLegacyKey(token, formats) {
  if (typeof token !== "string") return false;
  return formats.some(({ prefix, min, max, alphabet }) => {
    if (!token.startsWith(prefix)) return false;
    const rest = token.slice(prefix.length);
    return rest.length >= min && rest.length <= max && ALPHABETS[alphabet].test(rest);
  });
}

/** The most credits one verification may spend (keyward answers 400 to more). */
const MAX_COST = 1000;

/** `cost` if keyward takes it (a whole number of credits from 0 to 1000), else a TypeError. */
export function checkedCost(cost) {
  if (!Number.isInteger(cost) || cost < 0 || cost > MAX_COST) {
    throw new TypeError(`cost must be a whole number from 0 to ${MAX_COST}`);
  }
  return cost;
}
