import path from "node:path";

// Where one compute's files live. Everything of a compute is inside its own directory so that destroy is a
// single rm -rf and a compute can be found again from the file system alone after a control-plane restart.

export interface ComputePaths {
  /** `<dataDir>/computes/<computeId>` */
  dir: string;
  /** mariadbd's --datadir; its presence means the compute has storage. */
  data: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  initFile: string;
  /** The only directory SELECT ... INTO OUTFILE / LOAD DATA INFILE may touch (--secure-file-priv). */
  files: string;
  /** mariadbd's --tmpdir: temporary files of large sorts and ALTER TABLE, on the compute's own disk. */
  tmp: string;
}

// The id becomes a path component: anything that could climb out of computes/ or split a path is refused.
const COMPUTE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

// sun_path is 108 bytes on Linux, including the terminating NUL; mariadbd fails late and obscurely beyond it.
const MAX_SOCKET_PATH_BYTES = 107;

export function computePaths(dataDir: string, computeId: string): ComputePaths {
  if (!COMPUTE_ID.test(computeId)) {
    throw new Error(`invalid compute id ${JSON.stringify(computeId)}`);
  }
  const dir = path.join(path.resolve(dataDir), "computes", computeId);
  const paths: ComputePaths = {
    dir,
    data: path.join(dir, "data"),
    socket: path.join(dir, "mysqld.sock"),
    pidFile: path.join(dir, "mysqld.pid"),
    errorLog: path.join(dir, "error.log"),
    initFile: path.join(dir, "init.sql"),
    files: path.join(dir, "files"),
    tmp: path.join(dir, "tmp"),
  };
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `unix socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter DATA_DIR`,
    );
  }
  return paths;
}

export function templatesDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), "templates");
}
