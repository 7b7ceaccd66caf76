#!/usr/bin/env python3
# security_scan_corpus.py -- generates the mixed source corpus of bench/security_scan_bench.sh:
# N shards of Python/JS/Go/C/YAML/JSON/Markdown files with planted synthetic secrets at known lines
# (assembled at run time from pieces, as in the plugin's tests) and decoys. Writes planted.json.
import argparse
import json
import os
import random

UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LO = "abcdefghijklmnopqrstuvwxyz"
DI = "0123456789"
AL = UP + LO + DI
HEX = "0123456789abcdef"


def rs(rng, n, alphabet):
    return "".join(rng.choice(alphabet) for _ in range(n))


def secret(rng, kind):
    """(line text, rule) for one planted secret of `kind`; prefixes are split so this file holds
    no secret-shaped literal."""
    if kind == "github-pat":
        return 'GITHUB_TOKEN = "%s"' % ("gh" + "p_" + rs(rng, 36, AL))
    if kind == "aws-access-key-id":
        return 'aws_key_id = "%s"' % ("AK" + "IA" + rs(rng, 16, UP + "234567"))
    if kind == "slack-bot-token":
        return 'token: "%s"' % ("xo" + "xb-" + rs(rng, 12, DI) + "-" + rs(rng, 13, DI) + "-" + rs(rng, 24, AL))
    if kind == "npm-access-token":
        return "//registry.npmjs.org/:_authToken=" + "np" + "m_" + rs(rng, 36, AL)
    if kind == "sendgrid-api-key":
        return "SENDGRID = '%s'" % ("SG" + "." + rs(rng, 22, AL) + "." + rs(rng, 43, AL))
    if kind == "shopify-token":
        return 'SHOP = "%s"' % ("shp" + "at_" + rs(rng, 32, HEX))
    if kind == "url-basic-auth":
        return "DB_URL=postgres://svc:%s@db.internal:5432/app" % (rs(rng, 10, AL) + rs(rng, 4, DI))
    if kind == "openai-api-key":
        return 'OPENAI = "%s"' % ("sk-" + "proj-" + rs(rng, 24, AL) + "T3Blbk" + "FJ" + rs(rng, 24, AL))
    if kind == "stripe-secret-key":
        return "stripe: '%s'" % ("sk_" + "live_" + rs(rng, 24, AL))
    if kind == "gitlab-pat":
        return "GL_TOKEN=" + "gl" + "pat-" + rs(rng, 20, AL)
    raise ValueError(kind)


KINDS = ["github-pat", "aws-access-key-id", "slack-bot-token", "npm-access-token", "sendgrid-api-key",
         "shopify-token", "url-basic-auth", "openai-api-key", "stripe-secret-key", "gitlab-pat"]

CODE = [
    "def {f}(self, {a}, {b}=None):\n    return self.{a}.get({b}, {n})\n",
    "for {a} in range({n}):\n    total += {a} * {n}  # accumulate\n",
    "const {f} = ({a}, {b}) => {a}.map(x => x + {n});\n",
    "func {F}({a} int, {b} string) error {{\n\treturn fmt.Errorf(\"%d %s\", {a}, {b})\n}}\n",
    "static int {f}(const char *{a}, size_t {b}) {{ return memcmp({a}, \"{w}\", {b}); }}\n",
    "  {a}: {n}\n  {b}: \"{w} {w2}\"\n",
    "    \"{a}\": {{\"id\": {n}, \"name\": \"{w}\", \"sha256\": \"{h}\"}},\n",
    "Lorem ipsum {w} dolor sit amet, {w2} consectetur adipiscing elit ({n}).\n",
    "import {a}\nfrom {b} import {F}\n",
    "# {F}: see https://example.com/{w}/{n} for the {w2} protocol\n",
    "request_id = \"{u}\"  # correlation key for {w}\n",
    "if ({a} && {b}) {{ {f}({n}); }} else {{ throw new Error(\"{w}\"); }}\n",
]
EXT = [".py", ".js", ".go", ".c", ".yaml", ".json", ".md", ".ts"]
WORDS = ["alpha", "beta", "gamma", "delta", "value", "config", "item", "node", "model", "layer",
         "token_count", "access_level", "user", "path", "buffer", "stream", "cache", "index"]


def chunk(rng):
    w = lambda: rng.choice(WORDS)
    t = rng.choice(CODE)
    return t.format(f=w() + "_" + w(), F=w().title() + w().title(), a=w(), b=w(), n=rng.randint(0, 99999),
                    w=w(), w2=w(), h=rs(rng, 64, HEX),
                    u="%s-%s-4%s-a%s-%s" % (rs(rng, 8, HEX), rs(rng, 4, HEX), rs(rng, 3, HEX), rs(rng, 3, HEX), rs(rng, 12, HEX)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--shards", type=int, default=20)
    ap.add_argument("--secrets-per-shard", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    # A pool of pre-rendered chunks keeps generation fast; files draw from it at random.
    pool = [chunk(rng) for _ in range(20000)]
    total = args.mb * 1024 * 1024
    per_shard = total // args.shards
    planted = []
    for s in range(args.shards):
        shard = "shard%02d" % s
        written = 0
        files = []
        i = 0
        while written < per_shard:
            rel = "%s/pkg%03d/%s_%04d%s" % (shard, i // 50, rng.choice(WORDS), i, rng.choice(EXT))
            size = min(rng.randint(4, 96) * 1024, per_shard - written)
            parts, n = [], 0
            while n < size:
                c = rng.choice(pool)
                parts.append(c)
                n += len(c)
            files.append([rel, parts])
            written += n
            i += 1
        # Plant secrets: one line inserted between chunks of randomly chosen files.
        for k in range(args.secrets_per_shard):
            f = rng.choice(files)
            at = rng.randint(0, len(f[1]))
            kind = KINDS[k % len(KINDS)]
            f[1].insert(at, secret(rng, kind) + "\n")
            f.append(None)  # marks "has planted secrets": line numbers resolved below
        for rel, parts, *_ in files:
            path = os.path.join(args.out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            text = "".join(parts)
            with open(path, "w") as fh:
                fh.write(text)
            line = 1
            for p in parts:
                if any(p.startswith(x) for x in ("GITHUB_TOKEN", "aws_key_id", "token: \"xo", "//registry", "SENDGRID",
                                                   "SHOP", "DB_URL", "OPENAI", "stripe:", "GL_TOKEN")):
                    planted.append({"path": rel, "line": line, "shard": shard})
                line += p.count("\n")
    with open(os.path.join(args.out, "..", "planted.json"), "w") as fh:
        json.dump(planted, fh)


if __name__ == "__main__":
    main()
