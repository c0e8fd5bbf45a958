"""Fails when <tomodachi/tomodachi.hpp> reaches a transport-implementer header.

usage: user_surface.py <c++ compiler> <compile flags file> <source including tomodachi.hpp>

Runs the compiler with -M (the preprocessor's list of every header the file reads) and
fails if the list names a header under tomodachi/transport/ or one called messaging.hpp:
those are for transport implementers (docs/development.md, "Public headers").
"""

import shlex
import subprocess
import sys


def main() -> int:
    compiler, flags_file, source = sys.argv[1:4]
    result = subprocess.run(
        [compiler, f"@{flags_file}", "-M", source], capture_output=True, text=True
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        print(f"FAIL: {compiler} -M {source} exited with {result.returncode}")
        return 1
    text = result.stdout.replace("\\\n", " ")
    headers = [word for word in shlex.split(text)[1:] if word.endswith((".hpp", ".h"))]
    if not any(path.endswith("tomodachi/tomodachi.hpp") for path in headers):
        print("FAIL: the dependency list does not name tomodachi/tomodachi.hpp:")
        print("\n".join(headers))
        return 1
    leaked = [
        path
        for path in headers
        if "/tomodachi/transport/" in path or path.rsplit("/", 1)[-1] == "messaging.hpp"
    ]
    tomodachi_headers = sorted({path for path in headers if "/tomodachi/" in path})
    print(f"{len(headers)} headers, {len(tomodachi_headers)} of tomodachi:")
    print("\n".join("  " + path for path in tomodachi_headers))
    if leaked:
        print("FAIL: <tomodachi/tomodachi.hpp> reaches transport-implementer headers:")
        print("\n".join("  " + path for path in leaked))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
