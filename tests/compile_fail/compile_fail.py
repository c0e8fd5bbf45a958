"""Compile-fail harness (tests/compile_fail/CMakeLists.txt).

  compile_fail.py case <c++ compiler> <compile flags file> <case.cpp>
      The case must fail to compile, and the compiler's output must contain every text
      given on a `// expect: <text>` line of the case.
  compile_fail.py coverage <include dir> <cases dir> <unreachable.txt>
      Every static_assert message in the headers that starts with "tomodachi:" is
      expected by a case, or listed in unreachable.txt (`<message> | <reason>`).
"""

import pathlib
import re
import subprocess
import sys

EXPECT = re.compile(r"^// expect: (.+)$", re.MULTILINE)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def expectations(case: pathlib.Path) -> list[str]:
    return [text.strip() for text in EXPECT.findall(case.read_text())]


def run_case(compiler: str, flags_file: str, case_path: str) -> int:
    case = pathlib.Path(case_path)
    expected = expectations(case)
    if not expected:
        print(f"FAIL: {case} has no `// expect:` line")
        return 1
    result = subprocess.run(
        [compiler, f"@{flags_file}", "-fsyntax-only", str(case)],
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode == 0:
        print(f"FAIL: {case.name} compiled; it must not")
        return 1
    missing = [text for text in expected if text not in output]
    if missing:
        print(output[-6000:])
        print(f"FAIL: {case.name} failed to compile, but the output lacks:")
        print("\n".join("  " + text for text in missing))
        return 1
    print(f"{case.name}: fails to compile with: " + "; ".join(expected))
    return 0


def static_assert_messages(include_dir: pathlib.Path) -> dict[str, str]:
    """`message -> header:line` of every static_assert with a "tomodachi:" message."""
    messages = {}
    for header in sorted(include_dir.rglob("*.hpp")):
        text = header.read_text()
        for match in re.finditer(r"\bstatic_assert\s*\(", text):
            depth, end = 1, match.end()
            while depth and end < len(text):  # to the parenthesis closing the arguments
                if text[end] == '"':  # skip a string literal, escapes included
                    end += 1
                    while text[end] != '"':
                        end += 2 if text[end] == "\\" else 1
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            arguments = text[match.end() : end - 1]
            message = "".join(STRING.findall(arguments)).replace('\\"', '"')
            if message.startswith("tomodachi:"):
                line = text.count("\n", 0, match.start()) + 1
                messages[message] = f"{header.relative_to(include_dir)}:{line}"
    return messages


def coverage(include_dir: str, cases_dir: str, unreachable_path: str) -> int:
    messages = static_assert_messages(pathlib.Path(include_dir))
    expected = set()
    for case in pathlib.Path(cases_dir).glob("*.cpp"):
        expected.update(expectations(case))
    unreachable = {}
    for line in pathlib.Path(unreachable_path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            message, _, reason = line.partition(" | ")
            unreachable[message.strip()] = reason.strip()
    uncovered = [
        (where, message)
        for message, where in messages.items()
        if message not in unreachable and message not in expected
    ]
    stale = [message for message in unreachable if message not in messages]
    for message, where in sorted(messages.items(), key=lambda item: item[1]):
        state = "unreachable" if message in unreachable else "case"
        print(f"{where}: [{state}] {message}")
    if uncovered or stale:
        for where, message in uncovered:
            print(f"FAIL: {where}: no tests/compile_fail/cases/*.cpp expects: {message}")
        for message in stale:
            print(f"FAIL: unreachable.txt lists a message no header has: {message}")
        return 1
    return 0


def main() -> int:
    if sys.argv[1] == "case":
        return run_case(*sys.argv[2:5])
    if sys.argv[1] == "coverage":
        return coverage(*sys.argv[2:5])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
