// The process run: start sequence, signals, exit codes and the stop sequence of
// spec/service.md §4–§5, on one io_context run by one thread.
#include "core/launcher.hpp"

#include "core/async.hpp"
#include "core/hooks.hpp"
#include "core/loop.hpp"
#include "core/service_state.hpp"
#include "core/transports.hpp"
#include "health/lifecycle.hpp"
#include "telemetry/instrument.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>
#include <tomodachi/version.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/version.hpp>
#include <boost/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>

namespace tomodachi {
namespace detail {
void reset_execution_context(const boost::json::object& values);
}

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::atomic<int> exit_code_value{0};

// ---------------------------------------------------------------------------------
// The run

struct ServiceRun {
  std::unique_ptr<Service> service;
  std::vector<std::unique_ptr<TransportInstance>> transports;  // in start order
  bool start_hook_done = false;
};

struct ContainerRun {
  detail::Container spec;
  std::vector<ServiceRun> services;  // the services that start
  // Services without handlers and start hooks: constructed and registered, never started
  // and without records, as upstream.
  std::vector<ServiceRun> idle;
  bool has_several_services = false;
  bool stop_hooks_allowed = false;
  bool never_started = false;  // a constructor or the config failed, or nothing to run
  // Upstream's `failed to start service` names the service of a single-service file only
  // when a start hook or a transport's start failed.
  bool abort_names_service = false;
};

class Launch;
std::atomic<Launch*> current_launch{nullptr};

using Hook = Task<void> (Service::*)();

class StartAborted : public Error {
 public:
  StartAborted() : Error("service start aborted") {}
};

/// A file with nothing to run: upstream logs only `no transport handlers defined`.
class NothingToRun : public StartAborted {};

/// A constructor or the `-c` config failed: upstream logs `error during initializing`.
class InitFailed : public StartAborted {};

class Launch {
 public:
  Launch(asio::io_context& io, const detail::LaunchOptions& options) : io_(io), options_(options) {}

  asio::io_context& io() { return io_; }

  /// Loop thread only.
  void request_stop(bool restart) {
    if (stop_requested_) return;
    stop_requested_ = true;
    stop_deadline();  // the one deadline runs from the stop request, even during start-up
    restart_ = restart && restart_allowed_;
    health::begin_drain();  // readyz 503 first; the stop sequence follows the drain delay
    stop_event_.set();
    for (auto& signal : start_cancellations_) signal->emit(asio::cancellation_type::terminal);
  }

  void forbid_restart() { restart_allowed_ = false; }
  bool stop_requested() const { return stop_requested_; }
  bool restart() const { return restart_ && restart_allowed_; }
  bool interrupted() const { return !restart_allowed_; }

  Task<void> run(std::vector<detail::Container> containers) {
    for (auto& container : containers) {
      auto run = std::make_unique<ContainerRun>();
      run->spec = std::move(container);
      containers_.push_back(std::move(run));
    }
    health::begin_run(containers_.size());
    std::vector<Task<void>> tasks;
    for (auto& container : containers_) tasks.push_back(run_container(*container));
    auto errors = co_await core::when_all(std::move(tasks));
    for (auto& error : errors) {
      if (error) log_uncaught_exception(error);
    }
    co_await run_process_drains();
    auto telemetry_flush = telemetry::shutdown_process_pipeline(stop_deadline());
    co_await std::move(telemetry_flush);
  }

  void add_process_drain(std::function<Task<void>(Deadline)> drain) {
    process_drains_.push_back(std::move(drain));
  }

  /// After every container stopped: what on_process_stop() registered, within the deadline.
  Task<void> run_process_drains() {
    const Deadline deadline = stop_deadline();
    std::vector<Task<void>> drains;
    for (auto& drain : process_drains_) drains.push_back(drain(deadline));
    process_drains_.clear();
    co_await when_all_logged(std::move(drains));
  }

  /// Services and transports are destroyed here, after the loop stopped.
  void destroy_services() {
    for (auto& container : containers_) {
      for (auto& run : container->services) run.transports.clear();
    }
    detail::clear_instances();
    for (auto& container : containers_) {
      container->services.clear();
      container->idle.clear();
    }
  }

 private:
  Task<void> run_container(ContainerRun& container) {
    auto cancellation = std::make_shared<asio::cancellation_signal>();
    start_cancellations_.push_back(cancellation);
    auto executor = co_await asio::this_coro::executor;
    std::exception_ptr start_error;
    if (!stop_requested_) {
      try {
        co_await asio::co_spawn(
            executor, start_container(container),
            asio::bind_cancellation_slot(cancellation->slot(), asio::use_awaitable));
      } catch (...) {
        start_error = std::current_exception();
      }
    }
    start_cancellations_.erase(
        std::find(start_cancellations_.begin(), start_cancellations_.end(), cancellation));
    if (start_error) {
      abort_start(container, start_error);
    } else if (!stop_requested_) {
      log_lifecycle(container, "started service successfully", "ready", "lifecycle.ready");
      health::container_started();
    }
    co_await stop_event_.wait();
    if (!restart()) co_await health::drain_delay();  // inside the one deadline (shorter)
    co_await stop_container(container);
  }

  void abort_start(ContainerRun& container, std::exception_ptr error) {
    bool aborted_by_stop = false;
    bool never_started = false;
    try {
      std::rethrow_exception(error);
    } catch (const NothingToRun&) {
      never_started = true;
    } catch (const InitFailed&) {
      get_logger("tomodachi.init").warning("error during initializing", file_fields(container));
      never_started = true;
    } catch (const boost::system::system_error& e) {
      aborted_by_stop = stop_requested_ && e.code() == asio::error::operation_aborted;
      if (!aborted_by_stop) log_uncaught_exception(error);
    } catch (...) {
      log_uncaught_exception(error);
    }
    if (aborted_by_stop) return;
    // Upstream: a service that never started gets no abort and no stop records.
    container.never_started = never_started;
    for (auto& run : container.services) {
      if (container.never_started) break;
      LogFields fields = {{"state", "aborting"}};
      if (container.abort_names_service || container.has_several_services)
        fields.push_back({"service", boost::json::string(run.service->name())});
      get_logger("tomodachi.lifecycle").warning("failed to start service", std::move(fields));
      log_event("lifecycle.abort");
    }
    set_service_exit_code(1);
    request_stop(false);
  }

  /// Per service, as upstream: the `tomodachi.lifecycle` record (`service` only when the
  /// file has several services), then the `-> <event>` debug record when one is given.
  void log_lifecycle(ContainerRun& container, std::string_view message, std::string_view state,
                     std::string_view event = {}) {
    for (auto& run : container.services) log_lifecycle(container, run, message, state, event);
  }

  void log_lifecycle(ContainerRun& container, ServiceRun& run, std::string_view message,
                     std::string_view state, std::string_view event = {}) {
    LogFields fields = {{"state", boost::json::string(state)}};
    if (container.has_several_services)
      fields.push_back({"service", boost::json::string(run.service->name())});
    get_logger("tomodachi.lifecycle").info(message, std::move(fields));
    if (!event.empty()) log_event(event);
  }

  static void log_event(std::string_view event) {
    get_logger("tomodachi.event")
        .debug("-> " + std::string(event), {{"event", boost::json::string(event)}});
  }

  /// `module` and `file_path` of the file's records on logger `tomodachi.init`.
  static LogFields file_fields(const ContainerRun& container) {
    return {{"module", boost::json::string(detail::file_module(container.spec.file_path))},
            {"file_path", boost::json::string(container.spec.file_path)}};
  }

  // -- start ---------------------------------------------------------------------

  void instantiate(ContainerRun& container) {
    auto classes = container.spec.classes;
    std::sort(classes.begin(), classes.end(),
              [](const detail::ServiceClass& a, const detail::ServiceClass& b) {
                return a.class_name < b.class_name;
              });
    for (const auto& service_class : classes) {
      ServiceRun run;
      const LogFields init_fields = {
          {"module", boost::json::string(detail::file_module(container.spec.file_path))},
          {"class", boost::json::string(service_class.class_name)},
          {"file_path", boost::json::string(container.spec.file_path)}};
      try {
        run.service = service_class.factory();
      } catch (...) {
        log_uncaught_exception(std::current_exception());
        get_logger("tomodachi.init").error("failed to initialize instance", init_fields);
        throw InitFailed();
      }
      auto& state = detail::service_state(*run.service);
      state.class_name = service_class.class_name;
      state.source_file = service_class.source_file;
      try {
        detail::apply_config(*run.service, options_.config);
      } catch (...) {
        log_uncaught_exception(std::current_exception());
        get_logger("tomodachi.init").error("failed to setup config", init_fields);
        throw InitFailed();
      }
      if (run.service->name().empty()) {
        run.service->set_name(
            detail::derived_service_name(service_class.class_name, container.spec.file_path));
      }
      container.services.push_back(std::move(run));
    }
    for (auto& run : container.services) detail::register_with_unique_name(*run.service);
    auto idle = std::stable_partition(container.services.begin(), container.services.end(),
                                      [](ServiceRun& run) { return starts(*run.service); });
    container.idle.assign(std::make_move_iterator(idle),
                          std::make_move_iterator(container.services.end()));
    container.services.erase(idle, container.services.end());
    container.has_several_services = container.services.size() > 1;
  }

  Task<void> start_container(ContainerRun& container) {
    instantiate(container);
    if (container.services.empty()) {
      get_logger("tomodachi.init").warning("no transport handlers defined", file_fields(container));
      throw NothingToRun();
    }
    for (auto& run : container.services) health::service_loaded(*run.service);
    if (telemetry::instrumentation_requested()) {  // one pipeline per process: the first service
      auto executor = co_await asio::this_coro::executor;
      const auto& first = *container.services.front().service;
      telemetry::start_process_pipeline(executor, first.name(), first.uuid());
    }
    // Upstream logs these before its handlers' registration (phase 1: AMQP connects) runs.
    for (auto& run : container.services) {
      get_logger("tomodachi.service")
          .info("initializing service instance",
                {{"service", boost::json::string(run.service->name())},
                 {"uuid", boost::json::string(run.service->uuid())}});
      log_lifecycle(container, run, "starting the service", "starting", "lifecycle.setup");
    }
    create_transports(container);
    co_await run_steps(container, "setup", [](TransportInstance& t) { return t.setup(); });

    container.stop_hooks_allowed = true;
    container.abort_names_service = true;
    co_await run_hooks(container, &Service::start_service, "start_service", "lifecycle.setup");
    for (auto& run : container.services) run.start_hook_done = true;

    co_await run_steps(container, "start", [](TransportInstance& t) { return t.start(); });
    container.abort_names_service = false;
    if (stop_requested_) co_return;
    log_lifecycle(container, "enabled handler functions", "initialized", "lifecycle.initialized");

    co_await run_hooks(container, &Service::started_service, "started_service",
                       "lifecycle.initialized");
    co_await run_steps(container, "started", [](TransportInstance& t) { return t.started(); });
  }

  void create_transports(ContainerRun& container) {
    for (auto& run : container.services) {
      std::vector<std::string> kinds;
      std::map<std::string, std::vector<const HandlerSpec*>> specs_by_kind;
      for (const auto& spec : run.service->handlers()) {
        if (specs_by_kind.find(spec->transport) == specs_by_kind.end())
          kinds.push_back(spec->transport);
        specs_by_kind[spec->transport].push_back(spec.get());
      }
      for (const auto& kind : kinds) {
        auto factory = detail::find_transport(kind);
        if (!factory) {
          throw Error("no transport registered for handlers of kind '" + kind + "' (handler '" +
                      specs_by_kind[kind].front()->name + "')");
        }
        run.transports.push_back((*factory)(*run.service, specs_by_kind[kind]));
      }
    }
  }

  template <typename Step>
  Task<void> run_steps(ContainerRun& container, std::string_view step_name, Step step) {
    std::vector<Task<void>> tasks;
    for (auto& run : container.services) {
      for (auto& transport : run.transports) tasks.push_back(step(*transport));
    }
    auto errors = co_await core::when_all(std::move(tasks));
    rethrow_first(errors, step_name);
  }

  Task<void> run_hooks(ContainerRun& container, Hook hook, std::string_view hook_name,
                       std::string_view event) {
    std::vector<Task<void>> tasks;
    for (auto& run : container.services) {
      tasks.push_back(hook_in_context(run, hook, std::string(hook_name), std::string(event)));
    }
    auto errors = co_await core::when_all(std::move(tasks));
    rethrow_first(errors, hook_name);
  }

  void rethrow_first(const std::vector<std::exception_ptr>& errors, std::string_view) {
    std::exception_ptr first;
    for (const auto& error : errors) {
      if (!error) continue;
      if (!first) {
        first = error;
      } else {
        log_uncaught_exception(error);
      }
    }
    if (first) std::rethrow_exception(first);
  }

  static bool starts(Service& service) {
    return !service.handlers().empty() || detail::overrides_a_start_hook(service);
  }

  // -- stop ----------------------------------------------------------------------

  Task<void> stop_container(ContainerRun& container) {
    const Deadline deadline = stop_deadline();
    if (!container.never_started) {
      for (auto& run : container.services) {
        log_event("lifecycle.interrupt");
        log_lifecycle(container, run, "stopping service", "stopping");
      }
    }
    for (auto& run : container.services) {
      for (auto& transport : run.transports) transport->stop_requested();
    }

    // The stopping_service hooks start first; ~10 ms later the stop chains (transports
    // draining, then stop_service) run concurrently with them, and all are awaited.
    const Deadline transport_deadline =
        deadline - std::min<std::chrono::steady_clock::duration>(
                       1s, (deadline - std::chrono::steady_clock::now()) / 10);
    auto executor = co_await asio::this_coro::executor;
    std::vector<Task<void>> hooks_and_chains;
    for (auto& run : container.services) {
      const bool hooks = container.stop_hooks_allowed && run.start_hook_done;
      if (hooks)
        hooks_and_chains.push_back(
            run_hook(run, &Service::stopping_service, "stopping_service", "lifecycle.interrupt"));
    }
    hooks_and_chains.push_back(delayed_stop_chains(container, transport_deadline, executor));
    co_await when_all_logged(std::move(hooks_and_chains));
    if (!container.never_started) log_lifecycle(container, "terminated service", "terminated");
  }

  /// After the ~10 ms yield: `-> lifecycle.teardown` per service, then the services' stop
  /// chains concurrently.
  Task<void> delayed_stop_chains(ContainerRun& container, Deadline deadline,
                                 asio::any_io_executor executor) {
    asio::steady_timer yield_timer(executor, 10ms);
    boost::system::error_code ignored;
    co_await yield_timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!container.never_started) {
      for (std::size_t i = 0; i < container.services.size(); ++i) log_event("lifecycle.teardown");
    }
    std::vector<Task<void>> chains;
    for (auto& run : container.services) {
      const bool hooks = container.stop_hooks_allowed && run.start_hook_done;
      chains.push_back(stop_chain(run, deadline, hooks));
    }
    co_await when_all_logged(std::move(chains));
  }

  Task<void> stop_chain(ServiceRun& run, Deadline deadline, bool run_user_hook) {
    for (auto it = run.transports.rbegin(); it != run.transports.rend(); ++it) {
      std::exception_ptr error;
      try {
        co_await (*it)->stop(deadline);
      } catch (...) {
        error = std::current_exception();
      }
      if (error) log_uncaught_exception(error);
    }
    if (run_user_hook)
      co_await run_hook(run, &Service::stop_service, "stop_service", "lifecycle.teardown");
  }

  /// Runs a lifecycle hook with its logger context: Service::logger() is
  /// `tomodachi.lifecycle.handler` with handler, type and event while it runs.
  static Task<void> hook_in_context(ServiceRun& run, Hook hook, std::string hook_name,
                                    std::string event) {
    detail::ServiceState& state = detail::service_state(*run.service);
    state.current_hook = detail::HookContext{std::move(hook_name), std::move(event)};
    std::exception_ptr error;
    try {
      co_await ((*run.service).*hook)();
    } catch (...) {
      error = std::current_exception();
    }
    state.current_hook.reset();
    if (error) std::rethrow_exception(error);
  }

  /// A stop hook: its exception is logged and does not change the exit code.
  static Task<void> run_hook(ServiceRun& run, Hook hook, std::string hook_name, std::string event) {
    co_await logged(hook_in_context(run, hook, std::move(hook_name), std::move(event)));
  }

  static Task<void> logged(Task<void> task) {
    std::exception_ptr error;
    try {
      co_await std::move(task);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) log_uncaught_exception(error);
  }

  static Task<void> when_all_logged(std::vector<Task<void>> tasks) {
    auto errors = co_await core::when_all(std::move(tasks));
    for (const auto& error : errors) {
      if (error) log_uncaught_exception(error);
    }
  }

  /// Now + the largest `http.termination_grace_period_seconds` of the services created so
  /// far (30 when none is set or a value is not positive, as upstream's `int(x or 30)`).
  Deadline stop_deadline() {
    if (!deadline_) {
      int grace = 0;
      for (auto& container : containers_) {
        for (auto& run : container->services) {
          grace = std::max(grace, run.service->options.http.termination_grace_period_seconds);
        }
      }
      if (grace <= 0) grace = 30;
      deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(grace);
    }
    return *deadline_;
  }

 public:
  std::optional<Deadline> deadline() const { return deadline_; }

 private:
  asio::io_context& io_;
  detail::LaunchOptions options_;
  core::Event stop_event_;
  std::vector<std::unique_ptr<ContainerRun>> containers_;
  std::vector<std::shared_ptr<asio::cancellation_signal>> start_cancellations_;
  std::vector<std::function<Task<void>(Deadline)>> process_drains_;
  std::optional<Deadline> deadline_;
  bool stop_requested_ = false;
  bool restart_ = false;
  bool restart_allowed_ = true;
};

void init_execution_context(bool watcher_enabled) {
  utsname system{};
  uname(&system);
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  detail::reset_execution_context(boost::json::object{
      {"tomodachi_version", std::string(version)},
      // The language level as the banner shows it ("C++20"), not the raw __cplusplus (202002).
      {"cpp_version",
       std::string("GCC ") + __VERSION__ + ", C++" + std::to_string(__cplusplus / 100 % 100)},
      {"system_platform", system.sysname},
      {"process_id", static_cast<std::int64_t>(getpid())},
      {"init_timestamp", iso8601_utc(std::chrono::system_clock::now())},
      {"event_loop", "asio"},
      {"asio_version", std::to_string(BOOST_ASIO_VERSION / 100000) + "." +
                           std::to_string(BOOST_ASIO_VERSION / 100 % 1000) + "." +
                           std::to_string(BOOST_ASIO_VERSION % 100)},
      {"cwd", cwd.string()},
      {"watcher_enabled", watcher_enabled},
  });
}

/// Handles SIGINT/SIGTERM on the loop; a second signal ends the process at once.
class SignalHandling {
 public:
  SignalHandling(asio::io_context& io, Launch& launch)
      : signals_(io, SIGINT, SIGTERM), launch_(launch) {
    arm();
  }
  void cancel() {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }

 private:
  void arm() {
    signals_.async_wait([this](const boost::system::error_code& error, int signal_number) {
      if (error) return;
      on_signal(signal_number);
      arm();
    });
  }

  void on_signal(int signal_number) {
    if (signal_number == SIGINT) {
      std::fputs("\b\b\r", stdout);  // erases a terminal's ^C, as upstream does on every SIGINT
      std::fflush(stdout);
    }
    const char* name = signal_number == SIGINT ? "SIGINT" : "SIGTERM";
    const LogFields fields = {{"signal", name},
                              {"process_id", static_cast<std::int64_t>(getpid())}};
    if (++signals_received_ > 1) {
      get_logger("tomodachi.signal")
          .warning("received another signal while stopping - stopping at once", fields);
      std::_Exit(128 + signal_number);
    }
    if (signal_number == SIGINT) {
      get_logger("tomodachi.signal").warning("interrupt signal <ctrl+c>", fields);
    } else {
      get_logger("tomodachi.signal").warning("received termination signal", fields);
    }
    launch_.forbid_restart();
    launch_.request_stop(false);
  }

  asio::signal_set signals_;
  Launch& launch_;
  int signals_received_ = 0;
};

}  // namespace

namespace detail {

LaunchResult launch(std::vector<Container> containers, const LaunchOptions& options) {
  set_service_exit_code(0);
  init_execution_context(options.watcher_enabled);
  detail::clear_instances();
  detail::reset_loop();
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context& io = detail::loop();

  Launch launch_state(io, options);
  current_launch.store(&launch_state);
  SignalHandling signals(io, launch_state);

  bool finished = false;
  asio::co_spawn(io, launch_state.run(std::move(containers)), [&](std::exception_ptr error) {
    if (error) log_uncaught_exception(error);
    finished = true;
    signals.cancel();
    io.stop();  // leftover work (a spawned background loop, a blocking job) must not hold the exit
  });

  // Run until every container stopped; at the stop deadline, give up on what remains.
  while (!finished) {
    if (auto deadline = launch_state.deadline()) {
      io.run_until(*deadline);
      if (!finished && std::chrono::steady_clock::now() >= *deadline) {
        get_logger("tomodachi.lifecycle")
            .warning("stop sequence did not finish within the grace period - exiting",
                     {{"state", "terminated"}});
        current_launch.store(nullptr);
        std::fflush(nullptr);
        std::_Exit(service_exit_code() != 0 ? service_exit_code() : 1);
      }
    } else {
      io.run_for(100ms);
    }
    if (io.stopped() && !finished) io.restart();
  }
  current_launch.store(nullptr);
  LaunchResult result{service_exit_code(), launch_state.restart(), launch_state.interrupted()};
  signals.cancel();
  io.run_for(0ms);
  launch_state.destroy_services();
  // The loop outlives this function's timers and signal set; the next launch replaces it.
  return result;
}

void request_restart() {
  if (!current_launch.load()) return;
  asio::post(detail::loop(), [] {
    if (Launch* l = current_launch.load()) l->request_stop(true);
  });
}

bool is_running() {
  Launch* launch_state = current_launch.load();
  return launch_state && !launch_state->stop_requested();
}

}  // namespace detail

void on_process_stop(std::function<Task<void>(Deadline)> drain) {
  if (Launch* launch_state = current_launch.load())
    launch_state->add_process_drain(std::move(drain));
}

void exit(std::optional<int> code) {
  if (code) set_service_exit_code(*code);
  const int exit_code = service_exit_code();
  get_logger("tomodachi.exit")
      .warning("tomodachi.exit [" + std::to_string(exit_code) + "] was called",
               {{"exit_code", exit_code}});
  if (!current_launch.load()) return;
  asio::post(detail::loop(), [] {
    if (Launch* l = current_launch.load()) {
      l->forbid_restart();
      l->request_stop(false);
    }
  });
}

int service_exit_code() noexcept { return exit_code_value.load(); }
void set_service_exit_code(int code) noexcept { exit_code_value.store(code); }

}  // namespace tomodachi
