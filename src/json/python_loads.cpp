// json.loads-compatible parsing: Boost.JSON for standard input, and a small
// recursive-descent parser for what only Python accepts (NaN, Infinity, lone
// surrogate escapes).
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace tomodachi::json {
namespace {

/// The double nearest to a JSON number literal; out of range like Python's float():
/// overflow gives ±inf, underflow ±0.0.
double exact_double(std::string_view literal) {
  double number = 0;
  const auto result = std::from_chars(literal.data(), literal.data() + literal.size(), number);
  if (result.ec == std::errc::result_out_of_range) {
    const bool negative = !literal.empty() && literal.front() == '-';
    const auto exponent = literal.find_first_of("eE");
    const bool underflow = exponent != std::string_view::npos && exponent + 1 < literal.size() &&
                           literal[exponent + 1] == '-';
    const double magnitude = underflow ? 0.0 : std::numeric_limits<double>::infinity();
    return negative ? -magnitude : magnitude;
  }
  return number;
}

/// True for a literal with neither fraction nor exponent: an integer, however long.
bool is_integer_literal(std::string_view literal) {
  return literal.find_first_of(".eE") == std::string_view::npos;
}

// Boost.JSON's value builder with one change: doubles are converted from their text with
// std::from_chars. Boost 1.81's own conversion is fast but not correctly rounded (about
// one literal in six comes out one ulp off), and a Python float must survive the trip.
struct ExactNumberHandler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  boost::json::value_stack stack;
  std::string number_text;

  explicit ExactNumberHandler(const boost::json::storage_ptr& storage) : stack(storage) {
    stack.reset(storage);
  }

  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number_text.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number_text.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number_text.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double, string_view s, error_code&) {
    number_text.append(s.data(), s.size());
    if (is_integer_literal(number_text)) {  // beyond int64/uint64: kept exactly
      stack.push_key(big_int_key);
      stack.push_string(number_text);
      stack.push_object(1);
    } else {
      stack.push_double(exact_double(number_text));
    }
    number_text.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

std::optional<boost::json::value> parse_standard_json(std::string_view text, std::size_t max_depth,
                                                      const boost::json::storage_ptr& storage) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::json::basic_parser<ExactNumberHandler> parser(options, storage);
  boost::system::error_code error;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), error);
  if (error || consumed != text.size() || !parser.done()) return std::nullopt;
  return parser.handler().stack.release();
}

struct ParseError : Error {
  std::size_t offset;
  ParseError(std::size_t at, const char* message) : Error(message), offset(at) {}
};

class PythonJsonParser {
 public:
  PythonJsonParser(std::string_view text, std::size_t max_depth, boost::json::storage_ptr storage)
      : text_(text), max_depth_(max_depth), storage_(std::move(storage)) {}

  boost::json::value parse_document() {
    skip_whitespace();
    boost::json::value result = parse_value(0);
    skip_whitespace();
    if (position_ != text_.size()) fail("Extra data");
    return result;
  }

 private:
  [[noreturn]] void fail(const char* message) const { throw ParseError(position_, message); }

  void skip_whitespace() {
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++position_;
    }
  }

  bool consume(std::string_view literal) {
    if (text_.substr(position_, literal.size()) == literal) {
      position_ += literal.size();
      return true;
    }
    return false;
  }

  boost::json::value parse_value(std::size_t depth) {
    if (position_ >= text_.size()) fail("Expecting value");
    const char c = text_[position_];
    switch (c) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"':
        return boost::json::value(boost::json::string(parse_string(), storage_));
      default:
        break;
    }
    if (consume("null")) return boost::json::value(nullptr, storage_);
    if (consume("true")) return boost::json::value(true, storage_);
    if (consume("false")) return boost::json::value(false, storage_);
    if (consume("NaN"))
      return boost::json::value(std::numeric_limits<double>::quiet_NaN(), storage_);
    if (consume("Infinity"))
      return boost::json::value(std::numeric_limits<double>::infinity(), storage_);
    if (consume("-Infinity"))
      return boost::json::value(-std::numeric_limits<double>::infinity(), storage_);
    return parse_number();
  }

  boost::json::value parse_object(std::size_t depth) {
    if (depth > max_depth_) fail("Too deeply nested");
    ++position_;  // '{'
    boost::json::object object(storage_);
    skip_whitespace();
    if (position_ < text_.size() && text_[position_] == '}') {
      ++position_;
      return object;
    }
    while (true) {
      skip_whitespace();
      if (position_ >= text_.size() || text_[position_] != '"') {
        fail("Expecting property name enclosed in double quotes");
      }
      std::string key = parse_string();
      skip_whitespace();
      if (position_ >= text_.size() || text_[position_] != ':') fail("Expecting ':' delimiter");
      ++position_;
      skip_whitespace();
      object[key] = parse_value(depth);
      skip_whitespace();
      if (position_ < text_.size() && text_[position_] == ',') {
        ++position_;
        continue;
      }
      if (position_ < text_.size() && text_[position_] == '}') {
        ++position_;
        return object;
      }
      fail("Expecting ',' delimiter");
    }
  }

  boost::json::value parse_array(std::size_t depth) {
    if (depth > max_depth_) fail("Too deeply nested");
    ++position_;  // '['
    boost::json::array array(storage_);
    skip_whitespace();
    if (position_ < text_.size() && text_[position_] == ']') {
      ++position_;
      return array;
    }
    while (true) {
      skip_whitespace();
      array.push_back(parse_value(depth));
      skip_whitespace();
      if (position_ < text_.size() && text_[position_] == ',') {
        ++position_;
        continue;
      }
      if (position_ < text_.size() && text_[position_] == ']') {
        ++position_;
        return array;
      }
      fail("Expecting ',' delimiter");
    }
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::uint32_t parse_hex4() {
    if (position_ + 4 > text_.size()) fail("Invalid \\uXXXX escape");
    std::uint32_t value = 0;
    auto [end, ec] =
        std::from_chars(text_.data() + position_, text_.data() + position_ + 4, value, 16);
    if (ec != std::errc{} || end != text_.data() + position_ + 4) fail("Invalid \\uXXXX escape");
    position_ += 4;
    return value;
  }

  // Validates one raw UTF-8 sequence and copies it.
  void copy_utf8_sequence(std::string& out) {
    const auto lead = static_cast<unsigned char>(text_[position_]);
    int length = (lead & 0xE0) == 0xC0   ? 2
                 : (lead & 0xF0) == 0xE0 ? 3
                 : (lead & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (length == 0 || position_ + length > text_.size()) fail("Invalid UTF-8");
    std::uint32_t code = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (int k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(text_[position_ + k]);
      if ((c & 0xC0) != 0x80) fail("Invalid UTF-8");
      code = (code << 6) | (c & 0x3F);
    }
    const std::uint32_t minimum = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      fail("Invalid UTF-8");
    out.append(text_.data() + position_, static_cast<std::size_t>(length));
    position_ += static_cast<std::size_t>(length);
  }

  std::string parse_string() {
    ++position_;  // opening quote
    std::string out;
    while (true) {
      if (position_ >= text_.size()) fail("Unterminated string starting at");
      const auto c = static_cast<unsigned char>(text_[position_]);
      if (c == '"') {
        ++position_;
        return out;
      }
      if (c < 0x20) fail("Invalid control character");
      if (c >= 0x80) {
        copy_utf8_sequence(out);
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++position_;
        continue;
      }
      ++position_;
      if (position_ >= text_.size()) fail("Unterminated string starting at");
      const char escape = text_[position_++];
      switch (escape) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t code = parse_hex4();
          if (code >= 0xD800 && code <= 0xDBFF && text_.substr(position_, 2) == "\\u") {
            const std::size_t saved = position_;
            position_ += 2;
            const std::uint32_t low = parse_hex4();
            if (low >= 0xDC00 && low <= 0xDFFF) {
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            } else {
              position_ = saved;
            }
          }
          // A lone surrogate (valid in a Python str) has no UTF-8 form: U+FFFD.
          if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;
          append_utf8(out, code);
          break;
        }
        default:
          fail("Invalid \\escape");
      }
    }
  }

  boost::json::value parse_number() {
    const std::size_t start = position_;
    if (position_ < text_.size() && text_[position_] == '-') ++position_;
    if (position_ >= text_.size()) fail("Expecting value");
    if (text_[position_] == '0') {
      ++position_;
    } else if (text_[position_] >= '1' && text_[position_] <= '9') {
      while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_])))
        ++position_;
    } else {
      position_ = start;
      fail("Expecting value");
    }
    bool is_integer = true;
    if (position_ < text_.size() && text_[position_] == '.') {
      const std::size_t dot = position_++;
      if (position_ >= text_.size() ||
          !std::isdigit(static_cast<unsigned char>(text_[position_]))) {
        position_ = dot;  // Python stops before a dangling '.', which then is extra data
      } else {
        is_integer = false;
        while (position_ < text_.size() &&
               std::isdigit(static_cast<unsigned char>(text_[position_])))
          ++position_;
      }
    }
    if (position_ < text_.size() && (text_[position_] == 'e' || text_[position_] == 'E')) {
      const std::size_t mark = position_++;
      if (position_ < text_.size() && (text_[position_] == '+' || text_[position_] == '-'))
        ++position_;
      if (position_ >= text_.size() ||
          !std::isdigit(static_cast<unsigned char>(text_[position_]))) {
        position_ = mark;
      } else {
        is_integer = false;
        while (position_ < text_.size() &&
               std::isdigit(static_cast<unsigned char>(text_[position_])))
          ++position_;
      }
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + position_;
    if (is_integer) {
      std::int64_t signed_value = 0;
      if (auto r = std::from_chars(first, last, signed_value);
          r.ec == std::errc{} && r.ptr == last) {
        return boost::json::value(signed_value, storage_);
      }
      std::uint64_t unsigned_value = 0;
      if (auto r = std::from_chars(first, last, unsigned_value);
          r.ec == std::errc{} && r.ptr == last) {
        return boost::json::value(unsigned_value, storage_);
      }
      boost::json::object holder(storage_);
      holder.emplace(big_int_key,
                     boost::json::string(std::string_view(first, last - first), storage_));
      return holder;
    }
    const std::string_view literal(first, static_cast<std::size_t>(last - first));
    double number = 0;
    if (std::from_chars(first, last, number).ec == std::errc::invalid_argument)
      fail("Expecting value");
    number = exact_double(literal);
    return boost::json::value(number, storage_);
  }

  std::string_view text_;
  std::size_t max_depth_;
  boost::json::storage_ptr storage_;
  std::size_t position_ = 0;
};

/// `line L column C (char N)` as Python's json.JSONDecodeError counts them: characters
/// (code points), lines split at '\n'.
std::string error_position(std::string_view text, std::size_t offset) {
  std::size_t chars = 0;
  std::size_t line = 1;
  std::size_t last_newline = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (c == '\n') {
      ++line;
      last_newline = chars;
    }
    ++chars;
  }
  const std::size_t column = line == 1 ? chars + 1 : chars - last_newline;
  return "line " + std::to_string(line) + " column " + std::to_string(column) + " (char " +
         std::to_string(chars) + ")";
}

}  // namespace

boost::json::value loads(std::string_view text, std::error_code& error, std::size_t max_depth,
                         boost::json::storage_ptr storage) {
  error.clear();
  if (auto value = parse_standard_json(text, max_depth, storage)) return std::move(*value);
  try {
    return PythonJsonParser(text, max_depth, std::move(storage)).parse_document();
  } catch (const ParseError&) {
    error = std::make_error_code(std::errc::invalid_argument);
    return nullptr;
  }
}

boost::json::value loads(std::string_view text, std::size_t max_depth) {
  if (auto value = parse_standard_json(text, max_depth, {})) return std::move(*value);
  try {
    return PythonJsonParser(text, max_depth, {}).parse_document();
  } catch (const ParseError& e) {
    throw ArgumentError(std::string(e.what()) + ": " + error_position(text, e.offset));
  }
}

}  // namespace tomodachi::json
