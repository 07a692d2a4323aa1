// A socket.io client (the npm socket.io-client) for the integration tests: connects, prints
// every event it receives as one JSON line on stdout, and exits when stdin closes.
//
//   node sio-client.mjs URL [--token T] [--transport websocket|polling] [--count-mqtt]
//                           [--count-all] [--stall-until FILE]
//
// --count-mqtt  print `mqtt:message` events as running counts (a `count` line every 100 ms)
//               instead of one line each;
// --count-all   count every event by name instead of printing it: a `counts` line every
//               second (for long runs; connect, disconnect and errors are still printed);
// --stall-until FILE  right after connecting, block the event loop until FILE exists (a client
//               that stops reading), then print {"event":"resumed"}.
import { existsSync } from "node:fs";
import { io } from "socket.io-client";

const args = process.argv.slice(2);
const url = args[0];
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const token = option("--token");
const transport = option("--transport") ?? "websocket";
const stallUntil = option("--stall-until");
const countAll = args.includes("--count-all");
const countMqtt = countAll || args.includes("--count-mqtt");
const counts = {};

const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");
let mqttCount = 0;
let lastTopic = null;

const socket = io(url, {
  transports: [transport],
  reconnection: false,
  auth: token === undefined ? undefined : { token },
});

socket.on("connect", () => {
  out({ event: "connect" });
  if (stallUntil !== undefined) {
    out({ event: "stalled" });
    setImmediate(() => {
      while (!existsSync(stallUntil)) {
        // a stalled client: nothing is read from the socket meanwhile
      }
      out({ event: "resumed" });
    });
  }
});
socket.on("connect_error", (error) => {
  out({ event: "connect_error", message: error.message });
  process.exit(0);
});
socket.on("disconnect", (reason) => out({ event: "disconnect", reason }));
socket.onAny((event, data) => {
  if (countMqtt && event === "mqtt:message") {
    mqttCount += 1;
    lastTopic = data.topic;
    return;
  }
  if (countAll) {
    counts[event] = (counts[event] ?? 0) + 1;
    return;
  }
  out({ event, data });
});
if (countAll) {
  setInterval(() => out({ event: "counts", mqtt: mqttCount, ...counts }), 1000);
}
if (countMqtt && !countAll) {
  setInterval(() => out({ event: "count", mqtt: mqttCount, last_topic: lastTopic }), 100);
}
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
