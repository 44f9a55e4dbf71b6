// The connection panel as data: one generator per client, keyed by client; one component renders any of
// them with a Copy button (components/projects/connection-panel.tsx). The password is put in only while it
// is shown (right after creation or a reset); otherwise a placeholder says where it goes.

export interface ConnectionInfo {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Known only right after creation or a reset. */
  password: string | null;
}

export interface Snippet {
  label: string;
  /** For the screen reader and the code block's heading. */
  language: string;
  render(c: ConnectionInfo): string;
}

const PLACEHOLDER = "<password>";
const q = (s: string) => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'");

export function connectionUri(c: ConnectionInfo): string {
  const password = c.password === null ? PLACEHOLDER : encodeURIComponent(c.password);
  return `mysql://${encodeURIComponent(c.user)}:${password}@${c.host}:${c.port}/${c.database}`;
}

export const CONNECTION_SNIPPETS = {
  cli: {
    label: "mariadb CLI",
    language: "shell",
    render: (c) =>
      `mariadb -h ${c.host} -P ${c.port} -u ${c.user} ${c.password === null ? "-p" : `-p'${c.password.replace(/'/g, "'\\''")}'`} ${c.database}`,
  },
  uri: { label: "URI", language: "text", render: connectionUri },
  node: {
    label: "Node.js (mysql2)",
    language: "javascript",
    render: (c) =>
      [
        `import mysql from "mysql2/promise";`,
        ``,
        `const conn = await mysql.createConnection({`,
        `  host: "${c.host}",`,
        `  port: ${c.port},`,
        `  user: "${c.user}",`,
        `  password: ${c.password === null ? "process.env.MARIADB_PASSWORD" : JSON.stringify(c.password)},`,
        `  database: "${c.database}",`,
        `});`,
      ].join("\n"),
  },
  python: {
    label: "Python (PyMySQL)",
    language: "python",
    render: (c) =>
      [
        `import pymysql`,
        ``,
        `conn = pymysql.connect(`,
        `    host="${c.host}",`,
        `    port=${c.port},`,
        `    user="${c.user}",`,
        `    password=${c.password === null ? 'os.environ["MARIADB_PASSWORD"]' : `'${q(c.password)}'`},`,
        `    database="${c.database}",`,
        `)`,
      ].join("\n"),
  },
  java: {
    label: "Java (JDBC URL)",
    language: "java",
    render: (c) =>
      `jdbc:mariadb://${c.host}:${c.port}/${c.database}?user=${encodeURIComponent(c.user)}&password=${c.password === null ? PLACEHOLDER : encodeURIComponent(c.password)}`,
  },
  php: {
    label: "PHP (PDO DSN)",
    language: "php",
    render: (c) =>
      [
        `$pdo = new PDO(`,
        `    "mysql:host=${c.host};port=${c.port};dbname=${c.database};charset=utf8mb4",`,
        `    "${c.user}",`,
        `    ${c.password === null ? 'getenv("MARIADB_PASSWORD")' : `'${q(c.password)}'`}`,
        `);`,
      ].join("\n"),
  },
} satisfies Record<string, Snippet>;

export type SnippetClient = keyof typeof CONNECTION_SNIPPETS;
export const SNIPPET_CLIENTS = Object.keys(CONNECTION_SNIPPETS) as SnippetClient[];
