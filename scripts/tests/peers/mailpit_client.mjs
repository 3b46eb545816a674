// mailpit_client.mjs — Mailpit's own npm client (mailpit-api, unchanged)
// against `smtpkit serve --http`: run by test_serve_mailpit_client.py after
// it sent two messages ("First one" from alice with an attachment, "Second
// one" from zed). Exits 0 when every call answered as Mailpit would; an
// assertion error (and exit 1) says which did not.
//
//   node mailpit_client.mjs PATH/TO/mailpit-api BASE_URL
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [pkg, base] = process.argv.slice(2);
const { MailpitClient } = await import(pathToFileURL(path.join(pkg, "dist", "index.mjs")).href);
const mailpit = new MailpitClient(base);

const info = await mailpit.getInfo();
assert.equal(info.Messages, 2);
assert.equal(info.Unread, 2);
assert.match(info.Version, /^smtpkit /);

const list = await mailpit.listMessages();
assert.equal(list.total, 2);
assert.deepEqual(list.messages.map((m) => m.Subject), ["Second one", "First one"]);
const first = list.messages[1];
assert.equal(first.From.Address, "alice@example.test");
assert.equal(first.Attachments, 1);
assert.equal((await mailpit.listMessages(1, 1)).messages[0].ID, first.ID);

const latest = await mailpit.getMessageSummary();  // "latest"
assert.equal(latest.Subject, "Second one");
const summary = await mailpit.getMessageSummary(first.ID);
assert.equal(summary.Text, "plain words here\n");
assert.equal(summary.Attachments[0].FileName, "data.bin");

const headers = await mailpit.getMessageHeaders(first.ID);
assert.deepEqual(headers.Subject, ["First one"]);

const source = await mailpit.getMessageSource(first.ID);
assert.match(source, /^Subject: First one\r?$/m);

const part = await mailpit.getMessageAttachment(first.ID, summary.Attachments[0].PartID);
assert.equal(Buffer.from(await part.arrayBuffer()).toString("latin1"), "binary attachment");

assert.equal(await mailpit.renderMessageText(first.ID), "plain words here\n");
assert.match(await mailpit.renderMessageHTML(first.ID), /<b>words<\/b>/);

const found = await mailpit.searchMessages({ query: "from:zed" });
assert.deepEqual(found.messages.map((m) => m.Subject), ["Second one"]);
const waited = await mailpit.waitForMessage({ query: "subject:First" }, { timeout: 5000, interval: 100 });
assert.equal(waited.Subject, "First one");

await mailpit.setReadStatus({ IDs: [first.ID], Read: false });
assert.deepEqual((await mailpit.searchMessages({ query: "is:unread" })).messages.map((m) => m.Subject), ["First one"]);

const chaos = await mailpit.setChaosTriggers({ Sender: { ErrorCode: 421, Probability: 5 } });
assert.deepEqual(chaos.Sender, { ErrorCode: 421, Probability: 5 });
await mailpit.setChaosTriggers();
assert.equal((await mailpit.getChaosTriggers()).Sender.Probability, 0);

await mailpit.deleteMessagesBySearch({ query: "from:zed" });
assert.equal((await mailpit.listMessages()).total, 1);
await mailpit.deleteMessages({ IDs: [first.ID] });
assert.equal((await mailpit.getInfo()).Messages, 0);
console.log("mailpit-api: ok");
