#!/usr/bin/env bash
# End to end: capture -> segments -> replay between two real MariaDB servers,
# over a workload that covers every type of issue 2 at its limits, awkward
# names, DDL, multi-statement and rolled-back transactions and a transaction
# of 25,000 rows. Then: every table equal row by row, a second replay applies
# nothing, a second capture adds nothing, and `inspect --json` is valid JSON.
#
#   bash tests/integration/test_pipeline.sh
#   SLUICE_HARNESS_SELFTEST=1 bash tests/integration/test_pipeline.sh
#       (no sluice needed: applies the workload to the source, copies it with
#        mariadb-dump, and checks that compare_all sees equality and catches
#        injected differences; proves the harness and the workload)
set -euo pipefail
TEST_NAME=test_pipeline
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# Names with a backtick, quotes, spaces, a reserved word and non-ASCII letters.
# shellcheck disable=SC2016 # literal backticks
WDB='sl weird `db` "q" '\''s'\'' ñ'
# shellcheck disable=SC2016
WTB='select `from` "t" '\''x'\'' Ωmega'
WDBQ=$(sql_ident "$WDB")
WTBQ=$(sql_ident "$WTB")

# The schema, created on the source after the first capture so the DDL
# travels through capture and replay too.
schema_sql() {
	cat <<'SQL'
CREATE DATABASE sl_types CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE sl_types;
CREATE TABLE ints (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  b1 BIT(1), b7 BIT(7), b13 BIT(13), b64 BIT(64), bo BOOLEAN
) ENGINE=InnoDB;
CREATE TABLE nums (
  id INT NOT NULL PRIMARY KEY,
  d65 DECIMAL(65,30), d10 DECIMAL(10,2), d650 DECIMAL(65,0), d55 DECIMAL(5,5),
  du DECIMAL(20,6) UNSIGNED, d1 DECIMAL(1,0),
  f FLOAT, dbl DOUBLE, fp FLOAT(7,3), dp DOUBLE(20,10)
) ENGINE=InnoDB;
CREATE TABLE temporal (
  id INT NOT NULL PRIMARY KEY,
  d DATE,
  t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6),
  dt0 DATETIME, dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3),
  dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL, ts1 TIMESTAMP(1) NULL, ts2 TIMESTAMP(2) NULL, ts3 TIMESTAMP(3) NULL,
  ts4 TIMESTAMP(4) NULL, ts5 TIMESTAMP(5) NULL, ts6 TIMESTAMP(6) NULL,
  y YEAR
) ENGINE=InnoDB;
CREATE TABLE zero_dates (
  id INT NOT NULL PRIMARY KEY,
  d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL, y YEAR
) ENGINE=InnoDB;
CREATE TABLE strs (
  id INT NOT NULL PRIMARY KEY,
  c CHAR(10) CHARACTER SET utf8mb4, vc VARCHAR(300) CHARACTER SET utf8mb4,
  vcs VARCHAR(20) CHARACTER SET utf8mb4,
  tt TINYTEXT, tx TEXT CHARACTER SET utf8mb4, mtx MEDIUMTEXT, ltx LONGTEXT CHARACTER SET utf8mb4,
  c_l CHAR(10) CHARACTER SET latin1, vc_l VARCHAR(300) CHARACTER SET latin1,
  tx_l TEXT CHARACTER SET latin1,
  c_bin VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  e ENUM('a','b','ünï','x y',''), s SET('r','w','x','ñ'), big_e ENUM('v0','v1','v2','v3','v4','v5','v6','v7','v8','v9','v10','v11','v12','v13','v14','v15','v16','v17','v18','v19','v20','v21','v22','v23','v24','v25','v26','v27','v28','v29','v30','v31','v32','v33','v34','v35','v36','v37','v38','v39','v40','v41','v42','v43','v44','v45','v46','v47','v48','v49','v50','v51','v52','v53','v54','v55','v56','v57','v58','v59','v60','v61','v62','v63','v64','v65','v66','v67','v68','v69','v70','v71','v72','v73','v74','v75','v76','v77','v78','v79','v80','v81','v82','v83','v84','v85','v86','v87','v88','v89','v90','v91','v92','v93','v94','v95','v96','v97','v98','v99','v100','v101','v102','v103','v104','v105','v106','v107','v108','v109','v110','v111','v112','v113','v114','v115','v116','v117','v118','v119','v120','v121','v122','v123','v124','v125','v126','v127','v128','v129','v130','v131','v132','v133','v134','v135','v136','v137','v138','v139','v140','v141','v142','v143','v144','v145','v146','v147','v148','v149','v150','v151','v152','v153','v154','v155','v156','v157','v158','v159','v160','v161','v162','v163','v164','v165','v166','v167','v168','v169','v170','v171','v172','v173','v174','v175','v176','v177','v178','v179','v180','v181','v182','v183','v184','v185','v186','v187','v188','v189','v190','v191','v192','v193','v194','v195','v196','v197','v198','v199','v200','v201','v202','v203','v204','v205','v206','v207','v208','v209','v210','v211','v212','v213','v214','v215','v216','v217','v218','v219','v220','v221','v222','v223','v224','v225','v226','v227','v228','v229','v230','v231','v232','v233','v234','v235','v236','v237','v238','v239','v240','v241','v242','v243','v244','v245','v246','v247','v248','v249','v250','v251','v252','v253','v254','v255','v256','v257','v258','v259','v260'),
  j JSON
) ENGINE=InnoDB;
CREATE TABLE bins (
  id INT NOT NULL PRIMARY KEY,
  bn BINARY(8), vb VARBINARY(300), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB
) ENGINE=InnoDB;
CREATE TABLE geo (
  id INT NOT NULL PRIMARY KEY,
  g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, gc GEOMETRYCOLLECTION
) ENGINE=InnoDB;
CREATE TABLE nopk (a INT, b VARCHAR(20), f FLOAT, d DATETIME(3), c BLOB) ENGINE=InnoDB;
CREATE TABLE comp (
  a INT NOT NULL, b VARCHAR(20) NOT NULL, c DATE NOT NULL, v INT, w VARCHAR(10),
  PRIMARY KEY (b, a, c)
) ENGINE=InnoDB;
CREATE TABLE pkshift (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE big (id INT NOT NULL PRIMARY KEY, v VARCHAR(50), n BIGINT, r DOUBLE) ENGINE=InnoDB;
SQL
	cat <<SQL
CREATE DATABASE $WDBQ CHARACTER SET utf8mb4;
CREATE TABLE $WDBQ.$WTBQ (
  \`from\` INT NOT NULL,
  \`col \`\`tick\`\` "dq" 'sq'\` VARCHAR(40),
  \`ñandú Ωmega\` INT,
  \`order\` VARCHAR(10) NOT NULL,
  \`select\` TEXT,
  PRIMARY KEY (\`from\`, \`order\`)
) ENGINE=InnoDB;
SQL
}

# The changes. Literal values only where selftest copies must match; limits
# of every type; NULL in every column; sessions with odd time zones.
workload_sql() {
	cat <<'SQL'
USE sl_types;
-- integers and bits at their limits, and a row of NULLs
INSERT INTO ints VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
     b'0', b'0000000', b'0000000000000', b'0000000000000000000000000000000000000000000000000000000000000000', FALSE),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
     b'1', b'1111111', b'1111111111111', b'1111111111111111111111111111111111111111111111111111111111111111', TRUE),
 (3, -1, 128, -1, 32768, -1, 8388608, -1, 2147483648, -1, 9223372036854775808,
     b'1', b'1000000', b'1000000000001', b'1000000000000000000000000000000000000000000000000000000000000001', 42),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE ints SET ti = 0, biu = 1, b64 = b'0101' WHERE id = 3;
-- decimals, floats, doubles
INSERT INTO nums VALUES
 (1, 99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
     99999999999999999999999999999999999999999999999999999999999999999, 0.99999, 99999999999999.999999, 9,
     3.4028234e38, 1.7976931348623157e308, 9999.999, 9999999999.9999999999),
 (2, -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99,
     -99999999999999999999999999999999999999999999999999999999999999999, -0.99999, 0, -9,
     -3.4028234e38, -1.7976931348623157e308, -9999.999, -9999999999.9999999999),
 (3, 0.000000000000000000000000000001, 0.01, 0, 0.00001, 0.000001, 0,
     1.17549435e-38, 2.2250738585072014e-308, 0.001, 0.0000000001),
 (4, -0.000000000000000000000000000001, -0.5, -1, -0.00001, 1.5, -1,
     1.401298e-45, 4.9e-324, -0.001, -0.0000000001),
 (5, 1234.5678, 0, 12345678901234567890, 0.5, 2, 1,
     0.1, 0.1, 1.5, 0.30000000000000004),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE nums SET dbl = 1e0/3e0, f = 1e0/3e0 WHERE id = 5;
-- temporals: inserted in a non-UTC session; TIMESTAMPs stored as UTC instants
SET time_zone = '+05:30';
INSERT INTO temporal VALUES
 (1, '1000-01-01',
     '-838:59:59', '-838:59:59.9', '-838:59:59.99', '-838:59:59.999', '-838:59:59.9999', '-838:59:59.99999', '-838:59:59.999999',
     '1000-01-01 00:00:00', '1000-01-01 00:00:00.0', '1000-01-01 00:00:00.00', '1000-01-01 00:00:00.000',
     '1000-01-01 00:00:00.0000', '1000-01-01 00:00:00.00000', '1000-01-01 00:00:00.000000',
     '1970-01-01 05:30:01', '1970-01-01 05:30:01.0', '1970-01-01 05:30:01.00', '1970-01-01 05:30:01.000',
     '1970-01-01 05:30:01.0000', '1970-01-01 05:30:01.00000', '1970-01-01 05:30:01.000000',
     1901),
 (2, '9999-12-31',
     '838:59:59', '838:59:59.9', '838:59:59.99', '838:59:59.999', '838:59:59.9999', '838:59:59.99999', '838:59:59.999999',
     '9999-12-31 23:59:59', '9999-12-31 23:59:59.9', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.999',
     '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.99999', '9999-12-31 23:59:59.999999',
     '2038-01-19 08:44:07', '2038-01-19 08:44:07.9', '2038-01-19 08:44:07.99', '2038-01-19 08:44:07.999',
     '2038-01-19 08:44:07.9999', '2038-01-19 08:44:07.99999', '2038-01-19 08:44:07.999999',
     2155),
 (3, '2024-02-29',
     '-00:00:00.000001', '-00:00:01.5', '-12:34:56.12', '00:00:00', '-01:00:00.0001', '23:59:59.00001', '-00:00:00.5',
     '2024-02-29 12:34:56', '2024-02-29 12:34:56.1', '2024-02-29 12:34:56.12', '2024-02-29 12:34:56.123',
     '2024-02-29 12:34:56.1234', '2024-02-29 12:34:56.12345', '2024-02-29 12:34:56.123456',
     '2024-02-29 12:34:56', '2024-02-29 12:34:56.1', '2024-02-29 12:34:56.12', '2024-02-29 12:34:56.123',
     '2024-02-29 12:34:56.1234', '2024-02-29 12:34:56.12345', '2024-02-29 12:34:56.123456',
     2000),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET time_zone = '-07:00';
INSERT INTO temporal (id, ts0, ts6, dt6, t6, y) VALUES
 (5, '2000-01-01 00:00:00', '1999-12-31 17:00:00.000001', '2000-01-01 00:00:00.000001', '00:00:00.000001', 0);
UPDATE temporal SET ts3 = '2030-06-15 01:02:03.456', t3 = '-100:00:00.001' WHERE id = 3;
SET time_zone = SYSTEM;
-- zero dates, allowed by an empty sql_mode
SET SESSION sql_mode = '';
INSERT INTO zero_dates VALUES
 (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', 0),
 (2, '2000-01-00', '2000-00-01 10:00:00', '0000-01-01 00:00:00.5', NULL, NULL, 1999),
 (3, NULL, NULL, NULL, NULL, NULL, NULL);
SET SESSION sql_mode = DEFAULT;
-- strings: 4-byte UTF-8, latin1, NUL bytes, empty vs NULL, long values
INSERT INTO strs VALUES
 (1, '😀𝄞', REPEAT('😀', 300), '', 'tiny ñ', 'text 😀 中文 Ωmega', REPEAT('mé', 40000),
     REPEAT(CONCAT('😀x', CHAR(0 USING utf8mb4), 'ñ\tline\n'), 500000),
     'café', REPEAT('ÿ', 300), 'latin1 ñ ü ß Ø ½',
     'Case', 'ünï', 'r,w,ñ', 'v260',
     '{"a": [1, 2.5, "ü😀", null, true, false], "b": {"c": "x\\"y", "d": -1.5e300}, "e": ""}'),
 (2, 'a', 'NULL', 'null', '', '', '', '', 'a', 'a', '', 'case', 'x y', '', 'v0', '[]'),
 (3, 'tail  ', 'back\\slash ''quote'' "dq" `bt`', CONCAT('nul', CHAR(0 USING utf8mb4), 'in'),
     NULL, 'x', NULL, NULL, 'ß', NULL, 'x', 'CASE', '', 'r,w,x,ñ', 'v127', '{"k": 1}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE strs SET vc = CONCAT(vc, '𝄞'), j = JSON_SET(j, '$.new', 'ünï') WHERE id = 3;
-- binaries with NUL bytes, up to several MB
INSERT INTO bins VALUES
 (1, x'0001', x'00', x'', x'00ff00ff', REPEAT(x'00ff7f80', 100000),
     REPEAT(CONCAT(x'00', 'abc', x'ff', x'0d0a'), 700000)),
 (2, x'ffffffffffffffff', REPEAT(x'00', 300), REPEAT(x'ab', 255), REPEAT(x'00', 65535),
     REPEAT(x'01', 16777215 DIV 4), x'00'),
 (3, '', '', '', '', '', ''),
 (4, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE bins SET lb = CONCAT(lb, x'00') WHERE id = 1;
-- geometry
INSERT INTO geo VALUES
 (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))'), POINT(1.5, -2.25),
     ST_GeomFromText('LINESTRING(0 0, 1e10 -1e-10, 3 3)'),
     ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'),
     ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')),
 (2, ST_GeomFromText('POINT(179.999999 -89.999999)', 4326), ST_GeomFromText('POINT(0 0)', 4326),
     NULL, NULL, NULL),
 (3, NULL, NULL, NULL, NULL, NULL);
-- no primary key: duplicate rows, then change and delete one of them
INSERT INTO nopk VALUES
 (1, 'dup', 1.1, '2020-01-01 00:00:00.001', x'00'),
 (1, 'dup', 1.1, '2020-01-01 00:00:00.001', x'00'),
 (1, 'dup', 1.1, '2020-01-01 00:00:00.001', x'00'),
 (2, 'x', NULL, NULL, NULL),
 (NULL, NULL, NULL, NULL, NULL),
 (NULL, NULL, NULL, NULL, NULL),
 (3, 'float', 3.4028234e38, '9999-12-31 23:59:59.999', REPEAT(x'00', 1000));
UPDATE nopk SET b = 'changed' WHERE a = 1 LIMIT 1;
DELETE FROM nopk WHERE a = 1 AND b = 'dup' LIMIT 1;
DELETE FROM nopk WHERE a IS NULL LIMIT 1;
UPDATE nopk SET f = -1.1, c = x'0000' WHERE a = 3;
UPDATE nopk SET a = 4 WHERE a IS NULL;
-- composite keys, updates that move the key
INSERT INTO comp VALUES
 (1, 'a', '2020-01-01', 10, 'x'), (2, 'a', '2020-01-01', 20, NULL), (1, 'b', '2020-01-02', 30, 'y'),
 (1, 'a', '2020-01-02', 40, 'z');
UPDATE comp SET a = a + 100 WHERE b = 'a' AND c = '2020-01-01';
UPDATE comp SET b = 'moved', v = v + 1 WHERE a = 1 AND b = 'b';
DELETE FROM comp WHERE a = 1 AND b = 'a' AND c = '2020-01-02';
INSERT INTO pkshift VALUES (1, 'one'), (2, 'two'), (3, 'three'), (18446744073709551615, 'max');
UPDATE pkshift SET id = id + 10 WHERE id < 100 ORDER BY id DESC;
UPDATE pkshift SET id = 0, v = 'was max' WHERE id = 18446744073709551615;
-- multi-statement transaction over several tables
START TRANSACTION;
INSERT INTO comp VALUES (7, 'txn', '2021-07-07', 7, 'multi');
UPDATE ints SET i = 12345 WHERE id = 1;
DELETE FROM pkshift WHERE id = 12;
INSERT INTO nopk VALUES (9, 'txn', 9.5, NULL, NULL);
COMMIT;
-- a rolled-back transaction: none of it may arrive
START TRANSACTION;
INSERT INTO comp VALUES (666, 'ROLLED_BACK_MARKER', '2021-01-01', 666, 'no');
UPDATE ints SET i = 666 WHERE id = 2;
DELETE FROM big;
ROLLBACK;
-- a savepoint rolled back inside a committed transaction
START TRANSACTION;
INSERT INTO comp VALUES (8, 'sp', '2021-08-08', 8, 'kept');
SAVEPOINT s1;
INSERT INTO comp VALUES (9, 'SAVEPOINT_UNDONE', '2021-09-09', 9, 'gone');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO comp VALUES (10, 'sp', '2021-10-10', 10, 'kept too');
COMMIT;
-- one transaction of 25,000 inserted rows plus updates in it
START TRANSACTION;
INSERT INTO big SELECT seq, CONCAT('row-', seq, '-ü'), seq * seq, seq / 7e0 FROM seq_1_to_25000;
UPDATE big SET n = -n, v = NULL WHERE id % 7 = 0;
COMMIT;
DELETE FROM big WHERE id % 3 = 0;
-- DDL: columns added in the middle, dropped, retyped; renames; drops
CREATE TABLE ddl_t (id INT NOT NULL PRIMARY KEY, a INT, z VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO ddl_t VALUES (1, 10, 'one'), (2, 20, 'two');
ALTER TABLE ddl_t ADD COLUMN b VARCHAR(10) NOT NULL DEFAULT 'dflt' AFTER id;
INSERT INTO ddl_t VALUES (3, 'bee', 30, 'three');
UPDATE ddl_t SET a = a + 1;
ALTER TABLE ddl_t DROP COLUMN a, MODIFY z VARCHAR(50) CHARACTER SET latin1;
INSERT INTO ddl_t VALUES (4, 'b4', 'ñ four');
ALTER TABLE ddl_t MODIFY id BIGINT UNSIGNED NOT NULL;
INSERT INTO ddl_t VALUES (18446744073709551615, 'big', 'max');
CREATE INDEX ddl_t_b ON ddl_t (b);
RENAME TABLE ddl_t TO ddl_renamed;
INSERT INTO ddl_renamed VALUES (5, 'after', 'rename');
CREATE TABLE gone (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO gone VALUES (1), (2);
DROP TABLE gone;
CREATE TABLE trunc (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO trunc VALUES (1, 1), (2, 2);
TRUNCATE TABLE trunc;
INSERT INTO trunc VALUES (3, 3);
CREATE DATABASE sl_gone;
CREATE TABLE sl_gone.t (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO sl_gone.t VALUES (1);
DROP DATABASE sl_gone;
CREATE DATABASE sl_misc;
USE sl_misc;
CREATE TABLE unqualified (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO unqualified VALUES (1, 'default db');
CREATE TABLE sl_misc.copied ENGINE=InnoDB AS SELECT id, v FROM sl_types.big WHERE id <= 100;
ALTER TABLE copied ADD PRIMARY KEY (id);
UPDATE copied SET v = CONCAT(v, '+') WHERE id BETWEEN 10 AND 20;
USE sl_types;
DELETE FROM strs WHERE id = 2;
UPDATE strs SET ltx = NULL, c = 'was long' WHERE id = 1;
SQL
	cat <<SQL
INSERT INTO $WDBQ.$WTBQ VALUES
 (1, 'tick \` quote '' dq "', 1, 'o1', 'sel'),
 (2, NULL, NULL, 'o2', NULL),
 (1, 'second', 2, 'o2', 'x');
UPDATE $WDBQ.$WTBQ SET \`ñandú Ωmega\` = 99, \`order\` = 'o9' WHERE \`from\` = 2;
DELETE FROM $WDBQ.$WTBQ WHERE \`from\` = 1 AND \`order\` = 'o1';
ALTER TABLE $WDBQ.$WTBQ ADD COLUMN \`new \`\` col\` INT DEFAULT 7;
INSERT INTO $WDBQ.$WTBQ VALUES (3, 'after alter', 3, 'o3', 'y', 8);
RENAME TABLE $WDBQ.$WTBQ TO $WDBQ.\`renamed ñ \`\`x\`\`\`;
SQL
}

# A small change after everything, to prove a later capture/replay resumes.
tail_sql() {
	cat <<'SQL'
INSERT INTO sl_misc.unqualified VALUES (2, 'resumed');
UPDATE sl_types.ints SET bi = bi - 1 WHERE id = 2;
INSERT INTO sl_types.nopk VALUES (1, 'dup', 1.1, '2020-01-01 00:00:00.001', x'00');
SQL
}

# Counts the transactions and DDL records of `inspect --json` output.
count_records() {
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if line and json.loads(line).get("type") in ("transaction", "ddl"):
        n += 1
print(n)' "$1"
}

check_inspect_json() {
	python3 - "$1" <<'PY'
import json, sys
path = sys.argv[1]
types, ddl, named, nchanges, maxchanges, ops = {}, [], False, 0, 0, set()
with open(path, encoding="utf-8", errors="strict") as f:
    for i, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.exit("inspect --json line %d is not JSON: %s: %.200s" % (i, e, line))
        if not isinstance(rec, dict) or "type" not in rec:
            sys.exit("inspect --json line %d has no type: %.200s" % (i, line))
        t = rec["type"]
        types[t] = types.get(t, 0) + 1
        if t == "ddl":
            if "statement" not in rec:
                sys.exit("ddl record without statement: %.200s" % line)
            ddl.append(rec["statement"])
        if t == "transaction":
            for key in ("position", "changes"):
                if key not in rec:
                    sys.exit("transaction record without %s: %.200s" % (key, line))
            ch = rec["changes"]
            nchanges += len(ch)
            maxchanges = max(maxchanges, len(ch))
            for c in ch:
                ops.add(c.get("op"))
                for img in ("before", "after"):
                    v = c.get(img)
                    if isinstance(v, dict) and "id" in v and c.get("table") in ("ints", "big", "strs"):
                        named = True
if "transaction" not in types or "ddl" not in types:
    sys.exit("inspect --json: expected transaction and ddl records, got %r" % types)
if not any("CREATE TABLE" in s.upper() for s in ddl):
    sys.exit("inspect --json: no CREATE TABLE among %d ddl records" % len(ddl))
if not {"insert", "update", "delete"} <= ops:
    sys.exit("inspect --json: ops seen %r, want insert, update and delete" % sorted(o for o in ops if o))
if not named:
    sys.exit("inspect --json: no row image with a column keyed by name ('id')")
if maxchanges < 25000:
    sys.exit("inspect --json: largest transaction has %d changes, want >= 25000" % maxchanges)
print("inspect ok: %r, %d changes, largest transaction %d, %d ddl" % (types, nchanges, maxchanges, len(ddl)))
PY
}

selftest() {
	log "selftest: workload on the source, copy with mariadb-dump, compare"
	schema_sql | src_sql
	workload_sql | src_sql
	tail_sql | src_sql
	mapfile -t dbs < <(user_databases 1)
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --hex-blob --tz-utc --routines \
		--max-allowed-packet=1G --databases "${dbs[@]}" >"$WORK/dump.sql"
	# mariadb-dump prints FLOAT with 6 digits: carry the exact values over.
	src_sql -N -B -e "SELECT CONCAT('UPDATE sl_types.nums SET f = ', IFNULL(CAST(f AS DOUBLE), 'NULL'),
		', fp = ', IFNULL(CAST(fp AS DOUBLE), 'NULL'), ' WHERE id = ', id, ';') FROM sl_types.nums" \
		>>"$WORK/dump.sql"
	dst_sql <"$WORK/dump.sql"
	compare_all || fail "selftest: copies differ"
	local -a injections=(
		"UPDATE sl_types.bins SET lb = CONCAT(LEFT(lb, 1000), x'01', SUBSTRING(lb, 1002)) WHERE id = 1"
		"UPDATE sl_types.nums SET f = f * (1 + 1e-7) WHERE id = 5"
		"UPDATE sl_types.nums SET dbl = 0.30000000000000004e0 WHERE id = 5"
		"UPDATE sl_types.temporal SET ts6 = ts6 + INTERVAL 1 MICROSECOND WHERE id = 3"
		"UPDATE sl_types.strs SET vc = 'null' WHERE id = 3"
		"UPDATE sl_types.strs SET vcs = NULL WHERE id = 3"
		"UPDATE sl_types.strs SET c_bin = 'case' WHERE id = 1"
		"INSERT INTO sl_types.nopk VALUES (2, 'x', NULL, NULL, NULL)"
		"UPDATE sl_types.ints SET b64 = b'0100' WHERE id = 3"
		"UPDATE sl_types.geo SET p = POINT(1.5, -2.25000001) WHERE id = 1"
		"ALTER TABLE sl_misc.copied MODIFY v VARCHAR(51)"
		"CREATE TABLE sl_misc.extra (id INT)"
		"CREATE DATABASE sl_extra"
	)
	local inj
	for inj in "${injections[@]}"; do
		dst_sql <"$WORK/dump.sql"
		dst_sql -e "DROP DATABASE IF EXISTS sl_extra; DROP TABLE IF EXISTS sl_misc.extra"
		compare_all 2>/dev/null || fail "selftest: equal copies reported different before: $inj"
		dst_sql -e "$inj"
		if compare_all 2>"$WORK/selftest.err"; then
			fail "selftest: compare_all missed: $inj"
		fi
		log "selftest: caught: $inj ($(head -n 1 "$WORK/selftest.err" | cut -c1-100))"
	done
	log "selftest passed"
}

main() {
	start_servers 2
	src_sql -e "SET GLOBAL max_allowed_packet = 256*1024*1024"
	if [[ "${SLUICE_HARNESS_SELFTEST:-0}" == "1" ]]; then
		selftest
		exit 0
	fi
	require_sluice
	local dir=$WORK/stream

	log "first capture into an empty DIR records the binlog end"
	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 101

	log "schema and workload on the source"
	schema_sql | src_sql
	workload_sql | src_sql

	log "capture"
	local t0=$SECONDS
	must_sluice cap1 capture --source "$SRC_URL" --dir "$dir" --server-id 101
	log "capture took $((SECONDS - t0)) s; replay"
	t0=$SECONDS
	must_sluice rep1 replay --dir "$dir" --dest "$DST_URL"
	log "replay took $((SECONDS - t0)) s; comparing"
	compare_all || fail "destination differs from source after capture + replay"
	log "equal after the first replay"

	log "inspect --json"
	must_sluice insp1 inspect "$dir" --json
	check_inspect_json "$WORK/insp1.out" >&2 || fail "inspect --json output is wrong"
	if grep -q -e ROLLED_BACK_MARKER -e SAVEPOINT_UNDONE "$WORK/insp1.out"; then
		fail "rolled-back changes appear in the stream"
	fi
	local before_records
	before_records=$(count_records "$WORK/insp1.out")
	must_sluice insp1txt inspect "$dir"
	[[ -s "$WORK/insp1txt.out" ]] || fail "inspect (text) printed nothing"

	log "second replay must apply nothing"
	dump_db 2 sluice >"$WORK/checkpoint.1"
	[[ -s "$WORK/checkpoint.1" ]] || fail "no sluice schema/checkpoint table on the destination"
	must_sluice rep2 replay --dir "$dir" --dest "$DST_URL"
	dump_db 2 sluice >"$WORK/checkpoint.2"
	if ! cmp -s "$WORK/checkpoint.1" "$WORK/checkpoint.2"; then
		_show_diff "$WORK/checkpoint.1" "$WORK/checkpoint.2"
		fail "the checkpoint moved on a replay with nothing to apply"
	fi
	compare_all || fail "a second replay changed the destination"

	log "second capture with no new changes adds no records"
	must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 101
	must_sluice insp2 inspect "$dir" --json
	local after_records
	after_records=$(count_records "$WORK/insp2.out")
	[[ "$before_records" == "$after_records" ]] ||
		fail "a capture with nothing new changed the record count: $before_records -> $after_records"

	log "more changes; capture and replay resume where they stopped"
	tail_sql | src_sql
	must_sluice cap3 capture --source "$SRC_URL" --dir "$dir" --server-id 101
	must_sluice rep3 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "destination differs after the resumed capture + replay"
	must_sluice insp3 inspect "$dir" --json
	after_records=$(count_records "$WORK/insp3.out")
	((after_records == before_records + 3)) ||
		fail "resumed capture: expected $((before_records + 3)) records, got $after_records"

	assert_no_password "$WORK"/*.out "$WORK"/*.err
	log "PASS"
}

main "$@"
