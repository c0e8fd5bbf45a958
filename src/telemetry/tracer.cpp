// Tracer, sampler, the public trace:: API and the current-span slot of a coroutine chain.
#include "telemetry/tracer.hpp"

#include <tomodachi/detail/assert.hpp>
#include <tomodachi/logging.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cmath>

namespace tomodachi::telemetry {
namespace {

std::shared_ptr<const Tracer>& installed() {
  static auto* tracer = new std::shared_ptr<const Tracer>();
  return *tracer;
}
std::atomic<const Tracer*> installed_raw{nullptr};

// The current span of the running coroutine chain. Code outside `run_in_span` uses the
// thread's own slot.
struct ContextSlot {
  trace::Span span;
};
// Initial-exec TLS: libtomodachi is loaded with the program, and the slot is read on every
// resumption of a traced coroutine (the default model calls __tls_get_addr each time).
[[gnu::tls_model("initial-exec")]] thread_local ContextSlot thread_slot;
[[gnu::tls_model("initial-exec")]] thread_local ContextSlot* current_slot = nullptr;

ContextSlot& slot() { return current_slot != nullptr ? *current_slot : thread_slot; }

struct SlotGuard {
  explicit SlotGuard(ContextSlot* s) : previous(std::exchange(current_slot, s)) {}
  ~SlotGuard() { current_slot = previous; }
  ContextSlot* previous;
};

class ContextExecutor {
 public:
  ContextExecutor(boost::asio::any_io_executor inner, std::shared_ptr<ContextSlot> slot)
      : inner_(std::move(inner)), slot_(std::move(slot)) {}

  template <typename F>
  void execute(F f) const {
    inner_.execute([f = std::move(f), s = slot_]() mutable {
      SlotGuard guard(s.get());
      std::move(f)();
    });
  }
  template <typename P>
  auto query(const P& property) const
      -> decltype(boost::asio::query(std::declval<const boost::asio::any_io_executor&>(),
                                     property)) {
    return boost::asio::query(inner_, property);
  }
  template <typename P>
  auto require(const P& property) const
      -> decltype(boost::asio::require(std::declval<const boost::asio::any_io_executor&>(),
                                       property),
                  ContextExecutor(boost::asio::any_io_executor(), nullptr)) {
    return ContextExecutor(boost::asio::require(inner_, property), slot_);
  }
  template <typename P>
  auto prefer(const P& property) const
      -> decltype(boost::asio::prefer(std::declval<const boost::asio::any_io_executor&>(),
                                      property),
                  ContextExecutor(boost::asio::any_io_executor(), nullptr)) {
    return ContextExecutor(boost::asio::prefer(inner_, property), slot_);
  }
  const boost::asio::any_io_executor& inner() const noexcept { return inner_; }

  friend bool operator==(const ContextExecutor& a, const ContextExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.slot_ == b.slot_;
  }
  friend bool operator!=(const ContextExecutor& a, const ContextExecutor& b) noexcept {
    return !(a == b);
  }

 private:
  boost::asio::any_io_executor inner_;
  std::shared_ptr<ContextSlot> slot_;
};

void append_or_replace(Attributes& attributes, std::string key, AttributeValue value) {
  for (auto& kv : attributes) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::move(key), std::move(value));
}

}  // namespace

std::uint64_t unix_nanos_now() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

bool Sampler::should_sample(const TraceId& trace_id, const SpanContext* parent) const noexcept {
  auto ratio_sample = [&] {
    // opentelemetry-python's TraceIdRatioBased: the low 64 bits against round(ratio * 2^64).
    std::uint64_t low = 0;
    for (std::size_t i = 8; i < 16; ++i) low = low << 8 | trace_id[i];
    double bound = std::round(config_.ratio * 18446744073709551616.0);
    return bound >= 18446744073709551616.0 || static_cast<double>(low) < bound;
  };
  const bool has_parent = parent != nullptr && parent->valid();
  switch (config_.kind) {
    case SamplerKind::always_on:
      return true;
    case SamplerKind::always_off:
      return false;
    case SamplerKind::traceidratio:
      return ratio_sample();
    case SamplerKind::parentbased_always_on:
      return has_parent ? parent->sampled() : true;
    case SamplerKind::parentbased_always_off:
      return has_parent ? parent->sampled() : false;
    case SamplerKind::parentbased_traceidratio:
      return has_parent ? parent->sampled() : ratio_sample();
  }
  return true;
}

Tracer::Tracer(Sampler sampler, std::shared_ptr<SpanSink> sink)
    : sampler_(sampler), sink_(std::move(sink)) {}

trace::Span Tracer::start_span(std::string name, SpanKind kind, Attributes attributes,
                               const std::optional<SpanContext>& remote_parent,
                               ParentMode mode) const {
  SpanContext parent;
  if (remote_parent && remote_parent->valid()) {
    parent = *remote_parent;
  } else if (mode == ParentMode::current) {
    parent = context_of(slot().span);
  }
  auto state = std::make_shared<trace::detail::SpanState>();
  auto& data = state->data;
  data.trace_id = parent.valid() ? parent.trace_id : random_trace_id();
  data.span_id = random_span_id();
  if (parent.valid()) {
    data.parent_span_id = parent.span_id;
    data.parent_remote = parent.remote;
    data.trace_state = parent.trace_state;
  }
  const bool sampled = sampler_.should_sample(data.trace_id, parent.valid() ? &parent : nullptr);
  data.trace_flags = sampled ? 0x01 : 0x00;
  state->recording = sampled;
  if (sampled) {
    data.name = std::move(name);
    data.kind = kind;
    data.start_time_unix_nano = unix_nanos_now();
    data.attributes = std::move(attributes);
    state->sink = sink_;
  }
  return trace::Span(std::move(state));
}

const Tracer* tracer() noexcept { return installed_raw.load(std::memory_order_acquire); }

void install_tracer(std::shared_ptr<const Tracer> tracer) {
  installed_raw.store(tracer.get(), std::memory_order_release);
  installed() = std::move(tracer);
}

SpanContext context_of(const trace::Span& span) {
  SpanContext context;
  if (const auto& state = span.state()) {
    context.trace_id = state->data.trace_id;
    context.span_id = state->data.span_id;
    context.flags = state->data.trace_flags;
    context.trace_state = state->data.trace_state;
  }
  return context;
}

std::vector<std::pair<std::string, std::string>> current_trace_log_fields() {
  std::vector<std::pair<std::string, std::string>> fields;
  if (tracer() == nullptr) return fields;
  const auto& state = slot().span.state();
  if (!state) return fields;
  const auto& d = state->data;
  fields.emplace_back("span_id", python_hex(d.span_id.data(), d.span_id.size()));
  fields.emplace_back("trace_id", python_hex(d.trace_id.data(), d.trace_id.size()));
  if (d.has_parent())
    fields.emplace_back("parent_span_id",
                        python_hex(d.parent_span_id.data(), d.parent_span_id.size()));
  return fields;
}

boost::asio::any_io_executor context_executor(boost::asio::any_io_executor inner,
                                              trace::Span span) {
  auto s = std::make_shared<ContextSlot>();
  s->span = std::move(span);
  return ContextExecutor(std::move(inner), std::move(s));
}

bool in_context_chain() noexcept { return current_slot != nullptr; }

boost::asio::any_io_executor traced_executor(boost::asio::any_io_executor executor) {
  if (tracer() == nullptr) return executor;
  return context_executor(std::move(executor), trace::Span());
}

ChainSpanScope::ChainSpanScope(trace::Span span) {
  TOMODACHI_ASSERT(in_context_chain(), "ChainSpanScope inside a context_executor() chain");
  previous_ = std::exchange(current_slot->span, std::move(span));
}

ChainSpanScope::~ChainSpanScope() {
  // Resumed through the chain's executor, the slot is installed again; a frame destroyed
  // outside its chain (shutdown) has no slot to restore.
  if (current_slot != nullptr) current_slot->span = std::move(previous_);
}

boost::asio::any_io_executor without_context(boost::asio::any_io_executor executor) {
  while (const auto* bound = executor.target<ContextExecutor>()) {
    boost::asio::any_io_executor inner = bound->inner();
    executor = std::move(inner);
  }
  return executor;
}

}  // namespace tomodachi::telemetry

namespace tomodachi::trace {
namespace detail {

void SpanState::finish() {
  if (!recording) return;
  recording = false;
  data.end_time_unix_nano = telemetry::unix_nanos_now();
  if (auto s = std::move(sink)) s->on_end(std::move(data));
}

SpanState::~SpanState() { finish(); }

Task<void> run_in_span_erased(Span span, Task<void> task) {
  auto executor = co_await boost::asio::this_coro::executor;
  auto bound = telemetry::context_executor(executor, std::move(span));
  co_await boost::asio::co_spawn(bound, std::move(task), boost::asio::use_awaitable);
}

}  // namespace detail

bool Span::valid() const noexcept { return state_ != nullptr; }
bool Span::is_recording() const noexcept { return state_ != nullptr && state_->recording; }
TraceId Span::trace_id() const noexcept { return state_ ? state_->data.trace_id : TraceId{}; }
SpanId Span::span_id() const noexcept { return state_ ? state_->data.span_id : SpanId{}; }
std::string Span::trace_id_hex() const {
  return state_ ? telemetry::to_hex(state_->data.trace_id) : "";
}
std::string Span::span_id_hex() const {
  return state_ ? telemetry::to_hex(state_->data.span_id) : "";
}
std::string Span::parent_span_id_hex() const {
  return state_ && state_->data.has_parent() ? telemetry::to_hex(state_->data.parent_span_id) : "";
}

void Span::set_attribute(std::string key, AttributeValue value) {
  if (is_recording())
    telemetry::append_or_replace(state_->data.attributes, std::move(key), std::move(value));
}

void Span::add_event(std::string name, Attributes attributes) {
  if (!is_recording()) return;
  state_->data.events.push_back(
      {telemetry::unix_nanos_now(), std::move(name), std::move(attributes)});
}

void Span::record_exception(std::exception_ptr error, bool escaped) {
  if (!is_recording() || !error) return;
  Attributes attributes{
      {"exception.type", exception_type_name(error)},
      {"exception.message", describe_exception(error)},
      {"exception.stacktrace", std::string()},
      {"exception.escaped", escaped ? std::string("True") : std::string("False")}};
  add_event("exception", std::move(attributes));
}

void Span::set_status(StatusCode code, std::string description) {
  if (!is_recording()) return;
  // As the SDKs: OK is final; an UNSET never replaces a set status; only ERROR keeps text.
  if (state_->data.status == StatusCode::ok) return;
  if (code == StatusCode::unset) return;
  state_->data.status = code;
  state_->data.status_message = code == StatusCode::error ? std::move(description) : std::string();
}

void Span::update_name(std::string name) {
  if (is_recording()) state_->data.name = std::move(name);
}

void Span::end() {
  if (state_) state_->finish();
}

Span current_span() {
  if (telemetry::tracer() == nullptr) return {};
  return telemetry::slot().span;
}

Span start_span(std::string name, SpanKind kind, Attributes attributes) {
  const auto* t = telemetry::tracer();
  if (t == nullptr) return {};
  return t->start_span(std::move(name), kind, std::move(attributes));
}

Scope::Scope(Span span) {
  auto& s = telemetry::slot();
  slot_ = &s;
  previous_ = std::exchange(s.span, std::move(span));
}

Scope::~Scope() { static_cast<telemetry::ContextSlot*>(slot_)->span = std::move(previous_); }

}  // namespace tomodachi::trace
