import pino from "pino";

// One structured logger for the server library and the proxy. Secrets never go in: callers log ids.
export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: process.env.SERVICE_NAME ?? "control-plane" },
  redact: ["password", "*.password", "key", "*.key", "authorization", "*.authorization"],
});
