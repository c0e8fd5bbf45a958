// The `tomodachi` command-line tool.
#include "cli/run.hpp"

int main(int argc, char** argv) { return tomodachi::cli::main_entry(argc, argv); }
