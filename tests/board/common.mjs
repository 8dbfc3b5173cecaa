// What the board's browser tests share: a temporary folder, the `fieldwork`
// admin and device commands, a `fieldwork serve` on a free loopback port,
// the dispatcher API with a token, and Debian's Chromium.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import assert from "node:assert/strict";

export const PASSWORD = "correct horse battery";

/** A fresh folder for a server and a phone, and the commands on them. */
export function workplace(prefix, screenshots) {
  const exe = process.env.FIELDWORK_EXE;
  assert.ok(exe, "FIELDWORK_EXE names the fieldwork binary");
  const shots = resolve(process.env.SCREENSHOTS ?? screenshots);
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const data = join(dir, "server");
  const phone = join(dir, "phone");
  const run = (args, input) => execFileSync(exe, args, { input, encoding: "utf8" }).trim();
  return {
    exe,
    shots,
    dir,
    data,
    run,
    admin: (...args) => run(["admin", "--data", data, ...args]),
    device: (...args) => run(["device", "--store", phone, ...args]),
  };
}

/** `fieldwork serve` on the workplace's data; resolves to its URL. */
export async function serve(w) {
  const server = spawn(w.exe, ["serve", "--listen", "127.0.0.1:0", "--data", w.data], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((ok, fail) => {
    const lines = createInterface({ input: server.stdout });
    lines.once("line", (l) => ok(l.replace("fieldwork: serving on ", "").trim()));
    server.once("exit", (c) => fail(new Error(`fieldwork serve exited with ${c}`)));
  });
  return { server, url };
}

/** The dispatcher API as the holder of `token`. */
export const apiAt = (url, token) => (method, path, body) =>
  fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  }).then(async (r) => {
    assert.ok(r.ok, `${method} ${path}: ${r.status}`);
    return r.status === 204 ? null : r.json();
  });

/** Debian's Chromium, headless, with `extra` arguments. */
export async function browser(extra = []) {
  const { chromium } = await import(process.env.PLAYWRIGHT_CORE ?? "playwright-core");
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", ...extra],
  });
}
