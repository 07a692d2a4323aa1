// Connects and disconnects a socket.io client (the npm socket.io-client) again and again, for
// the leak tests: each cycle waits for the connection and both first snapshots
// (`config:update`, `devices:update`: the server has nothing more to send), then disconnects. Alternates WebSocket and long-polling clients. Prints one JSON line at the end.
//
//   node sio-cycles.mjs URL CYCLES
import { io } from "socket.io-client";

const [url, cyclesText] = process.argv.slice(2);
const cycles = Number(cyclesText);

const once = (transport) =>
  new Promise((resolve, reject) => {
    const socket = io(url, { transports: [transport], reconnection: false, forceNew: true });
    const timer = setTimeout(() => reject(new Error(`no snapshots over ${transport}`)), 20000);
    const seen = new Set();
    socket.on("connect_error", (error) => reject(error));
    const saw = (event) => () => {
      seen.add(event);
      if (seen.size === 2) {
        clearTimeout(timer);
        // Let the server go idle with this client, then leave.
        setTimeout(() => {
          socket.disconnect();
          resolve();
        }, 5);
      }
    };
    socket.on("config:update", saw("config"));
    socket.on("devices:update", saw("devices"));
  });

for (let i = 0; i < cycles; i += 1) {
  await once(i % 2 === 0 ? "websocket" : "polling");
}
process.stdout.write(JSON.stringify({ event: "done", cycles }) + "\n");
process.exit(0);
