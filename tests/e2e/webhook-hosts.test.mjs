// End-to-end: a webhook host is judged as fetch will read it. The URL Standard reads 127.1,
// 0x7f.0.0.1, 0177.0.0.1 and 2130706433 all as 127.0.0.1; workerd's own URL parser (a small
// Worker beside keyward, tests/e2e/workers/url-parser.mjs) says which address each URL reaches,
// and keyward, with WEBHOOK_ALLOW_INSECURE off, must refuse every URL that reaches an address off
// the public Internet, however it is spelled, and accept the public ones.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createOrg, start } from "./harness.mjs";

const WORKERS = [
  {
    name: "url-parser",
    modules: true,
    scriptPath: "tests/e2e/workers/url-parser.mjs",
    compatibilityDate: "2025-09-01",
  },
];

let w, parser, admin;
before(async () => {
  w = await start({ WEBHOOK_ALLOW_INSECURE: "false" }, { workers: WORKERS });
  parser = await w.mf.getWorker("url-parser");
  admin = (await createOrg(w.api, "Hosts")).secret;
});
after(async () => {
  await w.mf.dispose();
});

/** workerd's reading of each URL: its hostname, or null where the parser refuses the URL. */
async function hostnames(urls) {
  const res = await parser.fetch("http://url-parser/", { method: "POST", body: JSON.stringify(urls) });
  assert.equal(res.status, 200);
  const read = await res.json();
  assert.equal(read.length, urls.length);
  return read.map(({ url, request }, i) => {
    assert.equal(request, url, `new URL and new Request read ${urls[i]} alike`);
    return url;
  });
}

/** keyward's answer to setting the org's webhook to `url`. */
const put = (url) => w.api("PUT", "/v1/org/webhook", { token: admin, body: { url } });

const NOT_PUBLIC = /must point to a public host/;

/** Assert that keyward refused `url` (422) with a reason matching `why`. */
function assertRefused(r, url, why, note = "") {
  assert.equal(r.status, 422, `${url} must be refused${note}: ${r.text}`);
  assert.equal(r.body.code, "VALIDATION_FAILED", r.text);
  assert.match(r.body.errors.url, why, `${url}${note}`);
}

/** Assert that keyward set the webhook to `url` (201 the first time, 200 after). */
function assertAccepted(r, url, note = "") {
  assert.ok(r.status === 200 || r.status === 201, `${url} must be accepted${note}: ${r.status} ${r.text}`);
  assert.equal(r.body.webhook.url, url);
}

describe("webhook hosts are read as fetch reads them", () => {
  test("the review's URLs reach private addresses in workerd, and keyward refuses each", async () => {
    const review = [
      ["https://127.1/", "127.0.0.1"],
      ["https://0x7f.0.0.1/", "127.0.0.1"],
      ["https://0177.0.0.1/", "127.0.0.1"],
      ["https://10.1/", "10.0.0.1"],
      ["https://192.168.257/", "192.168.1.1"],
      ["https://[::7f00:1]/", "[::7f00:1]"],
      ["https://[fec0::1]/", "[fec0::1]"],
      ["https://[64:ff9b:1::a00:1]/", "[64:ff9b:1::a00:1]"],
      ["https://[2002:7f00:1::]/", "[2002:7f00:1::]"],
    ];
    assert.deepEqual(
      await hostnames(review.map(([url]) => url)),
      review.map(([, host]) => host),
    );
    for (const [url] of review) assertRefused(await put(url), url, NOT_PUBLIC);

    // Their public neighbours, spelled the same ways, are accepted.
    const neighbours = [
      ["https://8.8.8.8/", "8.8.8.8"],
      ["https://0x8.0x8.0x8.0x8/", "8.8.8.8"],
      ["https://010.010.010.010/", "8.8.8.8"],
      ["https://8.526344/", "8.8.8.8"],
      ["https://134744072/", "8.8.8.8"],
      ["https://126.1/", "126.0.0.1"],
      ["https://192.169.257/", "192.169.1.1"],
      ["https://[2606:4700::1111]/", "[2606:4700::1111]"],
      ["https://[2002:808:808::]/", "[2002:808:808::]"],
      ["https://[64:ff9b::808:808]/", "[64:ff9b::808:808]"],
      ["https://example.com/", "example.com"],
    ];
    assert.deepEqual(
      await hostnames(neighbours.map(([url]) => url)),
      neighbours.map(([, host]) => host),
    );
    for (const [url] of neighbours) assertAccepted(await put(url), url);

    // What workerd's parser refuses, keyward refuses too: fetch could not send it.
    const unreadable = [
      "https://1.2.3.0x100/",
      "https://1.2.3.4.5/",
      "https://256.0.0.1/",
      "https://99999999999999999999/",
      "https://foo.0x/",
      "https://hooks.example.0x10000000000000000000/",
      "https://08.1/",
    ];
    assert.deepEqual(
      await hostnames(unreadable),
      unreadable.map(() => null),
    );
    for (const url of unreadable) assertRefused(await put(url), url, /has no valid host/);
  });

  test("any spelling of any address: workerd reads the address, keyward refuses it iff it is not public", async () => {
    const seed = Number(process.env.WEBHOOK_HOSTS_SEED ?? 20260501);
    const note = ` (WEBHOOK_HOSTS_SEED=${seed})`;
    const random = mulberry32(seed);
    const int = (n) => Math.floor(random() * n);
    const pick = (list) => list[int(list.length)];

    const cases = [];
    for (let i = 0; i < 300; i++) {
      const v4 = i % 2 === 0;
      const isPublic = int(2) === 0;
      let address, expected, host;
      if (v4) {
        const ip = inV4(pick(V4_RANGES.filter((r) => r[2] === isPublic)), int);
        address = dotted(ip);
        expected = address;
        host = spellV4(ip, int);
      } else {
        const bits =
          int(3) === 0 ? carrying(isPublic, int, pick) : inV6(pick(V6_RANGES.filter((r) => r[2] === isPublic)), int);
        address = serializeV6(bits);
        expected = `[${address}]`;
        host = `[${spellV6(bits, int, pick)}]`;
      }
      const url = `https://${host}${pick(["", ":443", ":8443"])}/hook`;
      cases.push({ url, address, expected, isPublic });
    }
    // Both kinds, both ways, in numbers.
    for (const kind of [true, false]) assert.ok(cases.filter((c) => c.isPublic === kind).length > 100);

    const read = await hostnames(cases.map((c) => c.url));
    cases.forEach((c, i) => assert.equal(read[i], c.expected, `workerd reads ${c.url} as ${c.address}${note}`));
    for (const c of cases) {
      const r = await put(c.url);
      if (c.isPublic) assertAccepted(r, c.url, ` (${c.address})${note}`);
      else assertRefused(r, c.url, NOT_PUBLIC, ` (${c.address})${note}`);
    }
  });

  test("hosts near the IPv4 parser's edges: keyward finds no valid host exactly where workerd finds none", async () => {
    const seed = Number(process.env.WEBHOOK_HOSTS_SEED ?? 20260501);
    const random = mulberry32(seed + 1);
    const int = (n) => Math.floor(random() * n);
    const pick = (list) => list[int(list.length)];
    const some = (alphabet, n) => Array.from({ length: n }, () => pick(alphabet)).join("");
    // Labels that are numbers in some radix, nearly numbers, or names.
    const labels = [
      () => "0x",
      () => "0X",
      () => "0",
      () => "",
      () => "foo",
      () => "a-b",
      () => some("0123456789", 1 + int(4)),
      () => `0${some("01234567", 1 + int(3))}`,
      () => `0${some("0123456789", 1 + int(3))}`,
      () => `0x${some("0123456789abcdefABCDEF", 1 + int(9))}`,
      () => `0x${some("0123456789abcdefg", 1 + int(4))}`,
      () => some("0123456789", 10 + int(15)),
      () => some("0123456789abcdefx", 1 + int(5)),
    ];
    const hosts = Array.from(
      { length: 200 },
      () => Array.from({ length: 1 + int(5) }, () => pick(labels)()).join(".") + (int(4) === 0 ? "." : ""),
    ).filter((h) => h !== "");
    const urls = hosts.map((h) => `https://${h}/`);
    const read = await hostnames(urls);
    let unreadable = 0;
    for (const [i, url] of urls.entries()) {
      const r = await put(url);
      // keyward also refuses names with an empty label (`a..b`), which workerd reads but no DNS resolves.
      const emptyLabel = !/^(\d+\.){3}\d+$/.test(read[i] ?? "") && /(^|\.)\./.test(hosts[i]);
      const note = ` (WEBHOOK_HOSTS_SEED=${seed}; workerd reads ${read[i]})`;
      if (read[i] === null) unreadable++;
      if (read[i] === null || emptyLabel) {
        assertRefused(r, url, /has no valid host/, note);
      } else if (r.status === 422) {
        assert.doesNotMatch(r.body.errors.url, /has no valid host/, `${url}${note}`);
      }
    }
    assert.ok(unreadable > 50 && unreadable < hosts.length - 50, "both kinds, in numbers");
  });
});

/** A small seeded PRNG (mulberry32): the same cases on every run with the same seed. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * IPv4 blocks, each labelled public or not by construction: every block SECURITY.md lists as not
 * public, and public blocks around them (so a block judged one bit too wide or too narrow shows).
 */
const V4_RANGES = [
  ["0.0.0.0", 8, false],
  ["10.0.0.0", 8, false],
  ["100.64.0.0", 10, false],
  ["127.0.0.0", 8, false],
  ["169.254.0.0", 16, false],
  ["172.16.0.0", 12, false],
  ["192.0.0.0", 24, false],
  ["192.0.2.0", 24, false],
  ["192.88.99.0", 24, false],
  ["192.168.0.0", 16, false],
  ["198.18.0.0", 15, false],
  ["198.51.100.0", 24, false],
  ["203.0.113.0", 24, false],
  ["224.0.0.0", 4, false],
  ["240.0.0.0", 4, false],
  ["1.0.0.0", 8, true],
  ["8.0.0.0", 8, true],
  ["9.0.0.0", 8, true],
  ["11.0.0.0", 8, true],
  ["100.0.0.0", 10, true],
  ["100.128.0.0", 9, true],
  ["126.0.0.0", 8, true],
  ["128.0.0.0", 8, true],
  ["169.253.0.0", 16, true],
  ["169.255.0.0", 16, true],
  ["172.0.0.0", 12, true],
  ["172.32.0.0", 11, true],
  ["192.0.1.0", 24, true],
  ["192.0.3.0", 24, true],
  ["192.88.98.0", 24, true],
  ["192.88.100.0", 24, true],
  ["192.167.0.0", 16, true],
  ["192.169.0.0", 16, true],
  ["198.16.0.0", 15, true],
  ["198.20.0.0", 14, true],
  ["198.51.99.0", 24, true],
  ["198.51.101.0", 24, true],
  ["203.0.112.0", 24, true],
  ["203.0.114.0", 24, true],
  ["223.0.0.0", 8, true],
];

/** IPv6 blocks, labelled the same way (the blocks that carry an IPv4 address are in `carrying`). */
const V6_RANGES = [
  ["::", 96, false], // IPv4-compatible, :: and ::1 included
  ["::ffff:0:0:0", 96, false], // IPv4-translated: not IPv4-mapped
  ["64:ff9b:1::", 48, false], // NAT64 local use
  ["100::", 64, false], // discard
  ["1000::", 4, false],
  ["2001::", 23, false], // IETF protocol assignments, Teredo
  ["2001:db8::", 32, false], // documentation
  ["3fff::", 20, false], // documentation
  ["4000::", 2, false],
  ["8000::", 1, false],
  ["fc00::", 7, false], // unique local
  ["fe80::", 10, false], // link-local
  ["fec0::", 10, false], // site-local
  ["ff00::", 8, false], // multicast
  ["2000::", 16, true],
  ["2001:200::", 23, true],
  ["2001:4860::", 32, true],
  ["2001:db9::", 32, true],
  ["2400::", 12, true],
  ["2606:4700::", 32, true],
  ["2a00::", 12, true],
  ["2c00::", 12, true],
  ["3fff:1000::", 20, true],
];

const v4Number = (text) => text.split(".").reduce((a, b) => a * 256 + Number(b), 0);
const dotted = (ip) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");

/** A random address of the block `[start, len]`. */
function inV4([start, len], int) {
  const hostBits = 2 ** (32 - len);
  return v4Number(start) + int(hostBits);
}

/** One number of an IPv4 address as the URL Standard reads it: decimal, octal or hexadecimal. */
function spellNumber(n, int) {
  const pad = "0".repeat(int(3));
  switch (int(5)) {
    case 0:
      return String(n);
    case 1:
      return `0${pad}${n.toString(8)}`;
    case 2:
      return `0x${pad}${n.toString(16)}`;
    case 3:
      return `0X${pad}${n.toString(16).toUpperCase()}`;
    default:
      return n === 0 ? "0x" : `0x${pad}${n.toString(16).toUpperCase()}`;
  }
}

/** An IPv4 address in one to four numbers (the last one holds the remaining bytes), a final dot or not. */
function spellV4(ip, int) {
  const count = 1 + int(4);
  const bytes = [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  const numbers = [...bytes.slice(0, count - 1), ip % 2 ** (8 * (5 - count))];
  return numbers.map((n) => spellNumber(n, int)).join(".") + (int(4) === 0 ? "." : "");
}

/** An IPv6 address (compressed or not) as a BigInt. */
function v6Bits(text) {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(`0x${g}`), 0n);
}

const groupsOf = (bits) => Array.from({ length: 8 }, (_, i) => Number((bits >> BigInt(16 * (7 - i))) & 0xffffn));
const random128 = (int) => Array.from({ length: 8 }).reduce((a) => (a << 16n) | BigInt(int(0x10000)), 0n);

/** Zero some of the groups from `from` on, so that there are runs of zeros to compress. */
function zeroSome(bits, from, int) {
  for (let g = from; g < 8; g++) if (int(2) === 0) bits &= ~(0xffffn << BigInt(16 * (7 - g)));
  return bits;
}

/** A random address of the IPv6 block `[start, len]`. */
function inV6([start, len], int) {
  const hostMask = (1n << BigInt(128 - len)) - 1n;
  return zeroSome(v6Bits(start) | (random128(int) & hostMask), Math.ceil(len / 16), int);
}

/**
 * An address of a block that carries an IPv4 address (IPv4-mapped, NAT64's well-known prefix,
 * 6to4), with an IPv4 address from a block labelled `isPublic`: it is public iff that one is.
 */
function carrying(isPublic, int, pick) {
  const v4 = BigInt(inV4(pick(V4_RANGES.filter((r) => r[2] === isPublic)), int));
  switch (int(3)) {
    case 0:
      return v6Bits("::ffff:0:0") | v4;
    case 1:
      return v6Bits("64:ff9b::") | v4;
    default:
      return zeroSome(v6Bits("2002::") | (v4 << 80n) | (random128(int) & ((1n << 80n) - 1n)), 3, int);
  }
}

/** The URL Standard's IPv6 serializer: lower-case, no leading zeros, the first longest run of two or more zero groups as `::`. */
function serializeV6(bits) {
  const g = groupsOf(bits);
  let at = -1;
  let len = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len) [at, len] = [i, j - i];
    i = Math.max(j, i + 1);
  }
  const hex = (gs) => gs.map((x) => x.toString(16)).join(":");
  return at < 0 ? hex(g) : `${hex(g.slice(0, at))}::${hex(g.slice(at + len))}`;
}

/** Another spelling of an IPv6 address: any run of zero groups as `::` or none, leading zeros, upper case, the last 32 bits dotted. */
function spellV6(bits, int, pick) {
  const g = groupsOf(bits);
  const isDotted = int(3) === 0;
  const head = isDotted ? g.slice(0, 6) : g;
  const upper = int(2) === 0;
  const padded = int(2) === 0;
  const hex = (gs) =>
    gs
      .map((x) => {
        const s = padded ? x.toString(16).padStart(4, "0") : x.toString(16);
        return upper ? s.toUpperCase() : s;
      })
      .join(":");
  const runs = [];
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== 0) continue;
    let j = i;
    while (j < head.length && head[j] === 0) j++;
    runs.push([i, j]);
    i = j;
  }
  let text = hex(head);
  if (runs.length && int(4) !== 0) {
    const [i, j] = pick(runs);
    const from = i + int(j - i);
    const to = from + 1 + int(j - from);
    text = `${hex(head.slice(0, from))}::${hex(head.slice(to))}`;
  }
  if (isDotted) {
    if (!text.endsWith(":")) text += ":";
    text += [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255].join(".");
  }
  return text;
}
