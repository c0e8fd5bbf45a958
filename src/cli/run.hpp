#pragma once
// Entry point of the `tomodachi` executable.

namespace tomodachi::cli {

/// `tomodachi <args>`: returns the process exit status.
int main_entry(int argc, char** argv);

}  // namespace tomodachi::cli
