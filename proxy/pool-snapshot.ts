// What a proxy process reports about one compute's server connections when it multiplexes client sessions
// over them (issue 15: proxy/connection-broker.ts produces it; the activity reporter writes it to the
// ProxyActivity row, the compute's status sums it over live proxies, and the metrics sum it over computes).
// One shape for both ends: the server's summed PoolActivity is what each proxy reports.

export type { PoolActivity as PoolSnapshot } from "@/server/proxy-activity/live-activity";
