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
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  SHUTDOWN: 0x08,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  TIME: 0x0f,
  DELAYED_INSERT: 0x10,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
  TABLE_DUMP: 0x13,
  CONNECT_OUT: 0x14,
  REGISTER_SLAVE: 0x15,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  DAEMON: 0x1d,
  BINLOG_DUMP_GTID: 0x1e,
  RESET_CONNECTION: 0x1f,
  STMT_BULK_EXECUTE: 0xfa,
} as const;

/** Status flags of OK and EOF packets (server_status). */
export const ServerStatus = {
  IN_TRANS: 0x0001,
  AUTOCOMMIT: 0x0002,
  MORE_RESULTS_EXISTS: 0x0008,
  NO_GOOD_INDEX_USED: 0x0010,
  NO_INDEX_USED: 0x0020,
  CURSOR_EXISTS: 0x0040,
  LAST_ROW_SENT: 0x0080,
  DB_DROPPED: 0x0100,
  NO_BACKSLASH_ESCAPES: 0x0200,
  METADATA_CHANGED: 0x0400,
  QUERY_WAS_SLOW: 0x0800,
  PS_OUT_PARAMS: 0x1000,
  IN_TRANS_READONLY: 0x2000,
  SESSION_STATE_CHANGED: 0x4000,
} as const;

/** MariaDB's extended capabilities (the greeting's and handshake response's upper 32 bits). */
export const ExtendedCapability = {
  PROGRESS: 1 << 0,
  COM_MULTI: 1 << 1,
  STMT_BULK_OPERATIONS: 1 << 2,
  EXTENDED_TYPE_INFO: 1 << 3,
  CACHE_METADATA: 1 << 4,
} as const;

/** Entry types of the session-state information in an OK packet (CLIENT_SESSION_TRACK). */
export const SessionTrack = {
  SYSTEM_VARIABLES: 0,
  SCHEMA: 1,
  STATE_CHANGE: 2,
  GTIDS: 3,
  TRANSACTION_CHARACTERISTICS: 4,
  TRANSACTION_STATE: 5,
} as const;

/** COM_STMT_EXECUTE flags. */
export const CursorType = { NO_CURSOR: 0, READ_ONLY: 1, FOR_UPDATE: 2, SCROLLABLE: 4 } as const;

export const NATIVE_PASSWORD = "mysql_native_password";

/** MariaDB error codes the proxy sends itself. */
export const ErrorCode = {
  ACCESS_DENIED: 1045, // SQLSTATE 28000
  HANDSHAKE: 1043, // 08S01 bad handshake
  UNKNOWN_COM: 1047, // 08S01
  NO_SUCH_THREAD: 1094, // HY000
  CONNECTION_KILLED: 1927, // 70100
  CON_COUNT: 1040, // 08004 too many connections
  SERVER_SHUTDOWN: 1053, // 08S01
  UNAVAILABLE: 1158, // 08S01 (network read error) - used for "compute unavailable"
  SECURE_TRANSPORT_REQUIRED: 3159, // HY000 (MySQL 5.7+; MariaDB clients show the message)
  HOST_BLOCKED: 1129, // HY000
  QUOTA: 1226, // 42000 ER_USER_LIMIT_REACHED
} as const;

/** The largest payload of one packet; longer payloads continue in further packets. */
export const MAX_PAYLOAD = 0xffffff;
