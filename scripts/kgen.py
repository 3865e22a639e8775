#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Generate store/kafka/kmsg_gen.{h,c} from Kafka's JSON message specs.

The specs (store/kafka/schema/ (*.json), vendored from apache/kafka) are JSON
with // comments.  For every API with both a request and a response spec this
writes, per message:

  struct kmsg_<api>_{req,resp}         the root struct
  struct kmsg_<api>_{req,resp}_<type>  nested structs (the JSON type name
                                       with a leading <Api>Request/<Api>Response
                                       stripped, snake_case)
  kmsg_<...>_st                        the field table of each struct
  kmsg_<api>_{req,resp}_msg            the message descriptor

The codec that reads the tables is store/kafka/kschema.c; the structures are
documented in store/kafka/kschema.h.

usage: scripts/kgen.py          write the generated files
       scripts/kgen.py --check  exit 1 (and say so) when they are stale
"""
import glob
import json
import os
import re
import sys

SCHEMA_DIR = "store/kafka/schema"
OUT_H = "store/kafka/kmsg_gen.h"
OUT_C = "store/kafka/kmsg_gen.c"
VMAX = 32767

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
}

# JSON type -> (kschema type constant, C type)
PRIMS = {
    "bool": ("KS_BOOL", "bool"),
    "int8": ("KS_INT8", "int8_t"),
    "int16": ("KS_INT16", "int16_t"),
    "uint16": ("KS_UINT16", "uint16_t"),
    "int32": ("KS_INT32", "int32_t"),
    "uint32": ("KS_UINT32", "uint32_t"),
    "int64": ("KS_INT64", "int64_t"),
    "float64": ("KS_FLOAT64", "double"),
    "uuid": ("KS_UUID", "struct kuuid"),
    "string": ("KS_STRING", "char *"),
    "bytes": ("KS_BYTES", "struct kbytes"),
    "records": ("KS_RECORDS", "struct kbytes"),
}


class SpecError(Exception):
    pass


def strip_comments(text):
    """Drop // comments outside JSON strings."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
            continue
        if c == '"':
            in_str = True
            out.append(c)
            i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = s.lower()
    return s + "_" if s in C_KEYWORDS else s


def vrange(spec, what):
    """'3+', '0-7', '5', 'none' -> (lo, hi); none is (1, 0), never."""
    if spec is None or spec == "none":
        return (1, 0)
    spec = str(spec).strip()
    if spec.endswith("+"):
        return (int(spec[:-1]), VMAX)
    if "-" in spec:
        lo, hi = spec.split("-", 1)
        return (int(lo), int(hi))
    if re.fullmatch(r"\d+", spec):
        return (int(spec), int(spec))
    raise SpecError("bad version range %r for %s" % (spec, what))


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Field:
    pass


class Struct:
    def __init__(self, cname, jname):
        self.cname = cname  # kmsg_metadata_resp_topic
        self.jname = jname  # MetadataResponseTopic
        self.fields = []


class Message:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.spec = json.loads(strip_comments(f.read()))
        self.path = path
        self.jname = self.spec["name"]
        self.kind = self.spec["type"]
        if self.kind == "request":
            self.api, self.suffix = self.jname[: -len("Request")], "req"
        elif self.kind == "response":
            self.api, self.suffix = self.jname[: -len("Response")], "resp"
        else:
            raise SpecError("%s: type %r is not request/response" % (path, self.kind))
        self.key = self.spec["apiKey"]
        self.valid = vrange(self.spec["validVersions"], self.jname)
        flex = vrange(self.spec.get("flexibleVersions", "none"), self.jname)
        self.flex_min = flex[0] if flex[0] <= flex[1] else VMAX
        self.prefix = "kmsg_%s_%s" % (snake(self.api), self.suffix)
        self.structs = []  # post-order: nested before their users
        self.by_type = {}
        self.common = {c["name"]: c for c in self.spec.get("commonStructs", [])}
        self.root = self.build(self.prefix, self.jname, self.spec["fields"])

    def type_cname(self, jtype):
        strip = self.jname
        base = jtype[len(strip):] if jtype.startswith(strip) and len(jtype) > len(strip) else jtype
        return "%s_%s" % (self.prefix, snake(base).rstrip("_"))

    def struct_for(self, jtype, fields):
        if jtype in self.by_type:
            if fields:
                raise SpecError("%s: struct %s defined twice" % (self.path, jtype))
            return self.by_type[jtype]
        if not fields:
            if jtype not in self.common:
                raise SpecError("%s: unknown struct type %s" % (self.path, jtype))
            fields = self.common[jtype]["fields"]
        cname = self.type_cname(jtype)
        if any(s.cname == cname for s in self.structs):
            raise SpecError("%s: two structs named %s" % (self.path, cname))
        st = self.build(cname, jtype, fields)
        self.by_type[jtype] = st
        return st

    def build(self, cname, jname, fields):
        st = Struct(cname, jname)
        names = set()
        for jf in fields:
            f = Field()
            f.jname = jf["name"]
            f.cname = snake(f.jname)
            if f.cname in names:
                raise SpecError("%s: field %s twice in %s" % (self.path, f.cname, jname))
            names.add(f.cname)
            t = jf["type"]
            f.array = t.startswith("[]")
            et = t[2:] if f.array else t
            f.v = vrange(jf.get("versions"), f.jname)
            f.nullv = vrange(jf.get("nullableVersions"), f.jname)
            f.tagv = vrange(jf.get("taggedVersions"), f.jname)
            f.tag = jf.get("tag", -1)
            if (f.tagv[0] <= f.tagv[1]) != (f.tag >= 0):
                raise SpecError("%s: %s: tag and taggedVersions go together" % (self.path, f.jname))
            f.flexv = jf.get("flexibleVersions")
            if f.flexv is not None:
                f.flexv = vrange(f.flexv, f.jname)
            f.st = None
            if et in PRIMS:
                f.ks, f.ctype = PRIMS[et]
                if "fields" in jf:
                    raise SpecError("%s: %s has fields but type %s" % (self.path, f.jname, et))
            else:
                f.st = self.struct_for(et, jf.get("fields"))
                f.ks, f.ctype = "KS_STRUCT", "struct %s" % f.st.cname
                if not f.array and f.nullv[0] <= f.nullv[1]:
                    raise SpecError("%s: nullable struct %s is not supported" % (self.path, f.jname))
            f.default = self.default(jf, f, et)
            st.fields.append(f)
        self.structs.append(st)
        return st

    def default(self, jf, f, et):
        d = jf.get("default")
        nullable = f.nullv[0] <= f.nullv[1]
        if f.array or et in ("bytes", "records"):
            if d is None:
                return ("len", 0)
            if d == "null" and nullable:
                return ("len", -1)
            raise SpecError("%s: %s: default %r" % (self.path, f.jname, d))
        if et == "string":
            if d is None:
                return ("str", "")
            if d == "null":
                if not nullable:
                    raise SpecError("%s: %s: null default, not nullable" % (self.path, f.jname))
                return ("str", None)
            return ("str", str(d))
        if et == "bool":
            if d is None:
                return ("int", 0)
            if isinstance(d, bool):
                return ("int", int(d))
            if str(d).lower() in ("true", "false"):
                return ("int", int(str(d).lower() == "true"))
            raise SpecError("%s: %s: bool default %r" % (self.path, f.jname, d))
        if et == "float64":
            return ("float", float(d) if d is not None else 0.0)
        if et == "uuid" or f.st is not None:
            if d not in (None, "", "AAAAAAAAAAAAAAAAAAAAAA"):
                raise SpecError("%s: %s: default %r" % (self.path, f.jname, d))
            return ("none", None)
        if d is None or d == "":
            return ("int", 0)
        return ("int", int(str(d), 0))


def vr(r):
    return "{%d, %s}" % (r[0], "KS_VMAX" if r[1] == VMAX else str(r[1]))


def vdesc(f):
    parts = []
    lo, hi = f.v
    if lo > hi:
        parts.append("never")
    elif hi == VMAX:
        parts.append("v%d+" % lo)
    elif lo == hi:
        parts.append("v%d" % lo)
    else:
        parts.append("v%d-%d" % (lo, hi))
    if f.nullv[0] <= f.nullv[1]:
        parts.append("null " + ("v%d+" % f.nullv[0] if f.nullv[1] == VMAX else
                                "v%d-%d" % f.nullv))
    if f.tag >= 0:
        parts.append("tag %d" % f.tag)
    return ", ".join(parts)


def gen_struct_decl(st, out):
    out.append("struct %s {" % st.cname)
    if not st.fields:
        out.append("\tchar unused_; /* no fields */")
    for f in st.fields:
        ct = f.ctype
        sep = "" if ct.endswith("*") else " "
        if f.array:
            out.append("\tint32_t n_%s; /* -1: null */" % f.cname.rstrip("_"))
            out.append("\t%s%s*%s; /* %s */" % (ct, sep, f.cname, vdesc(f)))
        else:
            out.append("\t%s%s%s; /* %s */" % (ct, sep, f.cname, vdesc(f)))
    out.append("};")
    out.append("")


def gen_struct_table(st, out):
    if st.fields:
        out.append("static const struct kschema_field %s_fields[] = {" % st.cname)
        for f in st.fields:
            e = ['.name = %s' % c_str(f.cname), ".type = %s" % f.ks]
            if f.array:
                e.append(".array = true")
                e.append(".off = offsetof(struct %s, n_%s)" % (st.cname, f.cname.rstrip("_")))
                e.append(".ptr_off = offsetof(struct %s, %s)" % (st.cname, f.cname))
            else:
                e.append(".off = offsetof(struct %s, %s)" % (st.cname, f.cname))
            e.append(".v = %s" % vr(f.v))
            if f.nullv[0] <= f.nullv[1]:
                e.append(".nullv = %s" % vr(f.nullv))
            else:
                e.append(".nullv = {1, 0}")
            if f.tag >= 0:
                e.append(".tagv = %s" % vr(f.tagv))
                e.append(".tag = %d" % f.tag)
            else:
                e.append(".tagv = {1, 0}")
                e.append(".tag = -1")
            if f.flexv is not None:
                e.append(".flex_override = true")
                e.append(".flexv = %s" % vr(f.flexv))
            kind, val = f.default
            if kind in ("int", "len") and val:
                if val == -(2 ** 63):
                    e.append(".def_i = INT64_MIN")
                else:
                    e.append(".def_i = %dLL" % val)
            elif kind == "float" and val:
                e.append(".def_f = %r" % val)
            elif kind == "str" and val is not None:
                e.append(".def_s = %s" % c_str(val))
            if f.st is not None:
                e.append(".st = &%s_st" % f.st.cname)
            out.append("\t{" + ", ".join(e) + "},")
        out.append("};")
    out.append("const struct kschema_struct %s_st = {" % st.cname)
    out.append("\t.name = %s," % c_str(st.jname))
    out.append("\t.size = sizeof(struct %s)," % st.cname)
    out.append("\t.nfields = %d," % len(st.fields))
    out.append("\t.fields = %s," % ("%s_fields" % st.cname if st.fields else "NULL"))
    out.append("};")
    out.append("")


HEAD = """/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GENERATED by scripts/kgen.py from store/kafka/schema/ (*.json) (Apache Kafka's
 * message specs): do not edit; change the specs or the generator and run
 * `make gen`.  %s
 */
"""


def generate(paths):
    msgs = []
    for p in sorted(paths):
        spec_type = None
        with open(p, encoding="utf-8") as f:
            spec_type = json.loads(strip_comments(f.read())).get("type")
        if spec_type in ("request", "response"):
            msgs.append(Message(p))
    apis = {}
    for m in msgs:
        apis.setdefault(m.api, {})[m.suffix] = m
    for api, pair in apis.items():
        if set(pair) != {"req", "resp"}:
            raise SpecError("%s: needs both a request and a response spec" % api)
        if pair["req"].key != pair["resp"].key:
            raise SpecError("%s: request and response api keys differ" % api)
    order = sorted(apis.items(), key=lambda kv: kv[1]["req"].key)

    h = [HEAD % "The structs are documented in kschema.h; every field comment gives\n"
         " * the versions it is on the wire in (and nullable, tagged).", ""]
    h.append("#ifndef SLUICE_STORE_KMSG_GEN_H")
    h.append("#define SLUICE_STORE_KMSG_GEN_H")
    h.append("")
    h.append("#include <stdbool.h>")
    h.append("#include <stddef.h>")
    h.append("#include <stdint.h>")
    h.append("")
    h.append('#include "store/kafka/kschema.h"')
    h.append("")
    c = [HEAD % "Field tables for store/kafka/kschema.c.", ""]
    c.append("#include <stddef.h>")
    c.append("#include <stdint.h>")
    c.append("")
    c.append('#include "store/kafka/kmsg_gen.h"')
    c.append("")
    for api, pair in order:
        for suffix in ("req", "resp"):
            m = pair[suffix]
            h.append("/* ---- %s (key %d) v%d-%d, flexible %s */" % (
                m.jname, m.key, m.valid[0], m.valid[1],
                "never" if m.flex_min == VMAX else "v%d+" % m.flex_min))
            h.append("")
            for st in m.structs:
                gen_struct_decl(st, h)
                gen_struct_table(st, c)
            for st in m.structs:
                h.append("extern const struct kschema_struct %s_st;" % st.cname)
            h.append("extern const struct kschema_msg %s_msg;" % m.prefix)
            h.append("")
            c.append("const struct kschema_msg %s_msg = {" % m.prefix)
            c.append("\t.name = %s," % c_str(m.jname))
            c.append("\t.api_key = %d," % m.key)
            c.append("\t.valid = %s," % vr(m.valid))
            c.append("\t.flex_min = %s," % ("KS_VMAX" if m.flex_min == VMAX else m.flex_min))
            c.append("\t.root = &%s_st," % m.prefix)
            c.append("};")
            c.append("")
    h.append("/* Every message above, requests and responses, by api key. */")
    h.append("extern const struct kschema_msg *const kmsg_all[];")
    h.append("extern const size_t kmsg_all_count;")
    h.append("")
    h.append("#endif")
    h.append("")
    c.append("const struct kschema_msg *const kmsg_all[] = {")
    for api, pair in order:
        c.append("\t&%s_msg," % pair["req"].prefix)
        c.append("\t&%s_msg," % pair["resp"].prefix)
    c.append("};")
    c.append("")
    c.append("const size_t kmsg_all_count = sizeof(kmsg_all) / sizeof(kmsg_all[0]);")
    c.append("")
    return "\n".join(h), "\n".join(c)


def main(argv):
    os.chdir(os.path.dirname(os.path.abspath(__file__)) + "/..")
    try:
        gh, gc = generate(glob.glob(os.path.join(SCHEMA_DIR, "*.json")))
    except (SpecError, KeyError, ValueError) as e:
        print("kgen: %s" % e, file=sys.stderr)
        return 2
    if argv and argv[0] == "--check":
        stale = []
        for path, text in ((OUT_H, gh), (OUT_C, gc)):
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except OSError:
                stale.append(path)
        for p in stale:
            print("%s:1: generated: stale, run `make gen` (scripts/kgen.py)" % p)
        return 1 if stale else 0
    for path, text in ((OUT_H, gh), (OUT_C, gc)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
