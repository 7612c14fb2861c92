// The dashboard end to end in Debian's headless Chromium, against a running platform.
//
//   AOS_URL=http://127.0.0.1:8000 AOS_EMAIL=... AOS_PASSWORD=... AOS_SOURCE_DIR=<a folder the
//   tenant may read> node e2e/dashboard.e2e.mjs
//
// Run by tests/e2e/test_dashboard.py, which starts the platform with the demo tenant.
// Screenshots of every page go to e2e/artifacts/ (or AOS_ARTIFACTS). Exit code 0 = passed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { chromium } from "playwright-core";

const URL_ = required("AOS_URL");
const EMAIL = required("AOS_EMAIL");
const PASSWORD = required("AOS_PASSWORD");
const SOURCE_DIR = required("AOS_SOURCE_DIR");
const ARTIFACTS = resolve(process.env.AOS_ARTIFACTS ?? "e2e/artifacts");
const CHROMIUM = process.env.AOS_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const problems = [];
const consoleErrors = [];
let stepNo = 0;

async function step(name, fn) {
  stepNo += 1;
  const started = Date.now();
  try {
    await fn();
    console.log(`ok ${stepNo} - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    console.log(`not ok ${stepNo} - ${name}: ${error.message.split("\n")[0]}`);
    problems.push(`${name}: ${error.message}`);
    throw error;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// ---- the drifting source: a CRM export the test owns -----------------------------------
const HEADER = ["Id", "Name", "Website", "Industry", "BillingCountry"];
const ROWS = Array.from({ length: 30 }, (_, i) => [
  `ACC-${String(i).padStart(4, "0")}`,
  `Company ${i} Ltd`,
  `https://company-${i}.example.com`,
  ["Finance", "Media", "Retail"][i % 3],
  ["Spain", "France", "Germany"][i % 3],
]);

function writeExport(header, rows) {
  mkdirSync(SOURCE_DIR, { recursive: true });
  const csv = [header, ...rows].map((r) => r.join(",")).join("\n") + "\n";
  writeFileSync(join(SOURCE_DIR, "accounts.csv"), csv);
}

// ---- accessibility basics -------------------------------------------------------------
async function checkLabels(page, where) {
  const unlabelled = await page.evaluate(() => {
    const name = (el) => {
      const labelled = el.getAttribute("aria-labelledby");
      const byId = labelled
        ? labelled
            .split(/\s+/)
            .map((id) => document.getElementById(id)?.textContent ?? "")
            .join(" ")
        : "";
      const labels = "labels" in el && el.labels ? [...el.labels].map((l) => l.textContent).join(" ") : "";
      return (el.getAttribute("aria-label") || byId || labels || el.getAttribute("title") || el.textContent || "").trim();
    };
    const bad = [];
    for (const img of document.querySelectorAll("img")) {
      if (!img.hasAttribute("alt")) bad.push(`img ${img.getAttribute("src")}`);
    }
    for (const el of document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, [role=button], [role=tab]")) {
      if (!name(el)) bad.push(`${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 80)}`);
    }
    if (!document.title.startsWith("AOS ")) bad.push(`document.title ${JSON.stringify(document.title)}`);
    return bad;
  });
  expect(unlabelled.length === 0, `${where}: unlabelled ${unlabelled.join("; ")}`);
}

async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// every panel has loaded (no loading spinner left); not "networkidle", which an open
// event stream never reaches
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector(".spinner"), null, { timeout: 90_000 });
}

async function visit(page, path, title) {
  await page.goto(`${URL_}${path}`);
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  expect((await page.title()) === title, `document.title is ${await page.title()}, not ${title}`);
}

// ---- the run ------------------------------------------------------------------------
rmSync(ARTIFACTS, { recursive: true, force: true }); // this run's screenshots only
mkdirSync(ARTIFACTS, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "aos-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: FLAGS,
  viewport: { width: 1366, height: 900 },
});
context.setDefaultTimeout(30_000);
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (msg) => {
  if (msg.type() === "error") consoleErrors.push(`${page.url()}: ${msg.text()}`);
});
page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));

let failed = false;
try {
  await step("log in", async () => {
    await page.goto(`${URL_}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect((await page.title()) === "AOS Sign in", "login page title");
    await checkLabels(page, "login");
    await shot(page, "01-login");
    await page.getByLabel("E-mail").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "AOS Control Center" }).waitFor();
  });

  await step("Control Center shows the tenant at a glance", async () => {
    await page.getByRole("table", { name: /Connections and their health/ }).or(page.locator("table")).first().waitFor();
    await page.locator("figure[role=img]").waitFor({ timeout: 60_000 }); // the throughput chart
    await page.locator(".source-badge.live").first().waitFor();
    await checkLabels(page, "control center");
    await shot(page, "02-control-center");
  });

  await step("connectors are listed with their mapping counts", async () => {
    await visit(page, "/connections", "AOS Connections");
    const row = page.locator('tr[data-connection="demo-sources"]');
    await row.waitFor();
    const count = Number((await row.getByTestId("mapping-count").textContent()).replace(/,/g, ""));
    expect(count > 0, `demo-sources shows ${count} mappings`);
    await checkLabels(page, "connections");
    await shot(page, "03-connections");
  });

  await step("a sync is triggered and seen to finish, live through the event stream", async () => {
    const row = page.locator('tr[data-connection="demo-sources"]');
    // the stream is open before the sync starts, so its events reach this page as they happen
    await page.locator('.live-indicator[data-stream="open"]').waitFor({ timeout: 30_000 });
    await page.locator(".source-badge.live.pulsing").first().waitFor();
    await row.getByRole("button", { name: "Sync demo-sources" }).click();
    await row.locator("[data-run-status]").first().waitFor();
    const seen = Date.now();
    await page.waitForFunction(
      () =>
        (document.querySelector(".live-indicator")?.getAttribute("data-seen") ?? "")
          .split(" ")
          .includes("sync.succeeded"),
      null,
      { timeout: 120_000 },
    );
    const streamed = Date.now();
    // while the stream is open the run is polled only every 10 s: succeeded within 5 s of
    // the event means the event itself refreshed the row (a buffering proxy would fail here)
    await row.locator('[data-run-status="succeeded"]').waitFor({ timeout: 5_000 });
    console.log(
      `sync.succeeded streamed ${((streamed - seen) / 1000).toFixed(1)} s after the run showed; ` +
        `row succeeded ${((Date.now() - streamed) / 1000).toFixed(2)} s after the event`,
    );
    await page.locator('.live-indicator[data-stream="open"]').waitFor({ timeout: 1_000 });
    await page.locator(".source-badge.live.pulsing").first().waitFor({ timeout: 1_000 });
  });

  await step("Safe Mode: automatic repairs off, so every repair waits for review", async () => {
    await visit(page, "/review", "AOS Review queue");
    await page.getByRole("button", { name: "Change" }).click();
    const auto = page.getByLabel(/Automatic repairs/);
    if (await auto.isChecked()) await auto.uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("safe-mode").filter({ hasText: "every repair waits here" }).waitFor();
  });

  await step("a new source is onboarded: create, check, discover, pick, first sync, mappings", async () => {
    writeExport(HEADER, ROWS);
    await visit(page, "/discover", "AOS Discover");
    await page.getByRole("button", { name: "Onboard a source" }).click();
    await page.getByLabel("Name").fill("crm-export");
    await page.getByLabel(/Folder, glob or URL/).fill(SOURCE_DIR);
    await page.getByRole("button", { name: "Create and continue" }).click();
    await page.getByRole("button", { name: "Check the connection" }).click();
    await page.getByText("reachable").first().waitFor();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText(/Found 1 stream/).waitFor();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("checkbox", { name: "Sync accounts" }).waitFor();
    await page.getByRole("button", { name: /Continue with 1 stream/ }).click();
    await page.getByText("Safe Mode").first().waitFor();
    await shot(page, "04-discover-onboarding");
    await page.getByRole("button", { name: "Start the first sync" }).click();
    await page.locator('[data-run-status="succeeded"]').waitFor({ timeout: 120_000 });
    await page.getByRole("button", { name: "Review mappings" }).click();
    for (const [source, target] of [
      ["id", "account.account_id"],
      ["name", "account.name"],
      ["website", "account.domain"],
    ]) {
      await page.getByLabel("Source field (as landed)").fill(source);
      await page.getByLabel("Ontology target").selectOption(target);
      await page.getByRole("button", { name: "Save mapping" }).click();
      await page.getByRole("cell", { name: target, exact: true }).waitFor();
    }
    await checkLabels(page, "discover");
    await shot(page, "05-discover-mapped");
  });

  let connectionUrl = "";
  await step("the source drifts and its next sync proposes a repair", async () => {
    const renamed = ["Id", "Name", "WebsiteURL", "Industry", "BillingCountry"];
    writeExport(
      renamed,
      ROWS.map((r) => [r[0], r[1], `https://renamed-${r[0].toLowerCase()}.example.org`, r[3], r[4]]),
    );
    await page.getByRole("link", { name: /Finish: open the connection/ }).click();
    await page.getByRole("heading", { level: 1, name: "AOS Connections" }).waitFor();
    connectionUrl = page.url();
    await page.getByRole("button", { name: "Sync now" }).click();
    await page.locator('table[aria-label="Sync runs"] tr[data-run-status="succeeded"]').nth(1).waitFor({ timeout: 120_000 });
    await page.getByRole("tab", { name: "Drift" }).click();
    await page.getByText(/renamed website → website_url/).waitFor();
    await shot(page, "06-connection-drift");
  });

  await step("the proposal is opened, approved, and the view changes", async () => {
    await visit(page, "/review", "AOS Review queue");
    const link = page.getByRole("link", { name: /remap: accounts\.website → website_url/ });
    await link.click();
    await page.getByRole("heading", { name: /remap: accounts\.website/ }).waitFor();
    await page.getByRole("region", { name: "Sample values after" }).getByText(/renamed-acc-/).first().waitFor();
    await page.getByRole("table", { name: "View change" }).waitFor();
    await checkLabels(page, "review");
    await shot(page, "07-review-proposal");
    await page.getByRole("button", { name: "Approve", exact: true }).click();
    await page.getByTestId("after-value").filter({ hasText: "renamed-acc-" }).first().waitFor({ timeout: 60_000 });
    await page.locator("dl.facts .badge", { hasText: /^applied$/ }).waitFor();
    await shot(page, "08-review-approved");
  });

  await step("the ontology graph renders its nodes; tables and SQL answer", async () => {
    await visit(page, "/ontology", "AOS Ontology");
    await page.locator("svg g[data-node]").first().waitFor();
    const nodes = await page.locator("svg g[data-node]").count();
    const kinds = await page.locator("svg g[data-node]").evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute("data-node")))]);
    expect(nodes >= 5, `only ${nodes} graph nodes`);
    for (const kind of ["connection", "stream", "entity"]) expect(kinds.includes(kind), `no ${kind} node`);
    await page.waitForTimeout(1500); // let the layout settle for the picture
    await page.locator("svg g[data-node=connection]").first().focus();
    await page.keyboard.press("Enter"); // keyboard selection shows the node's details
    await page.getByText(/Open the connection/).waitFor();
    await checkLabels(page, "ontology graph");
    await shot(page, "09-ontology-graph");
    await page.getByRole("tab", { name: "Tables" }).click();
    await page.getByRole("combobox", { name: "Unified entity" }).selectOption("account");
    await page.getByRole("table", { name: "account rows" }).waitFor();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Page 2").waitFor();
    await checkLabels(page, "ontology tables");
    await shot(page, "10-ontology-table");
    await page.getByRole("tab", { name: "SQL console" }).click();
    await page.getByRole("button", { name: "Run" }).click();
    await page.getByRole("table", { name: "Query results" }).waitFor();
    await shot(page, "11-ontology-sql");
  });

  await step("Orchestration: agents with their xAO metrics; a FinOps run is started and seen to finish", async () => {
    await visit(page, "/orchestration", "AOS Orchestration");
    await page.getByRole("table", { name: "Agents and their xAO metrics" }).waitFor();
    const finops = page.locator('tr[data-agent="finops"]');
    await finops.waitFor();
    await page.locator('tr[data-agent="revops"]').waitFor();
    await finops.getByRole("button", { name: "Run finops" }).click();
    await finops.locator("[data-run-status]").waitFor();
    await finops.locator('[data-run-status="succeeded"]').waitFor({ timeout: 120_000 });
    // the run's detail panel followed it to the end, and the runs list shows it
    await page.locator('[data-run] [data-run-status="succeeded"]').waitFor();
    await page.getByRole("table", { name: "Agent runs" }).locator('tr[data-run-status="succeeded"]').first().waitFor();
    const runs = Number((await finops.locator("td.num").first().textContent()).replace(/,/g, ""));
    expect(runs >= 1, `finops shows ${runs} runs`);
    await checkLabels(page, "orchestration");
    await shot(page, "11a-orchestration");
  });

  await step("Agents: a FinOps finding is read with its numbers; spend, pipeline and a briefing render", async () => {
    await visit(page, "/agents", "AOS Agents");
    await page.getByRole("combobox", { name: "Agent" }).selectOption("finops");
    const finding = page.locator('li.finding[data-agent="finops"]').first();
    await finding.waitFor();
    const title = (await finding.locator("strong").first().textContent()).trim();
    expect(title.length > 10, `finding title ${JSON.stringify(title)}`);
    await finding.getByRole("button", { name: "The numbers and evidence" }).click();
    await finding.getByRole("definition").first().waitFor();
    const query = await finding.getByLabel("Evidence query").textContent();
    expect(/cloud_cost/.test(query), `evidence query ${query.slice(0, 80)}`);
    await page.locator('figure[data-chart="spend"]').waitFor({ timeout: 60_000 });
    await page.locator('figure[data-chart="pipeline"]').waitFor({ timeout: 60_000 });
    await page.locator("article[data-persona=CFO]").waitFor({ timeout: 90_000 });
    await page.getByRole("tab", { name: "CRO" }).focus();
    await page.keyboard.press("ArrowRight"); // keyboard: the next persona's briefing
    await page.locator("article[data-persona=COO]").waitFor({ timeout: 90_000 });
    await checkLabels(page, "agents");
    await shot(page, "11b-agents");
  });

  await step("Control Center shows the agents' findings and LLM usage", async () => {
    await visit(page, "/", "AOS Control Center");
    await page.getByRole("heading", { level: 2, name: "Agent findings" }).waitFor();
    await page.getByRole("table", { name: /Agents, their runs and LLM usage/ }).waitFor();
  });

  await step("dark mode is switched on and survives a reload, as does the session", async () => {
    await visit(page, connectionUrl.replace(URL_, "") || "/connections", "AOS Connections");
    await page.getByRole("button", { name: "Dark mode" }).click();
    expect((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark not applied");
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "AOS Connections" }).waitFor();
    expect((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark lost on reload");
    expect(await page.getByRole("button", { name: "Dark mode" }).getAttribute("aria-pressed") === "true", "toggle state");
    await shot(page, "12-connection-dark");
    for (const [path, title, name] of [
      ["/", "AOS Control Center", "13-control-center-dark"],
      ["/discover", "AOS Discover", "14-discover-dark"],
      ["/faq", "AOS FAQ", "15-faq-dark"],
      ["/orchestration", "AOS Orchestration", "15a-orchestration-dark"],
      ["/agents", "AOS Agents", "15b-agents-dark"],
    ]) {
      await visit(page, path, title);
      await settled(page);
      await checkLabels(page, title);
      await shot(page, name);
    }
  });

  await step("a tablet-sized window still shows everything", async () => {
    await page.setViewportSize({ width: 820, height: 1100 });
    await visit(page, "/connections", "AOS Connections");
    await page.locator('tr[data-connection="demo-sources"]').waitFor();
    await shot(page, "16-connections-tablet");
  });

  await step("logging out returns to the sign-in page", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.goto(`${URL_}/review`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  await step("no console errors", async () => {
    expect(consoleErrors.length === 0, consoleErrors.join("\n"));
  });
} catch {
  failed = true;
  await shot(page, "zz-failure").catch(() => undefined);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (consoleErrors.length) console.log(`console errors:\n${consoleErrors.join("\n")}`);
console.log(failed ? `FAILED: ${problems.join("\n")}` : `passed ${stepNo} steps; screenshots in ${ARTIFACTS}`);
process.exit(failed ? 1 : 0);
