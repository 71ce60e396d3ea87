#!/bin/bash
# Median Execution Time (EXPLAIN (ANALYZE, BUFFERS), 5 runs) of the search statements the gateway
# sends for `licenses(search: $s, first: 20) { totalCount ... }` on licensedot_bench_lic: the
# page (21 ids, best matches first, then newest) and the count (capped at 1,001 rows).
# `before` runs the statements of the previous search (a UNION over the five text columns,
# exact count), which still works after the migration since its indexes remain.
# The third statement of a search page, the 21 licenses by primary key, is left out (0.25–0.4 ms).
# Usage: crates/bench/scripts/search-explain.sh before|after
mode=$1
PSQL="psql -X -q -U postgres -h 127.0.0.1 licensedot_bench_lic"
ms() { $PSQL -c "EXPLAIN (ANALYZE, BUFFERS) $1" | sed -n 's/.*Execution Time: \([0-9.]*\) ms/\1/p'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for s in tyrell motors onyx capi gekko aerosp; do
  if [ "$mode" = before ]; then
    p="%$s%"
    sub="SELECT id FROM licenses WHERE lower(licensee_name) LIKE '$p' OR lower(licensee_email) LIKE '$p' OR lower(licensee_company) LIKE '$p' UNION SELECT id FROM licenses WHERE customer_id IN (SELECT id FROM customers WHERE lower(name) LIKE '$p') UNION SELECT id FROM licenses WHERE contact_id IN (SELECT id FROM contacts WHERE lower(name) LIKE '$p' OR lower(email) LIKE '$p')"
    page="SELECT * FROM licenses WHERE id IN ($sub) ORDER BY issued_at DESC, id DESC LIMIT 21"
    count="SELECT count(*) FROM licenses WHERE id IN ($sub)"
  else
    nl="chr(10)"
    rank="CASE WHEN strpos(document, $nl || '$s' || $nl) > 0 THEN 0 WHEN strpos(document, $nl || '$s') > 0 OR strpos(document, ' $s') > 0 THEN 1 ELSE 2 END"
    page="SELECT license_id FROM license_search WHERE document LIKE '%$s%' ESCAPE '\\' AND TRUE ORDER BY $rank ASC, issued_at DESC, license_id DESC LIMIT 21 OFFSET 0"
    count="SELECT COUNT(*) AS n FROM (SELECT license_id FROM license_search WHERE document LIKE '%$s%' ESCAPE '\\' AND TRUE LIMIT 1001) AS counted"
  fi
  n=$($PSQL -tA -c "SELECT count(*) FROM license_search WHERE document LIKE '%$s%'")
  p=$(for i in 1 2 3 4 5; do ms "$page"; done | median)
  c=$(for i in 1 2 3 4 5; do ms "$count"; done | median)
  echo "$s matches=$n page_ms=$p count_ms=$c sum_ms=$(echo "$p + $c" | bc)"
done
