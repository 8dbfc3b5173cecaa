// A service center's whole day in Simplified Chinese, in a real browser
// (Debian's Chromium with its language set to zh-CN, driven by
// playwright-core): the tenant is created in Asia/Shanghai speaking zh-CN;
// the dispatcher signs in, takes an order (first with a mistake), assigns
// it; the engineer's phone (the `fieldwork device` CLI) does the visit
// offline and syncs; the board updates live; the follow-up call, a
// complaint, the statistics and the settings follow. Every step reads the
// Chinese board. Screenshots land in target/board-e2e-zh/. Run by
// scripts/board-test.
import { rmSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { PASSWORD, apiAt, browser as chromium, serve, workplace } from "./common.mjs";

const w = workplace("fieldwork-board-zh-", "target/board-e2e-zh");
const { shots, dir, data, run, admin, device } = w;

admin("tenant", "sh", "上海服务中心", "--time-zone", "Asia/Shanghai", "--language", "zh-CN");
admin("engineer", "sh", "eng-wang", "王工");
const deskToken = admin("dispatcher", "sh", "desk", "林调度");
run(["admin", "--data", data, "password", "sh", "desk", "--supervisor"], PASSWORD + "\n");

const { server, url } = await serve(w);
const api = apiAt(url, deskToken);
await api("POST", "/api/catalog", { sku: "JDQ", name: "继电器", unit_price_minor: 4500, low_stock_threshold: 2 });

const browser = await chromium(["--lang=zh-CN"]);
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const page = await context.newPage();

  // Sign in: the browser asks for Chinese.
  await page.goto(url + "/board");
  assert.match(page.url(), /\/board\/sign-in$/);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.equal(await page.textContent("h1"), "Fieldwork 调度看板");
  await page.fill("input[name=tenant]", "sh");
  await page.fill("input[name=person]", "desk");
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForURL(url + "/board");
  assert.ok((await page.textContent("header")).includes("Asia/Shanghai +08:00"), "the service center's zone");
  await page.screenshot({ path: join(shots, "1-board-empty.png"), fullPage: true });
  console.log("ok   board zh-CN: signed in");

  // Intake, first with the address missing.
  await page.click("a[href='/board/intake']");
  await page.fill("[name='customer.name']", "王芳");
  await page.fill("[name='customer.phone']", "13800138000");
  await page.fill("[name='product.model']", "空调 KFR-35");
  await page.fill("[name='product.serial']", "SN-000042");
  await page.fill("[name='product.purchase_date']", "2026-10-01");
  await page.fill("[name='fault.symptoms']", "开机后不制冷");
  await page.selectOption("[name=priority]", "urgent");
  await page.click("#intake button[type=submit]");
  assert.equal(await page.textContent("[data-field='customer.address']"), "必填", "the message next to the field, in Chinese");
  await page.screenshot({ path: join(shots, "2-intake-refused.png"), fullPage: true });
  await page.fill("[name='customer.address']", "上海市浦东新区世纪大道 100 号");
  await page.click("#intake button[type=submit]");
  await page.waitForURL(/\/board\/orders\/wo-/);
  const id = page.url().split("/").pop();
  assert.equal(await page.textContent("#status"), "已受理");
  console.log("ok   board zh-CN: order taken");

  await page.selectOption("form.assign select", "eng-wang");
  await page.click("form.assign button");
  await page.waitForURL(url + `/board/orders/${id}`);
  assert.equal(await page.textContent("#status"), "已派工");
  await page.evaluate(() => { window.__sameDocument = true; });
  console.log("ok   board zh-CN: assigned");

  // The phone works offline, then syncs; the page follows without a reload.
  device("init", "eng-wang");
  device("enrol", url, admin("enrol-code", "sh", "eng-wang"));
  device("sync");
  device("receive", "JDQ", "2");
  device("accept", id);
  device("en-route", id);
  device("arrive", id, "31.23", "121.47");
  device("diagnose", id, "E21", "hardware", "继电器触点烧蚀", "JDQ");
  device("warranty", id, "--proof");
  device("start", id);
  device("use-part", id, "JDQ", "1");
  device("fee", id, "labour", "9000", "更换继电器");
  device("repaired", id);
  device("qc", id, "pass");
  device("sign", id, "王芳");
  device("rate", id, "unsatisfied", "2");
  device("sync");
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "已签收", null, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector("#signature-state")?.textContent === "签名有效", null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "updated without a reload");
  const report = await page.textContent("pre.report");
  assert.ok(report.startsWith("服务报告 "), "the report the customer signed, in Chinese");
  assert.ok(report.includes("本报告语言：zh-CN"));
  const timeline = await page.locator("#timeline tbody tr").allTextContents();
  assert.ok(timeline.some((t) => t.includes("已到达") && t.includes("eng-wang")), "the timeline, in Chinese");
  assert.ok(!(await page.textContent("main")).includes("UTC"), "no time shown in UTC");
  await page.screenshot({ path: join(shots, "3-order-signed.png"), fullPage: true });
  console.log("ok   board zh-CN: visit synced, signature valid, report in Chinese");

  // The follow-up call: the customer was unsatisfied on site.
  await page.click("nav a[href='/board/follow-ups']");
  await page.waitForURL(url + "/board/follow-ups");
  assert.ok(await page.locator(`tr[data-order='${id}']`).count(), "the serviced customer waits for a call");
  assert.ok((await page.textContent("#calling-hours")).includes("可致电客户的时段"));
  await page.screenshot({ path: join(shots, "4-follow-ups.png"), fullPage: true });
  const row = page.locator(`tr[data-order='${id}']`);
  await row.locator("[name=reached]").check();
  await row.locator("[name=rating]").selectOption("unsatisfied");
  await row.locator("[name=aspect]").fill("等待时间长");
  await row.locator("button[type=submit]").click();
  await page.waitForURL(url + "/board/follow-ups");
  console.log("ok   board zh-CN: follow-up call recorded");

  // The complaint candidate is registered on the complaints page.
  await page.click("nav a[href='/board/complaints']");
  await page.waitForURL(url + "/board/complaints");
  await page.click("form.step button[type=submit]");
  await page.waitForURL(url + "/board/complaints");
  assert.ok((await page.textContent("main")).includes("已登记"));
  await page.screenshot({ path: join(shots, "5-complaints.png"), fullPage: true });
  console.log("ok   board zh-CN: complaint registered");

  await page.click("nav a[href='/board/stats']");
  await page.waitForURL(/\/board\/stats/);
  assert.equal(await page.textContent("h1"), "按月统计");
  await page.screenshot({ path: join(shots, "6-statistics.png"), fullPage: true });
  await page.click("nav a[href='/board/settings']");
  await page.waitForURL(url + "/board/settings");
  assert.equal(await page.inputValue("[name=time_zone]"), "Asia/Shanghai");
  await page.screenshot({ path: join(shots, "7-settings.png"), fullPage: true });
  console.log(`ok   board zh-CN: statistics and settings; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error("FAIL board e2e zh-CN:", e);
} finally {
  await browser.close();
  server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
