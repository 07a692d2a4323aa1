// Raw engine.io WebSocket sessions against the manager's socket.io endpoint, written by hand
// (the `ws` package that socket.io-client brings) to send what a well-behaved client never
// would. Prints one JSON line per session outcome, then a summary line.
//
//   node sio-raw.mjs bomb URL COUNT AUTH_BYTES [TOKEN]
//       opens COUNT sessions at once; each sends one CONNECT whose `auth` is AUTH_BYTES long
//       (a `token` — TOKEN, or a wrong one — padded); reports how each ended: `connected`,
//       `connect_error`, or `closed` (with the time since its CONNECT).
//   node sio-raw.mjs idle URL COUNT
//       opens COUNT sessions that never send CONNECT; reports `open` (engine.io handshake
//       done), `refused` (the handshake's HTTP status) and `closed` (seconds after open).
import WebSocket from "ws";

const [mode, base, countText, bytesText, token] = process.argv.slice(2);
const count = Number(countText);
const url = base.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const started = Date.now();
const seconds = () => (Date.now() - started) / 1000;

const session = (index) =>
  new Promise((resolve) => {
    const socket = new WebSocket(url, { maxPayload: 1024 * 1024 });
    let sentAt = null;
    let outcome = null;
    const finish = (line) => {
      if (outcome === null) {
        outcome = line.outcome;
        out({ index, ...line });
      }
    };
    socket.on("unexpected-response", (_request, response) => {
      finish({ outcome: "refused", status: response.statusCode });
      resolve("refused");
    });
    socket.on("error", (error) => {
      finish({ outcome: "error", message: String(error.message) });
      resolve("error");
    });
    socket.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith("0")) {
        if (mode === "idle") {
          out({ index, outcome: "open", at: seconds() });
          return;
        }
        const auth = { token: token ?? "wrong-token", pad: "" };
        const padding = Math.max(0, Number(bytesText) - JSON.stringify(auth).length);
        auth.pad = "x".repeat(padding);
        sentAt = Date.now();
        socket.send("40" + JSON.stringify(auth));
      } else if (text.startsWith("2")) {
        socket.send("3");
      } else if (text.startsWith("40")) {
        finish({ outcome: "connected", after: (Date.now() - sentAt) / 1000 });
        socket.close();
      } else if (text.startsWith("44")) {
        finish({ outcome: "connect_error", message: text.slice(2, 200) });
      }
    });
    socket.on("close", (code) => {
      const after = sentAt === null ? null : (Date.now() - sentAt) / 1000;
      out({ index, outcome: "closed", code, at: seconds(), after });
      if (outcome === null) {
        outcome = "closed";
      }
      resolve(outcome);
    });
  });

const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => session(i)));
const summary = {};
for (const outcome of outcomes) {
  summary[outcome] = (summary[outcome] ?? 0) + 1;
}
out({ event: "done", summary, seconds: seconds() });
process.exit(0);
