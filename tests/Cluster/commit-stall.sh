#!/usr/bin/env bash
# Does killing one Galera node stall the other nodes' commits? (docs/scale-out.md, "When a node dies".) Against the
# running ./dev cluster: one client per node on nodes 1 and 2 commits a row per statement, as fast as it can, while node
# 3 is killed (SIGKILL) and 25 s later started again; then every pause over 0.5 s between one client's consecutive
# commits is printed. Not part of ./dev test; it leaves the cluster as it found it, with a database monolith_stall.
set -u
cd "$(dirname "$0")/../.."
q() { mariadb -h127.0.0.1 -P"$1" -umonolith -pmonolith -N -e "$2"; }
q 3316 "DROP DATABASE IF EXISTS monolith_stall; CREATE DATABASE monolith_stall;
        CREATE TABLE monolith_stall.t (id INT AUTO_INCREMENT PRIMARY KEY, node INT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))"
sleep 2
clients=()
for n in 1 2; do
  (yes "INSERT INTO monolith_stall.t (node) VALUES ($n);" | head -n 400000 | mariadb -h127.0.0.1 -P33${n}6 -umonolith -pmonolith) &
  clients+=($!)
done
sleep 5
echo "node 3 killed at $(date -u +%T.%3N)"
./dev cluster kill 3
sleep 25
echo "node 3 started at $(date -u +%T.%3N)"
./dev cluster >/dev/null 2>&1
echo "node 3 synced at  $(date -u +%T.%3N)"
sleep 10
pkill -P "$(echo "${clients[@]}" | tr ' ' ',')" 2>/dev/null; kill "${clients[@]}" 2>/dev/null
wait 2>/dev/null
for n in 1 2; do
  echo "client on node $n: $(q 3316 "SELECT COUNT(*) FROM monolith_stall.t WHERE node = $n") commits; pauses over 0.5 s (from, to, seconds):"
  q 3316 "WITH c AS (SELECT at, ROW_NUMBER() OVER (ORDER BY id) r FROM monolith_stall.t WHERE node = $n)
          SELECT TIME(a.at), TIME(b.at), ROUND(TIMESTAMPDIFF(MICROSECOND, a.at, b.at) / 1e6, 1) FROM c a JOIN c b ON b.r = a.r + 1
          WHERE TIMESTAMPDIFF(MICROSECOND, a.at, b.at) > 500000"
done
