<?php
// A PHP application on PDO mysql, driven by test/proxy-parking-clients.int.test.ts: it opens `sessions`
// connections, gives each its own state (database, SET NAMES, time_zone, isolation, user variables, a row
// whose id LAST_INSERT_ID() keeps, and a server-side prepared statement: ATTR_EMULATE_PREPARES off),
// prints what each session looks like as one JSON line, waits for a line on stdin (the test parks the
// sessions and suspends the compute meanwhile), then asks everything again on the same connections -
// executing the same prepared statement, i.e. its original server id - and prints it.
//
// php parking-client.php <port> <user> <password> <sessions> <snapshot query>...
[, $port, $user, $password, $sessions] = $argv;
$snapshotQueries = array_slice($argv, 5);
$zones = ['+05:30', '-03:00', '+09:00'];
$collations = ['utf8mb4_unicode_ci', 'utf8mb4_general_ci', 'utf8mb4_bin'];
$isolations = ['SERIALIZABLE', 'READ COMMITTED', 'READ UNCOMMITTED'];
const PREPARED = 'SELECT ? + @n AS total, @who AS who, (SELECT name FROM items WHERE id = LAST_INSERT_ID()) AS item';

$conns = [];
$statements = [];
for ($i = 0; $i < (int) $sessions; $i++) {
    // No database in the DSN: each session picks it itself (USE), as the state under test.
    $pdo = new PDO("mysql:host=127.0.0.1;port=$port;charset=utf8mb4", $user, $password, [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false,
        PDO::ATTR_TIMEOUT => 30,
    ]);
    $pdo->exec('USE main');
    $pdo->exec('SET NAMES utf8mb4 COLLATE ' . $collations[$i % 3]);
    $pdo->exec("SET time_zone = '" . $zones[$i % 3] . "'");
    $pdo->exec('SET SESSION TRANSACTION ISOLATION LEVEL ' . $isolations[$i % 3]);
    $pdo->exec("SET @who = 'php session $i', @n = " . ($i * 10));
    $pdo->exec("INSERT INTO items (name) VALUES ('php item $i')");
    $conns[] = $pdo;
    $statements[] = $pdo->prepare(PREPARED);
}

/** Every value as text (or null), rows as lists. */
function rows(PDOStatement $st): array
{
    return array_map(
        fn ($row) => array_map(fn ($v) => $v === null ? null : (string) $v, $row),
        $st->fetchAll(PDO::FETCH_NUM)
    );
}

function report(array $conns, array $statements, array $queries): string
{
    $sessions = [];
    foreach ($conns as $i => $pdo) {
        $snapshot = [];
        foreach ($queries as $q) $snapshot[] = rows($pdo->query($q));
        $statements[$i]->execute([1]);
        $sessions[] = ['snapshot' => $snapshot, 'prepared' => rows($statements[$i])];
        $statements[$i]->closeCursor();
    }
    return json_encode(['sessions' => $sessions], JSON_THROW_ON_ERROR);
}

echo report($conns, $statements, $snapshotQueries), "\n";
if (fgets(STDIN) === false) throw new RuntimeException('stdin closed before the go-ahead');
echo report($conns, $statements, $snapshotQueries), "\n";
