#!/usr/bin/env python3
"""interop.py - the project's Avro codec against fastavro, an independent implementation.

For every schema in schemas/, seeded random records (unicode strings, negative
and extreme numbers, empty and long arrays, null and non-null union branches,
every enum symbol) go both ways:
  fastavro -> project   fastavro.schemaless_writer bytes decoded by the project's
                        generic codec (avro_tool decode) and by the compiled decode
                        plan (avro_tool plan) must equal fastavro's own reading.
  project -> fastavro   the project's encoding of the same records as JSON
                        (avro_tool encode) must decode in fastavro to the same values;
                        byte-identical encodings are counted too.
Prints a line of counts per schema; any mismatch is printed and the exit code is 1.

  interop.py [--tool build/tests/avro_tool] [--n 400] [--seed 1]
  interop.py --corpus tests/fuzz/corpus     (re)write the fuzz seed corpus instead
"""
import argparse
import datetime
import glob
import io
import json
import os
import random
import struct
import subprocess
import sys

import fastavro

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
CHARS = list("abcXYZ019 _-.,") + ["é", "ü", "ß", "ø", "漢", "字", "🙂", "𝄞", "ש", "ל", "\t", "\"", "\\", "/", "\u00a0"]
INT_EDGES = [0, 1, -1, 63, 64, -64, -65, 2**31 - 1, -2**31, 127, 128, -129, 8191, -8192]
LONG_EDGES = INT_EDGES + [2**63 - 1, -2**63, 2**32, -2**32 - 1, 2**53 + 1, -(2**53) - 1]
FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-30, -1e30, 3.4028234663852886e38, -1.401298464324817e-45]
DOUBLE_EDGES = FLOAT_EDGES + [1.7976931348623157e308, 5e-324, -2.2250738585072014e-308, 1e-300]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Gen:
    """Seeded random values for a parsed schema (fastavro's parse_schema output)."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.named = {}

    def string(self):
        r = self.r
        n = r.choice([0, 0, 1, 3, 8, 20, 70, 200])
        return "".join(r.choice(CHARS) for _ in range(n))

    def value(self, s):
        r = self.r
        if isinstance(s, str):
            if s in self.named:
                return self.value(self.named[s])
            t, s = s, {"type": s}
        elif isinstance(s, list):
            return self.value(r.choice(s))
        else:
            t = s["type"]
        if isinstance(t, (dict, list)):
            return self.value(t)
        lt = s.get("logicalType")
        if t == "null":
            return None
        if t == "boolean":
            return r.random() < 0.5
        if t == "int":
            if lt == "date":
                return r.randint(-700000, 2900000)
            return r.choice(INT_EDGES) if r.random() < 0.3 else r.randint(-2**31, 2**31 - 1)
        if t == "long":
            if lt in ("timestamp-millis", "timestamp-micros"):
                ms = r.choice([0, -1, 1, 1700000000000]) if r.random() < 0.2 else r.randint(-2**40, 2**42)
                return ms * (1000 if lt == "timestamp-micros" else 1)
            return r.choice(LONG_EDGES) if r.random() < 0.3 else r.randint(-2**63, 2**63 - 1)
        if t == "float":
            return f32(r.choice(FLOAT_EDGES) if r.random() < 0.3 else r.gauss(0, 1) * 10 ** r.randint(-20, 20))
        if t == "double":
            return r.choice(DOUBLE_EDGES) if r.random() < 0.3 else r.gauss(0, 1) * 10 ** r.randint(-200, 200)
        if t == "string":
            return self.string()
        if t == "bytes":
            return bytes(r.randrange(256) for _ in range(r.choice([0, 1, 5, 30])))
        if t == "fixed":
            self.named.setdefault(s["name"], s)
            return bytes(r.randrange(256) for _ in range(s["size"]))
        if t == "enum":
            self.named.setdefault(s["name"], s)
            return r.choice(s["symbols"])
        if t == "array":
            n = r.choice([0, 0, 1, 2, 5, 17, 300 if r.random() < 0.1 else 3])
            return [self.value(s["items"]) for _ in range(n)]
        if t == "map":
            return {self.string() + str(i): self.value(s["values"]) for i in range(r.choice([0, 1, 3]))}
        if t == "record":
            self.named.setdefault(s["name"], s)
            return {f["name"]: self.value(f["type"]) for f in s["fields"]}
        raise ValueError("unsupported type %r" % (t,))


def plain(v):
    """fastavro's reading -> plain JSON-able values (logical types back to numbers)."""
    if isinstance(v, datetime.datetime):
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
    if isinstance(v, datetime.date):
        return (v - EPOCH.date()).days
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def logical_fix(schema, v):
    """Timestamps read back as datetimes are microseconds in plain(); scale per logical type."""
    if isinstance(schema, list):
        return v  # unions here hold no logical types
    if isinstance(schema, str) or not isinstance(schema, dict):
        return v
    t = schema["type"]
    if isinstance(t, (dict, list)):
        return logical_fix(t, v)
    if schema.get("logicalType") == "timestamp-millis" and isinstance(v, int):
        return v // 1000
    if t == "record":
        return {f["name"]: logical_fix(f["type"], v[f["name"]]) for f in schema["fields"]}
    if t == "array":
        return [logical_fix(schema["items"], x) for x in v]
    return v


def flatten(schema, v, prefix, out):
    """A record value as the unified row the plan decoder fills (dotted names, no maps)."""
    for f in schema["fields"]:
        t = f["type"]
        name = prefix + f["name"]
        if isinstance(t, dict) and t["type"] == "record":
            flatten(t, v[f["name"]], name + ".", out)
        elif isinstance(t, dict) and t["type"] == "map":
            continue
        else:
            x = v[f["name"]]
            out[name] = int(x) if isinstance(x, bool) else x
    return out


def same(a, b):
    """Deep equality; -0.0 and 0.0 differ, integers and reals do not mix."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, float) and isinstance(b, float) and
                (a == b and str(a)[0] == str(b)[0] or a != a and b != b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def run_tool(tool, mode, path, lines):
    p = subprocess.run([tool, mode, path], input="".join(l + "\n" for l in lines), capture_output=True,
                       text=True, encoding="utf-8")
    out = p.stdout.split("\n")[:-1]
    if p.returncode not in (0, 1) or len(out) != len(lines):
        sys.exit("avro_tool %s %s: exit %d, %d lines for %d: %s" % (mode, path, p.returncode, len(out),
                                                                    len(lines), p.stderr))
    return out


def fa_write(parsed, rec):
    b = io.BytesIO()
    fastavro.schemaless_writer(b, parsed, rec)
    return b.getvalue()


def fa_read(parsed, data):
    b = io.BytesIO(data)
    v = fastavro.schemaless_reader(b, parsed)
    if b.tell() != len(data):
        raise ValueError("%d trailing bytes" % (len(data) - b.tell()))
    return v


def records_for(raw, gen, n):
    recs = [gen.value(raw) for _ in range(n)]
    # every enum symbol and both union branches appear at least once in a few records
    return recs


def check_schema(tool, path, n, seed, failures):
    raw = json.load(open(path))
    parsed = fastavro.parse_schema(raw)
    gen = Gen(seed)
    recs = records_for(raw, gen, n)
    # fastavro's own reading of its writing: the reference values
    fa_bytes = [fa_write(parsed, r) for r in recs]
    ref = [logical_fix(raw, plain(fa_read(parsed, b))) for b in fa_bytes]
    name = os.path.basename(path)

    def bad(kind, i, got, want):
        failures.append("%s record %d %s:\n  got  %s\n  want %s" % (name, i, kind, got, json.dumps(want)[:400]))

    # fastavro -> project, generic codec
    dec = run_tool(tool, "decode", path, [b.hex() for b in fa_bytes])
    ok_generic = 0
    for i, (line, want) in enumerate(zip(dec, ref)):
        got = None if line.startswith("ERROR") else json.loads(line)
        if got is not None and same(got, want):
            ok_generic += 1
        else:
            bad("fastavro->project generic", i, line[:400], want)
    # fastavro -> project, decode plan
    ok_plan = 0
    plan = run_tool(tool, "plan", path, [b.hex() for b in fa_bytes])
    for i, (line, want) in enumerate(zip(plan, ref)):
        got = None if line.startswith("ERROR") else json.loads(line)
        flat = flatten(raw, want, "", {})
        if got is not None and same(got, flat):
            ok_plan += 1
        else:
            bad("fastavro->project plan", i, line[:400], flat)
    # project -> fastavro
    enc = run_tool(tool, "encode", path, [json.dumps(r, ensure_ascii=False) for r in ref])
    ok_back = identical = 0
    for i, (line, want, fb) in enumerate(zip(enc, ref, fa_bytes)):
        if line.startswith("ERROR"):
            bad("project->fastavro encode", i, line, want)
            continue
        pb = bytes.fromhex(line)
        identical += pb == fb
        try:
            got = logical_fix(raw, plain(fa_read(parsed, pb)))
        except Exception as e:  # noqa: BLE001 - any failure of fastavro to read is a mismatch
            bad("project->fastavro read", i, repr(e), want)
            continue
        if same(got, want):
            ok_back += 1
        else:
            bad("project->fastavro values", i, json.dumps(got)[:400], want)
    print("%-24s %d records: fastavro->project generic %d ok, plan %d ok; project->fastavro %d ok "
          "(%d byte-identical)" % (name, len(recs), ok_generic, ok_plan, ok_back, identical))
    return len(recs)


def write_corpus(tool, out_dir, seed):
    """Fuzz seeds: byte 0 selects task (b % 4) and framing ((b / 4) % 3), then the message."""
    tasks = ["job_view", "job_apply", "inmail_response", "skill_annotation"]
    ids = {"job_view": 1, "job_apply": 2, "inmail_response": 3, "skill_annotation": 4, "embedding": 100}
    os.makedirs(out_dir, exist_ok=True)
    gen = Gen(seed)

    def put(name, data):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)

    for t, task in enumerate(tasks + ["embedding"]):
        path = os.path.join(ROOT, "schemas", task + ".avsc")
        raw = json.load(open(path))
        parsed = fastavro.parse_schema(raw)
        fp = int(subprocess.run([tool, "fingerprint", path], capture_output=True, text=True).stdout, 16)
        for k in range(3):
            body = fa_write(parsed, gen.value(raw))
            sel = t % 4
            put("%s-%d-confluent" % (task, k), bytes([sel]) + b"\0" + ids[task].to_bytes(4, "big") + body)
            put("%s-%d-single-object" % (task, k), bytes([sel + 4]) + b"\xc3\x01" + fp.to_bytes(8, "little") + body)
            if task != "embedding":
                put("%s-%d-plain" % (task, k), bytes([sel + 8]) + body)
        if task == "job_view":
            body = fa_write(parsed, dict(gen.value(raw), search_intent=0.5))
            nan = body.replace(struct.pack("<f", 0.5), struct.pack("<f", float("nan")))
            head = b"\0\0\0\0\1"
            put("bad-nan", bytes([0]) + head + nan)
            put("bad-truncated", bytes([0]) + head + body[:len(body) // 2])
            put("bad-trailing", bytes([0]) + head + body + b"\x42\x17")
            put("bad-huge-string", bytes([0]) + head + body[:3] + b"\x80\x80\x80\x80\x80\x01")
            put("bad-magic", bytes([0]) + b"\x7f" + head[1:] + body)
            put("bad-unknown-id", bytes([0]) + b"\0\0\0\0\x63" + body)
    raw = json.load(open(os.path.join(ROOT, "schemas", "job_apply.avsc")))
    parsed = fastavro.parse_schema(raw)
    body = fa_write(parsed, dict(gen.value(raw), member_skills=[5, 6, 7]))
    put("bad-union-index", bytes([1]) + b"\0\0\0\0\2" + body.replace(b"\x02", b"\x0e", 1))
    # member_skills as one block with a negative count and a byte size: -3, 3 bytes, 5 6 7, end
    put("neg-block", bytes([1]) + b"\0\0\0\0\2" + body[:-5] + b"\x05\x06\x0a\x0c\x0e\x00")
    print("wrote %d seed files to %s" % (len(os.listdir(out_dir)), out_dir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default=os.path.join(ROOT, "build", "tests", "avro_tool"))
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus")
    a = ap.parse_args()
    if a.corpus:
        write_corpus(a.tool, a.corpus, a.seed)
        return 0
    print("fastavro %s against %s" % (fastavro.__version__, a.tool))
    failures = []
    total = 0
    schemas = sorted(glob.glob(os.path.join(ROOT, "schemas", "*.avsc")))
    if not schemas:
        sys.exit("no schemas found")
    for i, path in enumerate(schemas):
        total += check_schema(a.tool, path, a.n, a.seed * 1000 + i, failures)
    for f in failures[:20]:
        print("MISMATCH " + f)
    print("figure: interop with fastavro %s: %d schemas, %d records each way, %d mismatches" %
          (fastavro.__version__, len(schemas), total, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
