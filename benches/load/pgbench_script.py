#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged for one request of the service
(log_statement = 'all', log_line_prefix = '%m [%p] ') into a pgbench script
that executes the same statements, with the same values, in the same order.

What varies between executions is what must vary for the statements to mean
the same thing again and not collide with the first run:

- the customer and store the request acted for (and every text that embeds
  their ids, such as account names) become the customer and store of a row
  picked at random from the `load_pick` table, which holds the same pairs the
  load generator picks from;
- every id the request created (a UUID first seen in an INSERT), the
  Idempotency-Key, and the idempotency lock's key become fresh random values;
- the balance shard of a shared account's row becomes a random shard, as the
  service picks one per transaction.

They are read at the start of each transaction by one extra statement
(`SELECT ... \\gset`), which the service does not execute: pgbench pays one
round trip more than the service per request. pgbench's prepared mode cannot
prepare a compound statement, so the service's one-round-trip
`BEGIN; LOCK TABLE ...` becomes two commands: one round trip more again.
JSON values (stored responses, audit snapshots) are kept as they were.

    pgbench_script.py LOG_EXCERPT --customer ID --store ID --key KEY --picks N
"""

import argparse
import re
import sys

PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (\w+):  (.*)$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def entries(text):
    """(pid, level, message) per log entry; continuation lines joined."""
    out = []
    for line in text.split("\n"):
        m = PREFIX.match(line)
        if m:
            out.append([m.group(1), m.group(2), m.group(3)])
        elif out and line:
            out[-1][2] += "\n" + line
    return out


def statements(text):
    """[(sql, {n: value or None})] in execution order, from one backend."""
    stmts, pids = [], set()
    for pid, level, msg in entries(text):
        if level == "LOG" and msg.startswith("statement: "):
            pids.add(pid)
            for part in msg[len("statement: "):].split(";"):
                if part.strip():
                    stmts.append([part.strip(), {}])
        elif level == "LOG" and msg.startswith("execute "):
            pids.add(pid)
            stmts.append([msg.split(": ", 1)[1].strip(), {}])
        elif level == "DETAIL" and msg.startswith("parameters: ") and stmts:
            for n, v in PARAM.findall(msg):
                stmts[-1][1][int(n)] = None if v == "NULL" else v[1:-1].replace("''", "'")
        elif level in ("ERROR", "FATAL"):
            sys.exit(f"the captured request failed in the database: {msg}")
    if len(pids) != 1:
        sys.exit(f"expected the statements of one connection, found {len(pids)}")
    return stmts


def is_array(v):
    """A PostgreSQL array literal (`{a,b}`), not a JSON object."""
    return v.startswith("{") and not v.startswith('{"') and v != "{}"


def quote(s):
    """An SQL literal. pgbench reads ":name" as a variable anywhere in a
    command, literals included, so a colon is written as an escape there."""
    if ":" not in s:
        return "'" + s.replace("'", "''") + "'"
    return "E'" + s.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\x3a") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--customer", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--key", help="the request's Idempotency-Key")
    ap.add_argument("--picks", type=int, required=True, help="rows in load_pick")
    args = ap.parse_args()
    stmts = statements(open(args.log, encoding="utf-8", errors="replace").read())

    fixed = {args.customer: ":cid", args.store: ":sid"}
    fresh = {}
    seen = set()
    for sql, params in stmts:
        values = [v for _, v in sorted(params.items()) if v is not None]
        if "INSERT INTO" in sql.upper():
            for v in values:
                for u in ([v] if UUID.fullmatch(v) else UUID.findall(v) if is_array(v) else []):
                    if u not in fixed and u not in seen:
                        fresh.setdefault(u, f":f{len(fresh) + 1}")
        for v in values:
            if not v.startswith(("{", "[")):
                seen.update(UUID.findall(v))
    if args.key:
        fresh[args.key] = ":ik"
    names = {**fixed, **fresh}

    def expr(sql, v):
        if v is None:
            return "NULL"
        if "pg_try_advisory_xact_lock" in sql and re.fullmatch(r"-?\d+", v):
            return ":lk"
        if v in names:
            return names[v]
        if v.startswith(("{", "[")) and not is_array(v):
            return quote(v)
        pieces = re.split(r"(" + "|".join(map(re.escape, names)) + r")", v) if names else [v]
        if len(pieces) == 1:
            return quote(v)
        return "(" + " || ".join(names[p] if p in names else quote(p) for p in pieces if p) + ")"

    def overrides(sql, params):
        """Parameters to vary that no value betrays: the balance shard a
        shared account's row is picked by (the service picks one per
        transaction from its id; a constant would make every pgbench client
        fight over one row the service spreads over 16)."""
        m = re.search(r"unnest\(\$\d+::text\[\], \$\d+::text\[\], \$(\d+)::smallint\[\], "
                      r"\$(\d+)::uuid\[\]", sql)
        if m:
            # The posting's one statement: the shards and owners as arrays.
            shard, owner = int(m.group(1)), int(m.group(2))
            shards = params[shard].strip("{}").split(",")
            owners = params[owner].strip("{}").split(",")
            parts = [quote(s) if o != "NULL" else ":sh" for s, o in zip(shards, owners)]
            return {shard: "('{' || " + " || ',' || ".join(parts) + " || '}')"}
        m = re.match(r'\s*INSERT INTO "balances" \(([^)]*)\) VALUES', sql)
        if not m:
            return {}
        cols = [c.strip().strip('"') for c in m.group(1).split(",")]
        shard, owner = cols.index("shard"), cols.index("customer_id")
        out = {}
        for k in range(len(params) // len(cols)):
            base = k * len(cols) + 1
            if params.get(base + owner) is None:
                out[base + shard] = ":sh"
        return out

    out = [f"\\set n random(1, {args.picks})", "\\set sh random(0, 15)"]
    cols = ["p.customer_id AS cid", "p.store_id AS sid",
            "(random() * 9.2e18)::bigint AS lk"]
    cols += [f"gen_random_uuid() AS {name[1:]}" for name in fresh.values() if name != ":ik"]
    if args.key:
        cols.append("gen_random_uuid()::text AS ik")
    out.append(f"SELECT {', '.join(cols)} FROM load_pick p WHERE p.n = :n \\gset")
    for sql, params in stmts:
        fixed_params = overrides(sql, params)
        body = re.sub(r"\$(\d+)\b",
                      lambda m: fixed_params.get(int(m.group(1))) or expr(sql, params.get(int(m.group(1)))),
                      sql)
        # pgbench reads ":name" as a variable everywhere; a "::" cast stays.
        out.append(body.rstrip().rstrip(";") + ";")
    print("\n".join(out))
    print(f"-- {len(stmts)} statements of the service, {len(fresh)} fresh values", file=sys.stderr)


if __name__ == "__main__":
    main()
