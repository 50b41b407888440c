#!/usr/bin/env node
// A stand-in for wrangler with an account in a JSON file ($FAKE_WRANGLER_STATE), for
// tests/deploy/deploy.test.mjs: the commands scripts/deploy.sh runs, answering as wrangler 4 does
// (JSON where wrangler prints JSON). Every call is recorded in the state's `calls`.
import { readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

const file = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(file, "utf8"));
const argv = process.argv.slice(2);
state.calls.push(argv.join(" "));
const save = () => writeFileSync(file, JSON.stringify(state, null, 2));
const die = (message) => {
  save();
  console.error(`✘ [ERROR] ${message}`);
  process.exit(1);
};
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

/** What wrangler reads from a config: the Worker's name, the TOKENS id, a DO's script_name. */
function config() {
  const toml = readFileSync(option("-c") ?? "wrangler.toml", "utf8");
  return {
    name: toml.match(/^name = "([^"]+)"/m)[1],
    tokens: toml.match(/binding = "TOKENS"\n(?:#.*\n)*id = "([^"]*)"/)[1],
    scriptName: toml.match(/^script_name = "([^"]+)"/m)?.[1],
  };
}

const command = argv.filter((a) => !a.startsWith("-"));
const is = (...words) => words.every((w, i) => command[i] === w);

if (state.unreachable) {
  die("Unable to resolve Cloudflare's API hostname (api.cloudflare.com or dash.cloudflare.com).");
} else if (is("whoami")) {
  if (!state.loggedIn) {
    save();
    console.log(JSON.stringify({ loggedIn: false }));
    process.exit(1);
  }
  console.log(JSON.stringify({ loggedIn: true, authType: "User API Token", accounts: state.accounts }));
} else if (is("kv", "namespace", "list")) {
  console.log(JSON.stringify(state.namespaces, null, "  "));
} else if (is("kv", "namespace", "create")) {
  const title = command[3];
  if (state.namespaces.some((n) => n.title === title)) die(`A KV namespace with the title "${title}" already exists.`);
  const id = randomBytes(16).toString("hex");
  state.namespaces.push({ id, title, supports_url_encoding: true });
  console.log(
    `🌀 Creating namespace with title "${title}"\n✨ Success!\n[[kv_namespaces]]\nbinding = "${title}"\nid = "${id}"`,
  );
} else if (is("secret", "list")) {
  const worker = state.workers[config().name];
  if (!worker) die(`Worker "${config().name}" not found.`);
  console.log(JSON.stringify(Object.keys(worker.secrets).map((name) => ({ name, type: "secret_text" }))));
} else if (is("secret", "put")) {
  const name = command[2];
  const value = readFileSync(0, "utf8").trimEnd();
  const worker = state.workers[config().name];
  if (!worker) die("the test expects deploy.sh to deploy before it sets a secret");
  worker.secrets[name] = value;
  console.log(`✨ Success! Uploaded secret ${name}`);
} else if (is("deploy")) {
  if (argv.includes("--dry-run")) die("the fake wrangler does not build");
  const { name, tokens, scriptName } = config();
  if (scriptName && !state.workers[scriptName])
    die(`Durable Object binding refers to the script ${scriptName}, not found`);
  state.workers[name] ??= { secrets: {} };
  state.deploys.push({ name, tokens });
  console.log(`Uploaded ${name}\nDeployed ${name} triggers`);
} else {
  die(`the fake wrangler does not know: ${argv.join(" ")}`);
}
save();
