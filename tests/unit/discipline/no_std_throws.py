"""Fails when the library throws a plain standard exception or defines one of its own on
a standard base instead of tomodachi::Error (docs/development.md, "Errors and names").

usage: no_std_throws.py <project source dir> <allowlist file>

Reads every .cpp/.hpp under src/ and include/ (sorted, code before a `//` comment only) and
reports, as <file>:<line>: <text>,
  * `throw std::<type>` unless <type> is allowed (std::system_error, std::bad_alloc: an OS
    error with its error_code, an allocation failure);
  * a class or struct deriving directly from a standard exception type that is not allowed
    (other than tomodachi::Error itself, in include/tomodachi/error.hpp).
The allowlist names the allowed std types (`std::...`) and folders/files not checked yet
(`src/...`), one per line, each with a `#` comment saying why.
"""

import pathlib
import re
import sys

THROW = re.compile(r"\bthrow\s+(std::\w+)")
STD_EXCEPTION = r"(std::(?:\w*_error|exception|invalid_argument|out_of_range|bad_\w+))\b"
BASE = re.compile(
    r"\b(?:class|struct)\s+(\w+)\s*(?:final\s*)?:\s*(?:public\s+|private\s+|protected\s+)?"
    + STD_EXCEPTION
)
ROOT = ("include/tomodachi/error.hpp", "Error")


def read_allowlist(path: pathlib.Path) -> tuple[set[str], list[str]]:
    types: set[str] = set()
    prefixes: list[str] = []
    for raw in path.read_text().splitlines():
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        if "#" not in raw:
            raise SystemExit(f"{path}: '{entry}' needs a '# why' comment")
        (types.add if entry.startswith("std::") else prefixes.append)(entry)
    return types, prefixes


def main() -> int:
    root = pathlib.Path(sys.argv[1]).resolve()
    allowed_types, skipped = read_allowlist(pathlib.Path(sys.argv[2]))
    files = sorted(
        path
        for folder in ("src", "include")
        for path in (root / folder).rglob("*")
        if path.suffix in (".cpp", ".hpp") and path.is_file()
    )
    problems: list[str] = []
    checked = 0
    for path in files:
        relative = path.relative_to(root).as_posix()
        if any(relative.startswith(prefix) for prefix in skipped):
            continue
        checked += 1
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            code = line.split("//", 1)[0]
            for match in THROW.finditer(code):
                if match.group(1) not in allowed_types:
                    problems.append(f"{relative}:{number}: {line.strip()}")
            for match in BASE.finditer(code):
                if (relative, match.group(1)) != ROOT and match.group(2) not in allowed_types:
                    problems.append(f"{relative}:{number}: {line.strip()}")
    print(f"{checked} files checked, {len(skipped)} paths skipped (allowlist)")
    if problems:
        print("FAIL: throw a tomodachi::Error subclass (OptionError, ArgumentError, Error, ...)")
        print("and derive private exception types from tomodachi::Error:")
        print("\n".join("  " + problem for problem in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
