import { answering, openParked, type OpenOptions } from "./parked-clients";
import type { Target } from "./lib";

// A process of bench:sessions that opens parked sessions and holds them until told to close them. The
// bench needs more client connections than one process may have file descriptors (`ulimit -n`), so each
// of these holds a share. Messages: open -> opened, ping -> pinged, close (it exits).

export type HolderRequest = { type: "open"; target: Target; count: number; options: OpenOptions } | { type: "ping" } | { type: "close" };
export type HolderReply = { type: "opened"; held: number; failures: [string, number][] } | { type: "pinged"; answering: number };

let held: Awaited<ReturnType<typeof openParked>>["held"] = [];
const reply = (message: HolderReply) => process.send!(message);

process.on("message", (message: HolderRequest) => {
  void (async () => {
    switch (message.type) {
      case "open": {
        const opened = await openParked(message.target, message.count, message.options);
        held = opened.held;
        reply({ type: "opened", held: held.length, failures: [...opened.failures] });
        break;
      }
      case "ping":
        reply({ type: "pinged", answering: await answering(held) });
        break;
      case "close":
        for (const conn of held) conn.destroy();
        process.exit(0);
    }
  })();
});
process.on("disconnect", () => process.exit(0)); // the bench is gone
