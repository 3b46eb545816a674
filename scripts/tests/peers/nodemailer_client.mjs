// nodemailer_client.mjs — Nodemailer (the npm package, unchanged, installed
// by scripts/setup.sh into .deps/npm) sends one message file as it is, for
// `smtpkit probe client` (scripts/tests/peers/probe_clients.py).
//
//   node nodemailer_client.mjs --package DIR --host H --port P --message FILE
//       --from A --to A [--to A]... [--name EHLO] [--ca PEM] [--tls opportunistic|required]
//
// The transport is set up as its documentation says for a server on port
// 587-style STARTTLS: secure: false; Nodemailer then upgrades with STARTTLS
// whenever the server offers it (opportunistic, its default), or refuses to
// go on without it with --tls required (requireTLS). The certificate is
// checked against --ca only (tls.ca) and the host name (Node's default
// rejectUnauthorized). `name` is the EHLO name. The message goes as `raw`
// with an explicit envelope (Nodemailer does not rewrite a raw message; its
// data stream dot-stuffs and turns line ends into CRLF), and the envelope's
// use8BitMime asks for BODY=8BITMIME where the server offers 8BITMIME.
//
// Exit status: 0 the server accepted the message for every recipient
// (info.rejected empty); 1 sendMail failed or some recipient was rejected;
// 2 usage error. One line on stderr says why.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

let opts;
try {
  opts = parseArgs({
    options: {
      package: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      message: { type: "string" },
      from: { type: "string", default: "" },
      to: { type: "string", multiple: true },
      name: { type: "string", default: "client.smtpkit.test" },
      ca: { type: "string" },
      tls: { type: "string", default: "opportunistic" },
      timeout: { type: "string", default: "30" },
    },
  }).values;
  if (!opts.package || !opts.host || !opts.port || !opts.message || !opts.to)
    throw new Error("--package, --host, --port, --message and --to are needed");
  if (!["opportunistic", "required"].includes(opts.tls)) throw new Error("--tls opportunistic|required");
} catch (e) {
  console.error("nodemailer_client: " + e.message);
  process.exit(2);
}

const require = createRequire(path.join(path.resolve(opts.package), "index.js"));
const nodemailer = require(path.resolve(opts.package));
const ms = Number(opts.timeout) * 1000;
const transporter = nodemailer.createTransport({
  host: opts.host,
  port: Number(opts.port),
  secure: false,
  requireTLS: opts.tls === "required",
  name: opts.name,
  tls: opts.ca ? { ca: [fs.readFileSync(opts.ca)] } : {},
  connectionTimeout: ms,
  greetingTimeout: ms,
  socketTimeout: ms,
});

try {
  const info = await transporter.sendMail({
    // use8BitMime: BODY=8BITMIME on MAIL when the server offers 8BITMIME
    // (SMTPConnection's envelope option; the raw message may hold 8-bit text).
    envelope: { from: opts.from, to: opts.to, use8BitMime: true },
    raw: fs.readFileSync(opts.message),
  });
  if (info.rejected && info.rejected.length) {
    const why = (info.rejectedErrors ?? []).map((e) => e.response);
    console.error("nodemailer_client: rejected: " + info.rejected.join(", ") + " " + JSON.stringify(why));
    process.exit(1);
  }
  console.log("nodemailer_client: " + info.response);
  process.exit(0);
} catch (e) {
  console.error("nodemailer_client: " + (e.code ? e.code + ": " : "") + e.message);
  process.exit(1);
}
