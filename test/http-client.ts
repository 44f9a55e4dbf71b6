import http from "node:http";

// Raw HTTP for the front-door tests: a chosen local address (all of 127/8 is loopback, so each test can
// be a client of its own), and request bodies streamed at the server, possibly far larger than it accepts.

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

export interface RawRequest {
  port: number;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  localAddress?: string;
}

export function request(o: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: o.port, method: o.method ?? "GET", path: o.path, headers: o.headers, localAddress: o.localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/**
 * POST `totalBytes` of filler at the server, in 1 MiB writes that respect backpressure, with a
 * Content-Length or chunked; stops writing as soon as the server answers. Resolves with the answer's
 * status and how much was sent by then.
 */
export function postHuge(o: { port: number; path: string; totalBytes: number; chunked: boolean; contentType: string }): Promise<{ status: number; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const headers: Record<string, string> = { "content-type": o.contentType };
    if (!o.chunked) headers["content-length"] = String(o.totalBytes);
    const req = http.request({ host: "127.0.0.1", port: o.port, method: "POST", path: o.path, headers, agent: false }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sentBytes: sent });
      req.destroy();
    });
    // Once the server answers and closes, further writes fail: that is expected.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const pump = () => {
      while (!answered && sent < o.totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
