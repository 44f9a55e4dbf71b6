// A Java application on MariaDB Connector/J's own pool, driven by test/proxy-parking-clients.int.test.ts:
// it borrows `sessions` connections from the pool, gives each its own state (database, SET NAMES,
// time_zone, isolation, user variables, a row whose id LAST_INSERT_ID() keeps, and a server-side
// prepared statement), prints what each session looks like as one JSON line, waits for a line on stdin
// (the test parks the sessions and suspends the compute meanwhile), then asks everything again on the
// same connections - executing the same prepared statement, i.e. its original server id - and prints it.
//
// Run as a single-file program: java -cp mariadb-java-client.jar ParkingClient.java <port> <user>
//   <password> <sessions> <snapshot query>...
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.mariadb.jdbc.MariaDbPoolDataSource;
import org.mariadb.jdbc.ServerSidePreparedStatement;

public class ParkingClient {
  static final String[] ZONES = {"+05:30", "-03:00", "+09:00"};
  static final String[] COLLATIONS = {"utf8mb4_unicode_ci", "utf8mb4_general_ci", "utf8mb4_bin"};
  static final int[] ISOLATIONS = {
    Connection.TRANSACTION_SERIALIZABLE, Connection.TRANSACTION_READ_COMMITTED, Connection.TRANSACTION_READ_UNCOMMITTED
  };
  static final String PREPARED =
      "SELECT ? + @n AS total, @who AS who, (SELECT name FROM items WHERE id = LAST_INSERT_ID()) AS item";

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int sessions = Integer.parseInt(args[3]);
    List<String> snapshotQueries = List.of(args).subList(4, args.length);

    MariaDbPoolDataSource pool = new MariaDbPoolDataSource();
    // No database in the URL: each session picks it itself (setCatalog), as the state under test.
    pool.setUrl("jdbc:mariadb://127.0.0.1:" + port + "/?useServerPrepStmts=true&cachePrepStmts=false"
        + "&minPoolSize=" + sessions + "&maxPoolSize=" + sessions + "&connectTimeout=30000");
    pool.setUser(args[1]);
    pool.setPassword(args[2]);

    List<Connection> conns = new ArrayList<>();
    List<PreparedStatement> statements = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      Connection conn = pool.getConnection();
      conn.setCatalog("main");
      conn.setTransactionIsolation(ISOLATIONS[i % ISOLATIONS.length]);
      try (Statement st = conn.createStatement()) {
        st.execute("SET NAMES utf8mb4 COLLATE " + COLLATIONS[i % COLLATIONS.length]);
        st.execute("SET time_zone = '" + ZONES[i % ZONES.length] + "'");
        st.execute("SET @who = 'java session " + i + "', @n = " + (i * 10));
        st.execute("INSERT INTO items (name) VALUES ('java item " + i + "')");
      }
      conns.add(conn);
      PreparedStatement ps = conn.prepareStatement(PREPARED);
      // useServerPrepStmts: a binary-protocol statement the server prepared (COM_STMT_PREPARE), not text.
      if (!ps.isWrapperFor(ServerSidePreparedStatement.class)) throw new IllegalStateException("not a server-side statement: " + ps.getClass());
      statements.add(ps);
    }
    System.out.println(report(conns, statements, snapshotQueries));
    System.out.flush();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    if (in.readLine() == null) throw new IllegalStateException("stdin closed before the go-ahead");
    System.out.println(report(conns, statements, snapshotQueries));
    System.out.flush();

    for (PreparedStatement s : statements) s.close();
    // The connections are not handed back to the pool: Connector/J 2.7's reset on return sends
    // COM_INIT_DB with the URL's database, and with none in the URL it throws a NullPointerException (a
    // driver bug, whatever the server). Nor is the pool closed: its close waits 10 s for connections in
    // use. The program ends as an application would, its sockets closed by the exit.
    System.exit(0);
  }

  /** {"sessions": [{"snapshot": [rows of each query], "prepared": rows}]}, every value as text. */
  static String report(List<Connection> conns, List<PreparedStatement> statements, List<String> queries) throws SQLException {
    StringBuilder out = new StringBuilder("{\"sessions\":[");
    for (int i = 0; i < conns.size(); i++) {
      if (i > 0) out.append(',');
      out.append("{\"snapshot\":[");
      try (Statement st = conns.get(i).createStatement()) {
        for (int q = 0; q < queries.size(); q++) {
          if (q > 0) out.append(',');
          try (ResultSet rs = st.executeQuery(queries.get(q))) {
            rows(rs, out);
          }
        }
      }
      out.append("],\"prepared\":");
      PreparedStatement ps = statements.get(i);
      ps.setInt(1, 1);
      try (ResultSet rs = ps.executeQuery()) {
        rows(rs, out);
      }
      out.append('}');
    }
    return out.append("]}").toString();
  }

  static void rows(ResultSet rs, StringBuilder out) throws SQLException {
    ResultSetMetaData meta = rs.getMetaData();
    out.append('[');
    boolean first = true;
    while (rs.next()) {
      if (!first) out.append(',');
      first = false;
      out.append('[');
      for (int c = 1; c <= meta.getColumnCount(); c++) {
        if (c > 1) out.append(',');
        json(rs.getString(c), out);
      }
      out.append(']');
    }
    out.append(']');
  }

  static void json(String s, StringBuilder out) {
    if (s == null) {
      out.append("null");
      return;
    }
    out.append('"');
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\') out.append('\\').append(ch);
      else if (ch < 0x20) out.append(String.format("\\u%04x", (int) ch));
      else out.append(ch);
    }
    out.append('"');
  }
}
