#include "envelope/envelope_common.hpp"

#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>

#include "core/encoding.hpp"

#include <zlib.h>

#include <boost/json/memory_resource.hpp>
#include <boost/json/storage_ptr.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <new>
#include <system_error>

namespace tomodachi::envelope_impl {

std::string_view kind_name(const boost::json::value& value) noexcept {
  switch (value.kind()) {
    case boost::json::kind::object:
      return "object";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case boost::json::kind::null:
      return "null";
    default:
      return "number";
  }
}

std::string decode_base64_strict(std::string_view text, std::string_view envelope) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      throw EnvelopeError(std::string(envelope) + ": base64 text contains non-ASCII characters");
    }
  }
  std::optional<std::string> bytes = encoding::base64_decode(text);
  if (!bytes) throw EnvelopeError(std::string(envelope) + ": invalid base64 (incorrect padding)");
  return std::move(*bytes);
}

std::string inflate(std::string_view compressed, std::size_t max_size, std::string_view envelope) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK)
    throw EnvelopeError(std::string(envelope) + ": zlib initialisation failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 16384> chunk{};
  int status = Z_OK;
  bool too_large = false;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (out.size() + produced > max_size) {
      too_large = true;
      break;
    }
    out.append(chunk.data(), produced);
    if (status == Z_STREAM_END) break;  // trailing bytes are ignored, as by Python's zlib
    if (status != Z_OK) break;
    if (stream.avail_in == 0 && produced == 0) {
      status = Z_BUF_ERROR;  // truncated stream
      break;
    }
  }
  inflateEnd(&stream);
  if (too_large) {
    throw EnvelopeError(std::string(envelope) + ": compressed data inflates beyond the limit of " +
                        std::to_string(max_size) + " bytes");
  }
  if (status != Z_STREAM_END) {
    throw EnvelopeError(std::string(envelope) +
                        (status == Z_BUF_ERROR
                             ? ": incomplete or truncated zlib stream"
                             : ": invalid zlib stream (incorrect header or corrupt data)"));
  }
  return out;
}

namespace {

struct BudgetExceeded : std::bad_alloc {
  const char* what() const noexcept override { return "JSON parse budget exceeded"; }
};

// What a BudgetResource counts. Shared with the parse that seals it: Boost.JSON keeps a
// shared resource as a member of its own wrapper, out of reach once made.
struct Budget {
  std::size_t limit = 0;
  std::size_t held = 0;
  bool sealed = false;
};

// Counts the bytes held while parsing and refuses to exceed the budget; sealed after the
// parse, it only forwards to operator new/delete (no shared mutable state).
class BudgetResource final : public boost::json::memory_resource {
 public:
  explicit BudgetResource(std::shared_ptr<Budget> budget) noexcept : budget_(std::move(budget)) {}

 private:
  static bool over_aligned(std::size_t alignment) noexcept {
    return alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  }

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    Budget& budget = *budget_;
    if (!budget.sealed) {
      if (bytes > budget.limit - budget.held) throw BudgetExceeded();
      budget.held += bytes;
    }
    return over_aligned(alignment) ? ::operator new(bytes, std::align_val_t(alignment))
                                   : ::operator new(bytes);
  }

  void do_deallocate(void* pointer, std::size_t bytes, std::size_t alignment) override {
    if (!budget_->sealed) budget_->held -= bytes;
    if (over_aligned(alignment)) {
      ::operator delete(pointer, std::align_val_t(alignment));
    } else {
      ::operator delete(pointer);
    }
  }

  bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::shared_ptr<Budget> budget_;
};

}  // namespace

boost::json::value parse_json_within(std::string_view text, std::size_t max_bytes,
                                     std::string_view what) {
  const auto budget = std::make_shared<Budget>(Budget{max_bytes});
  boost::json::storage_ptr storage = boost::json::make_shared_resource<BudgetResource>(budget);
  std::error_code error;
  const auto parse = [&]() -> boost::json::value {
    try {
      return json::loads(text, error, 512, storage);
    } catch (const BudgetExceeded&) {
      throw EnvelopeError(std::string(what) + " needs more than " + std::to_string(max_bytes) +
                          " bytes of memory when parsed (the limit)");
    }
  };
  boost::json::value value = parse();  // constructed, not assigned: it keeps `storage`
  budget->sealed = true;
  if (error) throw EnvelopeError(std::string(what) + " is not valid JSON");
  return value;
}

double time_now() noexcept {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) /
         1e6;
}

}  // namespace tomodachi::envelope_impl
