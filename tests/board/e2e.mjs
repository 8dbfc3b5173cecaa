// The dispatcher board in a real browser (Debian's Chromium, driven by
// playwright-core): sign in, take an order at intake, assign it; a device
// (the `fieldwork device` CLI) does the visit offline and syncs; the open
// board and order pages show the new state and the signed report without a
// reload. Screenshots land in target/board-e2e/. Run by scripts/board-test.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { PASSWORD, apiAt, browser as chromium, serve, workplace } from "./common.mjs";

const w = workplace("fieldwork-board-", "target/board-e2e");
const { shots, dir, data, run, admin, device } = w;
const NAME = "王小明 <script>alert(1)</script>";

admin("tenant", "acme", "ACME Service");
admin("engineer", "acme", "eng-a", "Zhang Wei");
const deskToken = admin("dispatcher", "acme", "desk", "Desk Lin");
run(["admin", "--data", data, "password", "acme", "desk"], PASSWORD + "\n");

const { server, url } = await serve(w);
const api = apiAt(url, deskToken);
await api("POST", "/api/catalog", { sku: "RLY", name: "Relay", unit_price_minor: 4500, low_stock_threshold: 2 });

const browser = await chromium();
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const dialogs = [];
  context.on("page", (p) => p.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); }));
  const page = await context.newPage();
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });

  // Sign in.
  await page.goto(url + "/board");
  assert.match(page.url(), /\/board\/sign-in$/, "signed out: the sign-in page");
  await page.fill("input[name=tenant]", "acme");
  await page.fill("input[name=person]", "desk");
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(url + "/board");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "fw_session");
  assert.ok(session?.httpOnly && session.sameSite === "Strict", "session cookie is HttpOnly, SameSite=Strict");
  console.log("ok   board: signed in");

  // Intake: first with a mistake, then corrected.
  await page.click("text=New order");
  await page.fill("[name='customer.name']", NAME);
  await page.fill("[name='customer.phone']", "+86 21 5555 0101");
  await page.fill("[name='product.model']", "AC-900");
  await page.fill("[name='product.serial']", "SN-42");
  await page.fill("[name='fault.symptoms']", "no cooling after start");
  await page.selectOption("[name=priority]", "urgent");
  await page.click("text=Take the order");
  assert.equal(await page.textContent("[data-field='customer.address']"), "is required", "message next to the field");
  await page.fill("[name='customer.address']", "上海市 1 号");
  await page.click("text=Take the order");
  await page.waitForURL(/\/board\/orders\/wo-/);
  const id = page.url().split("/").pop();
  assert.equal((await page.textContent("h1")).includes(NAME), true, "the customer's name shows as text");
  console.log("ok   board: order taken at intake");

  // Assign it to the engineer.
  await page.selectOption("form.assign select", "eng-a");
  await page.click("form.assign button");
  await page.waitForURL(url + `/board/orders/${id}`);
  assert.equal(await page.textContent("#status"), "dispatched");
  console.log("ok   board: assigned");

  // A second tab keeps the board open.
  const board = await context.newPage();
  await board.goto(url + "/board");
  const row = board.locator(`tr[data-order='${id}']`);
  assert.equal(await row.locator(".status").textContent(), "dispatched");
  assert.equal(await row.locator(".badge.urgent").count(), 1, "urgent is marked");
  await board.screenshot({ path: join(shots, "board-before.png"), fullPage: true });

  // Neither page may reload from here on.
  for (const p of [page, board]) await p.evaluate(() => { window.__sameDocument = true; });

  // The engineer's phone: enrol, prime, then the visit with no network, then sync.
  device("init", "eng-a");
  device("enrol", url, admin("enrol-code", "acme", "eng-a"));
  device("sync");
  device("receive", "RLY", "2");
  device("accept", id);
  device("en-route", id);
  device("arrive", id, "31.23", "121.47");
  device("diagnose", id, "E21", "hardware", "relay contacts burnt", "RLY");
  device("warranty", id, "--proof");
  device("consent", id, "paid_service", "王小明", "relay replacement, estimate 135.00");
  device("start", id);
  device("use-part", id, "RLY", "1");
  device("fee", id, "labour", "9000", "relay swap");
  device("note", id, "replaced relay, tested three cycles");
  // A photo of the finished work (a real PNG), sent with the sync below.
  const photo = join(dir, "finished.png");
  writeFileSync(
    photo,
    Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64"),
  );
  device("attach", id, photo, "completed_work", "relay replaced");
  device("repaired", id);
  device("qc", id, "pass");
  device("sign", id, "王小明");
  device("rate", id, "satisfied", "5");
  device("sync");
  console.log("ok   board: the device did the visit offline and synced");

  // Both pages update by themselves.
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "signed off", null, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector("#signature-state")?.textContent === "signature valid", null, { timeout: 15000 });
  await board.waitForFunction(
    (id) => document.querySelector(`tr[data-order='${id}'] .status`)?.textContent === "signed off",
    id,
    { timeout: 15000 },
  );
  for (const p of [page, board]) {
    assert.equal(await p.evaluate(() => window.__sameDocument), true, "updated without a reload");
  }
  assert.ok((await page.locator("#report svg.signature polyline").count()) >= 1, "the signature is drawn from its strokes");
  const report = await page.textContent("pre.report");
  assert.ok(report.includes("E21") && report.includes("Relay"), "the signed report shows the fault and the part");
  const timeline = await page.locator("#timeline tbody tr").allTextContents();
  assert.ok(timeline.some((t) => t.includes("on site") && t.includes("eng-a")), "the timeline names who arrived");
  assert.ok(timeline.some((t) => t.includes("dispatched") && t.includes("desk")), "and who dispatched");
  // The photo, once its bytes arrived: a thumbnail the browser decoded.
  await page.waitForFunction(
    () => {
      const img = document.querySelector("#photos img.thumb");
      return img && img.complete && img.naturalWidth > 0;
    },
    null,
    { timeout: 15000 },
  );
  assert.ok((await page.textContent("#photos figcaption")).includes("relay replaced"), "the photo's caption");
  assert.ok(report.includes("completed work: "), "the signed report lists the photo");
  assert.equal(dialogs.length, 0, `no script ran from customer text: ${dialogs}`);
  console.log("ok   board: order page and board updated live, signature valid");

  await page.screenshot({ path: join(shots, "order.png"), fullPage: true });
  await board.screenshot({ path: join(shots, "board.png"), fullPage: true });
  console.log(`ok   board: screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error("FAIL board e2e:", e);
} finally {
  await browser.close();
  server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
