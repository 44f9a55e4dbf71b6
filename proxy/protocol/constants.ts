// MySQL / MariaDB client-server protocol constants used by the proxy.
// References: MariaDB's "Connection" protocol pages; go-mysql server/*.go; TiProxy pkg/proxy/net/mysql.go.

export const Capability = {
  LONG_PASSWORD: 1, // MariaDB: "CLIENT_MYSQL" - a client without MariaDB extended capabilities sets it
  FOUND_ROWS: 2,
  LONG_FLAG: 4,
  CONNECT_WITH_DB: 8,
  NO_SCHEMA: 16,
  COMPRESS: 32,
  ODBC: 64,
  LOCAL_FILES: 128,
  IGNORE_SPACE: 256,
  PROTOCOL_41: 512,
  INTERACTIVE: 1024,
  SSL: 2048,
  IGNORE_SIGPIPE: 4096,
  TRANSACTIONS: 8192,
  RESERVED: 16384,
  SECURE_CONNECTION: 32768,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  CAN_HANDLE_EXPIRED_PASSWORDS: 1 << 22,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
  ZSTD_COMPRESSION: 1 << 26,
} as const;

export const Command = {
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  PROCESS_KILL: 0x0c,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
} as const;

export const ServerStatus = { AUTOCOMMIT: 0x0002 } as const;

export const NATIVE_PASSWORD = "mysql_native_password";

/** MariaDB error codes the proxy sends itself. */
export const ErrorCode = {
  ACCESS_DENIED: 1045, // SQLSTATE 28000
  HANDSHAKE: 1043, // 08S01 bad handshake
  UNKNOWN_COM: 1047, // 08S01
  NO_SUCH_THREAD: 1094, // HY000
  CON_COUNT: 1040, // 08004 too many connections
  SERVER_SHUTDOWN: 1053, // 08S01
  UNAVAILABLE: 1158, // 08S01 (network read error) - used for "compute unavailable"
  SECURE_TRANSPORT_REQUIRED: 3159, // HY000 (MySQL 5.7+; MariaDB clients show the message)
  HOST_BLOCKED: 1129, // HY000
  QUOTA: 1226, // 42000 ER_USER_LIMIT_REACHED
} as const;

/** The largest payload of one packet; longer payloads continue in further packets. */
export const MAX_PAYLOAD = 0xffffff;
