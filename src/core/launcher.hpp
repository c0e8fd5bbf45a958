#pragma once
// Runs the services of one or more files in this process: start sequence, signals,
// exit codes and the stop sequence with one deadline (spec/service.md §4–§5).

#include "core/registry.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace tomodachi::detail {

/// The services defined by one file (a Python "container").
struct Container {
  std::string file_path;  // as given on the command line ("<main>" for linked services)
  std::vector<ServiceClass> classes;
};

struct LaunchOptions {
  boost::json::object config;    // merged -c config files (empty: none)
  bool watcher_enabled = false;  // for the execution context
};

struct LaunchResult {
  int exit_code = 0;
  bool restart = false;      // stopped by request_restart(), not by a signal or exit()
  bool interrupted = false;  // stopped by a signal or tomodachi::exit()
};

/// Starts every container, runs the loop until stopped, stops them. Blocks.
LaunchResult launch(std::vector<Container> containers, const LaunchOptions& options);

/// Thread-safe: stop gracefully and report `restart` (used by the file watcher).
/// Ignored after a signal or tomodachi::exit().
void request_restart();

/// Thread-safe: true while a launch runs and no stop was requested.
bool is_running();

// Service set-up steps of the start sequence (defined in service.cpp).

/// Applies a `-c` config: `uuid`, `name`, and `options` (which replaces the service's, as
/// upstream). Throws OptionError for a bad value or key.
void apply_config(Service& service, const boost::json::object& config);

/// Registers in get_service(); a name already taken gets -0001, -0002, ... suffixes.
void register_with_unique_name(Service& service);

/// The module name of a service file (its stem), as upstream's records name it.
std::string file_module(const std::string& file_path);
/// Name for a service without one (spec/service.md §3): kebab-case class name,
/// prefixed by the file's stem unless it is a conventional entry file name.
std::string derived_service_name(const std::string& class_name, const std::string& file_path);

}  // namespace tomodachi::detail
